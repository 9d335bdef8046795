"""Coverage-guided fuzzing of the SIP parser with atheris (libFuzzer for Python).

Run:  .venv/bin/pip install atheris   (wheels exist for CPython 3.11 on Linux x86-64)
      .venv/bin/python tests/sip/atheris_parser.py -max_total_time=60 [corpus-dir]

The property: parse_message returns a message or raises SipParseError, for any bytes, over UDP
and stream framing; a message that parses serialises and parses again to the same bytes; an
answerable error builds a response. Any other exception is a crash libFuzzer reports with the
input that caused it. Not collected by pytest (the name does not start with test_).
"""
from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from hearthline.sip.errors import SipParseError
    from hearthline.sip.message import Request, make_response, parse_message


def check(data: bytes) -> None:
    for stream in (False, True):
        try:
            message = parse_message(data, stream=stream)
        except SipParseError as err:
            if not 400 <= err.status < 600:
                raise AssertionError(f"status {err.status}") from err
            if err.request is not None:
                make_response(err.request, err.status, err.reason, to_tag="t").to_bytes()
            continue
        serialised = message.to_bytes()
        if parse_message(serialised, stream=True).to_bytes() != serialised:
            raise AssertionError("serialising is not stable")
        if isinstance(message, Request):
            make_response(message, 200, to_tag="t").to_bytes()


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
