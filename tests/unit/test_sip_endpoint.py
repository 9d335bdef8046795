"""The UAS core and its server transactions (RFC 3261 §8.2, §9.2, §17.2), on a hand-moved clock."""
from __future__ import annotations

from hearthline.sip import Response, parse_message
from hearthline.sip.endpoint import Endpoint, TransactionState
from hearthline.sip.message import Request
from hearthline.sip.timers import ManualScheduler
from hearthline.sip.transport import Source

UDP = Source("UDP", "127.0.0.1", 5070)
TCP = Source("TCP", "127.0.0.1", 40000)


class RecordingSender:
    """Collects what the endpoint sends, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[Response, Source]] = []

    def send_response(self, response: Response, source: Source) -> None:
        self.sent.append((response, source))

    @property
    def statuses(self) -> list[int]:
        return [response.status for response, _ in self.sent]


def request(method: str = "OPTIONS", *, branch: str = "z9hG4bK-1", cseq: int = 1,
            cseq_method: str | None = None, extra: tuple[str, ...] = (),
            max_forwards: int = 70, transport: str = "UDP") -> Request:
    lines = [
        f"{method} sip:service@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/{transport} 127.0.0.1:5070;branch={branch}",
        f"Max-Forwards: {max_forwards}",
        "From: <sip:alice@127.0.0.1>;tag=a1",
        "To: <sip:service@127.0.0.1>",
        "Call-ID: call-1@127.0.0.1",
        f"CSeq: {cseq} {cseq_method or method}",
        *extra,
        "Content-Length: 0",
    ]
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, Request)
    return message


def make_endpoint() -> tuple[Endpoint, RecordingSender, ManualScheduler]:
    sender = RecordingSender()
    clock = ManualScheduler()
    return Endpoint(sender, clock), sender, clock


def test_options_is_answered_200_with_allow_accept_and_supported() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request(), UDP)
    [(response, destination)] = sender.sent
    assert response.status == 200 and destination == UDP
    assert response.headers.get("Allow") == "OPTIONS"
    assert response.headers.get("Accept") == "application/sdp"
    assert "Supported" in response.headers
    assert response.to.tag
    assert response.call_id == "call-1@127.0.0.1"


def test_a_retransmitted_request_gets_the_same_response_and_reaches_the_core_once() -> None:
    endpoint, sender, clock = make_endpoint()
    endpoint.receive(request(), UDP)
    clock.advance(1.0)
    endpoint.receive(request(), UDP)
    first, second = (response for response, _ in sender.sent)
    assert first is second
    assert len(endpoint.transactions) == 1


def test_timer_j_keeps_a_udp_transaction_64_t1_then_forgets_it() -> None:
    endpoint, sender, clock = make_endpoint()
    endpoint.receive(request(), UDP)
    clock.advance(31.9)
    assert len(endpoint.transactions) == 1
    clock.advance(0.2)
    assert endpoint.transactions == {}
    endpoint.receive(request(), UDP)  # now a new request: a new response with a new To tag
    assert sender.sent[0][0].to.tag != sender.sent[1][0].to.tag


def test_timer_j_is_zero_over_tcp() -> None:
    endpoint, _, clock = make_endpoint()
    endpoint.receive(request(transport="TCP"), TCP)
    clock.advance(0)
    assert endpoint.transactions == {}


def test_different_branches_are_different_transactions() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request(branch="z9hG4bK-1"), UDP)
    endpoint.receive(request(branch="z9hG4bK-2"), UDP)
    assert len(endpoint.transactions) == 2
    assert sender.sent[0][0] is not sender.sent[1][0]


def test_rfc_2543_requests_without_the_magic_cookie_are_matched_too() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request(branch="old-style-1"), UDP)
    endpoint.receive(request(branch="old-style-1"), UDP)
    assert sender.sent[0][0] is sender.sent[1][0]


def test_unknown_methods_get_501_with_allow() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request("FROBNICATE"), UDP)
    [(response, _)] = sender.sent
    assert response.status == 501
    assert response.headers.get("Allow") == "OPTIONS"


def test_known_methods_not_handled_yet_get_405_with_allow() -> None:
    endpoint, sender, _ = make_endpoint()
    for number, method in enumerate(["REGISTER", "BYE", "INFO", "REFER", "NOTIFY", "MESSAGE"]):
        endpoint.receive(request(method, branch=f"z9hG4bK-{method}", cseq=number + 1), UDP)
    assert sender.statuses == [405] * 6
    assert all(response.headers.get("Allow") == "OPTIONS" for response, _ in sender.sent)


def test_max_forwards_zero_gets_483_except_for_options() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request("BYE", max_forwards=0), UDP)
    endpoint.receive(request("OPTIONS", branch="z9hG4bK-2", max_forwards=0), UDP)
    assert sender.statuses == [483, 200]


def test_a_required_extension_we_lack_gets_420_with_unsupported() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request(extra=("Require: 100rel, timer",)), UDP)
    [(response, _)] = sender.sent
    assert response.status == 420
    assert response.headers.get("Unsupported") == "100rel, timer"


def test_a_rejected_invite_is_retransmitted_on_timer_g_until_the_ack() -> None:
    endpoint, sender, clock = make_endpoint()
    endpoint.receive(request("INVITE"), UDP)
    assert sender.statuses == [405]
    clock.advance(0.5)  # G = T1
    clock.advance(1.0)  # then 2*T1
    clock.advance(2.0)  # then 4*T1
    assert sender.statuses == [405] * 4
    endpoint.receive(request("ACK", cseq_method="ACK"), UDP)
    transaction = next(iter(endpoint.transactions.values()))
    assert transaction.state is TransactionState.CONFIRMED
    clock.advance(4.0)
    assert sender.statuses == [405] * 4  # no more retransmissions after the ACK
    clock.advance(1.1)  # Timer I = T4
    assert endpoint.transactions == {}


def test_timer_g_doubles_up_to_t2() -> None:
    endpoint, sender, clock = make_endpoint()
    endpoint.receive(request("INVITE"), UDP)
    times: list[float] = []
    for _ in range(200):
        clock.advance(0.25)
        if len(sender.sent) > len(times) + 1:
            times.append(clock.time())
    gaps = [round(later - earlier, 2) for earlier, later in zip([0.0, *times], times)]
    assert gaps[:5] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_timer_h_gives_up_waiting_for_the_ack() -> None:
    endpoint, _, clock = make_endpoint()
    endpoint.receive(request("INVITE"), UDP)
    clock.advance(32.1)
    assert endpoint.transactions == {}


def test_a_rejected_invite_over_tcp_is_not_retransmitted() -> None:
    endpoint, sender, clock = make_endpoint()
    endpoint.receive(request("INVITE", transport="TCP"), TCP)
    clock.advance(10)
    assert sender.statuses == [405]
    endpoint.receive(request("ACK", cseq_method="ACK", transport="TCP"), TCP)
    clock.advance(0)
    assert endpoint.transactions == {}


def test_a_retransmitted_invite_gets_the_same_response() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request("INVITE"), UDP)
    endpoint.receive(request("INVITE"), UDP)
    assert sender.sent[0][0] is sender.sent[1][0]


def test_cancel_gets_481_without_a_matching_invite_and_200_with_one() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request("CANCEL", branch="z9hG4bK-lone"), UDP)
    endpoint.receive(request("INVITE", branch="z9hG4bK-inv"), UDP)
    endpoint.receive(request("CANCEL", branch="z9hG4bK-inv", cseq_method="CANCEL"), UDP)
    assert sender.statuses == [481, 405, 200]


def test_a_stray_ack_and_responses_are_ignored() -> None:
    endpoint, sender, _ = make_endpoint()
    endpoint.receive(request("ACK"), UDP)
    response = parse_message(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n"
        b"To: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    endpoint.receive(response, UDP)
    assert sender.sent == []
    assert endpoint.transactions == {}


def test_close_cancels_every_timer() -> None:
    endpoint, sender, clock = make_endpoint()
    endpoint.receive(request("INVITE"), UDP)
    endpoint.close()
    clock.advance(60)
    assert sender.statuses == [405]
    assert clock.pending == 0
