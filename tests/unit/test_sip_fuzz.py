"""Fuzzing the SIP parser: whatever the bytes, it returns a message or raises SipParseError.

Random bytes, random mutations of valid messages, and messages stitched together from SIP-ish
pieces. A message that parses must also serialise and parse again to the same bytes.
The coverage-guided version of this is tests/sip/atheris_parser.py (atheris).
"""
from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hearthline.sip import SipParseError, parse_address, parse_message, parse_uri
from hearthline.sip.headers import parse_cseq, parse_via
from hearthline.sip.message import Request, make_response

SEEDS = [
    (b"OPTIONS sip:carol@chicago.com SIP/2.0\r\n"
     b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877;rport\r\n"
     b"Max-Forwards: 70\r\nTo: <sip:carol@chicago.com>\r\n"
     b"From: \"Alice\" <sip:alice@atlanta.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\n"
     b"CSeq: 63104 OPTIONS\r\nContact: <sip:alice@pc33.atlanta.com>\r\nAccept: application/sdp\r\n"
     b"Content-Length: 0\r\n\r\n"),
    (b"INVITE sips:bob@[2001:db8::1]:5061;transport=tcp SIP/2.0\r\n"
     b"v: SIP/2.0/TCP [2001:db8::2]:5070;branch=z9hG4bK776asdhds, SIP/2.0/UDP h;branch=z9hG4bK2\r\n"
     b"f: sip:alice@atlanta.com;tag=1\r\nt: Bob <sip:bob@biloxi.com>\r\ni: x@y\r\n"
     b"CSeq: 1 INVITE\r\nSubject: folded\r\n line\r\nc: application/sdp\r\nl: 4\r\n\r\nv=0\r\n"),
    (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1;received=192.0.2.1;rport=5070\r\n"
     b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 7 OPTIONS\r\n"
     b"Content-Length: 0\r\n\r\n"),
]

INTERESTING = [b"\r\n", b"\r", b"\n", b"\x00", b" ", b"\t", b":", b";", b",", b"<", b">", b'"',
               b"\\", b"@", b"[", b"]", b"=", b"?", b"&", b"%", b"-1", b"4294967296", b"\xff",
               b"\xc3\xa9", b"SIP/2.0", b"\r\n ", b"Content-Length: 99\r\n", b"l: 0\r\n",
               b"\r\n\r\n", "\u0661".encode(), "\u0663".encode()]


def parses_or_raises_sip_parse_error(data: bytes, stream: bool = False) -> None:
    try:
        message = parse_message(data, stream=stream)
    except SipParseError as err:
        assert 400 <= err.status < 600
        if err.request is not None:
            make_response(err.request, err.status, err.reason, to_tag="t").to_bytes()
        return
    serialised = message.to_bytes()
    again = parse_message(serialised, stream=True)
    assert again.to_bytes() == serialised
    if isinstance(message, Request):
        make_response(message, 200, to_tag="t").to_bytes()


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=3000))
@example(b"")
@example(b"\r\n\r\n")
@example(b"SIP/2.0 200 OK\r\n\r\n")
def test_random_bytes_never_raise_anything_but_sip_parse_error(data: bytes) -> None:
    parses_or_raises_sip_parse_error(data)
    parses_or_raises_sip_parse_error(data, stream=True)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "interesting"]))
        if action == "flip" and position < len(data):
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[position:position + draw(st.integers(1, 20))]
        elif action == "duplicate":
            end = min(len(data), position + draw(st.integers(1, 60)))
            data[position:position] = data[position:end]
        else:
            data[position:position] = draw(st.sampled_from(INTERESTING))
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_valid_messages_never_raise_anything_but_sip_parse_error(data: bytes) -> None:
    parses_or_raises_sip_parse_error(data)
    parses_or_raises_sip_parse_error(data, stream=True)


FIRST_LINES = ["OPTIONS sip:a@b SIP/2.0", "SIP/2.0 200 OK", "FOO sip:[::1] SIP/2.0",
               "INVITE sips:a@b:5061;lr SIP/2.0", "OPTIONS tel:1 SIP/2.0", "OPTIONS sip:a@b SIP/2.1"]
HEADER_NAMES = ["Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Max-Forwards",
                "Content-Length", "l", "Contact", "m", "Route", "Require", "X-Other"]
VALUE_PIECES = ["SIP/2.0/UDP ", "h.example.com", "[::1]", ":5060", ";branch=z9hG4bK1", ";rport",
                ";received=", "1.2.3.4", "<sip:a@b>", "sip:", "\"a\\\"b\"", ";tag=1", "1 OPTIONS",
                "70", "0", ",", " ", "\t", "@", "<", ">", "\"", "%4", "é", "-", "99999999999"]


@st.composite
def stitched(draw: st.DrawFn) -> bytes:
    """A valid seed with some header values replaced by SIP-ish pieces and some headers added."""
    head, _, body = draw(st.sampled_from(SEEDS)).partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(1, len(lines) - 1))
        name = lines[index].partition(":")[0]
        value = "".join(draw(st.lists(st.sampled_from(VALUE_PIECES), max_size=6)))
        lines[index] = f"{name}: {value}"
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(HEADER_NAMES))
        value = "".join(draw(st.lists(st.sampled_from(VALUE_PIECES), max_size=6)))
        lines.insert(draw(st.integers(1, len(lines))), f"{name}: {value}")
    if draw(st.booleans()):
        lines[0] = draw(st.sampled_from(FIRST_LINES))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@FUZZ
@given(stitched())
def test_stitched_messages_never_raise_anything_but_sip_parse_error(data: bytes) -> None:
    parses_or_raises_sip_parse_error(data)


@FUZZ
@given(st.text(max_size=200))
def test_header_and_uri_parsers_never_raise_anything_but_sip_parse_error(text: str) -> None:
    for parse in (parse_uri, parse_address, parse_via, parse_cseq):
        try:
            result = parse(text)
        except SipParseError:
            continue
        assert parse(str(result)) == result  # type: ignore[operator]
