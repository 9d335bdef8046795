"""Pure parts of the SIP transport: Via stamping (RFC 3261 §18.2.1, RFC 3581) and log limiting."""
from __future__ import annotations

import logging

import pytest

from hearthline.sip import parse_message
from hearthline.sip.message import Request
from hearthline.sip.transport import RateLimitedWarnings, Source, stamp_received


def request_with_via(via: str) -> Request:
    message = parse_message(
        f"OPTIONS sip:s@h SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP second.example.com\r\n"
        "From: <sip:a@h>;tag=1\r\nTo: <sip:s@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n".encode())
    assert isinstance(message, Request)
    return message


def test_received_is_added_when_sent_by_differs_from_the_source() -> None:
    request = request_with_via("SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK1")
    stamp_received(request, Source("UDP", "192.0.2.1", 5060))
    assert request.top_via.received == "192.0.2.1"
    assert request.vias[1].received is None


def test_nothing_is_added_when_sent_by_is_the_source_address() -> None:
    request = request_with_via("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1")
    stamp_received(request, Source("UDP", "192.0.2.1", 6000))
    assert request.top_via.received is None
    assert "rport" not in request.top_via.params


def test_rport_is_filled_and_received_always_added_when_asked_for() -> None:
    request = request_with_via("SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bK1")
    stamp_received(request, Source("UDP", "192.0.2.1", 6000))
    via = request.top_via
    assert (via.received, via.rport, via.branch) == ("192.0.2.1", 6000, "z9hG4bK1")
    assert str(via) == "SIP/2.0/UDP 192.0.2.1:5070;rport=6000;branch=z9hG4bK1;received=192.0.2.1"


def test_warnings_are_rate_limited_and_the_suppressed_ones_counted(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    warnings = RateLimitedWarnings(logging.getLogger("test.sip"), burst=3, interval=60,
                                   clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.sip"):
        for number in range(10):
            warnings.warning("drop %d", number)
        now[0] = 61.0
        warnings.warning("drop again")
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["drop 0", "drop 1", "drop 2", "7 similar warnings suppressed in the last 61 s",
                        "drop again"]
