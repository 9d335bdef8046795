"""The SIP endpoint on real sockets, driven by SIPp (Debian's sip-tester) and by raw sockets.

The endpoint runs on 127.0.0.1 with ephemeral UDP and TCP ports, in an asyncio loop on a
thread of its own, so SIPp (a subprocess) and blocking test sockets can talk to it. SIPp's
scenarios are kept in tests/sip/. Without `sipp` these tests fail: run `make system-deps`.
"""
from __future__ import annotations

import asyncio
import logging
import random
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearthline.sip import Response, parse_message
from hearthline.sip.endpoint import Endpoint
from hearthline.sip.message import header_section_end
from hearthline.sip.timers import AsyncioScheduler
from hearthline.sip.transport import TransportLayer

SCENARIOS = Path(__file__).resolve().parents[1] / "sip"


class RunningEndpoint:
    """An Endpoint on a TransportLayer, served by an event loop on a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sip-endpoint", daemon=True)
        self.layer = TransportLayer("127.0.0.1", 0, 0)
        self.endpoint = Endpoint(self.layer, AsyncioScheduler(self.loop))

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.layer.start(self.endpoint.receive), self.loop).result(10)

    def stop(self) -> None:
        async def shutdown() -> None:
            self.endpoint.close()
            await self.layer.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def udp(self) -> tuple[str, int]:
        assert self.layer.udp_port is not None
        return ("127.0.0.1", self.layer.udp_port)

    @property
    def tcp(self) -> tuple[str, int]:
        assert self.layer.tcp_port is not None
        return ("127.0.0.1", self.layer.tcp_port)


@pytest.fixture
def sip_endpoint() -> Iterator[RunningEndpoint]:
    running = RunningEndpoint()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def sipp_binary() -> str:
    path = shutil.which("sipp")
    if path is None:
        pytest.fail("sipp (Debian package sip-tester) is not installed: run make system-deps",
                    pytrace=False)
    return path


def options_request(port: int, *, branch: str = "z9hG4bK-test-1", transport: str = "UDP",
                    cseq: str = "1 OPTIONS", first: str | None = None) -> bytes:
    return (
        f"{first or 'OPTIONS sip:service@127.0.0.1 SIP/2.0'}\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:{port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:tester@127.0.0.1>;tag=t1\r\n"
        "To: <sip:service@127.0.0.1>\r\n"
        f"Call-ID: {branch}@127.0.0.1\r\n"
        f"CSeq: {cseq}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def read_tcp_message(sock: socket.socket, buffer: bytearray) -> bytes:
    """One whole message off a TCP socket (framed by Content-Length); b"" at end of stream."""
    while True:
        end = header_section_end(bytes(buffer))
        if end >= 0:
            head = bytes(buffer[:end]).lower()
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            if len(buffer) >= end + length:
                message = bytes(buffer[:end + length])
                del buffer[:end + length]
                return message
        data = sock.recv(65536)
        if not data:
            return b""
        buffer += data


def assert_options_answered(running: RunningEndpoint, branch: str) -> None:
    with udp_socket() as sock:
        sock.sendto(options_request(sock.getsockname()[1], branch=branch), running.udp)
        response = parse_message(sock.recv(65536))
    assert isinstance(response, Response) and response.status == 200


@pytest.mark.parametrize("transport", ["u1", "t1"])
@pytest.mark.parametrize("scenario", ["options.xml", "reject.xml"])
def test_sipp_scenarios_pass_over_udp_and_tcp(sip_endpoint: RunningEndpoint, scenario: str,
                                              transport: str, tmp_path: Path) -> None:
    sipp = sipp_binary()
    host, port = sip_endpoint.udp if transport == "u1" else sip_endpoint.tcp
    error_file = tmp_path / "errors.log"
    result = subprocess.run(
        [sipp, "-sf", str(SCENARIOS / scenario), "-m", "1", "-t", transport,
         "-i", "127.0.0.1", "-p", "0", "-timeout", "15", "-timeout_error", "-nostdin",
         "-trace_err", "-error_file", str(error_file), f"{host}:{port}"],
        cwd=tmp_path, capture_output=True, timeout=60, check=False)
    errors = error_file.read_text(errors="replace") if error_file.exists() else ""
    assert result.returncode == 0, f"sipp exited {result.returncode}:\n{errors[-3000:]}"


def test_a_udp_retransmission_gets_the_same_response_bytes_with_rport_filled(
        sip_endpoint: RunningEndpoint) -> None:
    with udp_socket() as sock:
        port = sock.getsockname()[1]
        request = options_request(port, branch="z9hG4bK-retrans")
        sock.sendto(request, sip_endpoint.udp)
        first = sock.recv(65536)
        sock.sendto(request, sip_endpoint.udp)
        second = sock.recv(65536)
    assert first == second
    response = parse_message(first)
    assert response.top_via.rport == port
    assert response.top_via.received == "127.0.0.1"


def test_a_malformed_udp_request_with_readable_headers_gets_400_with_a_warning(
        sip_endpoint: RunningEndpoint) -> None:
    with udp_socket() as sock:
        sock.sendto(options_request(sock.getsockname()[1], cseq="1 INVITE"), sip_endpoint.udp)
        response = parse_message(sock.recv(65536))
    assert isinstance(response, Response)
    assert response.status == 400
    assert "CSeq" in (response.headers.get("Warning") or "")
    assert_options_answered(sip_endpoint, "z9hG4bK-after-400")


def test_a_request_of_another_sip_version_gets_505(sip_endpoint: RunningEndpoint) -> None:
    with udp_socket() as sock:
        sock.sendto(options_request(sock.getsockname()[1], first="OPTIONS sip:s@127.0.0.1 SIP/3.0"),
                    sip_endpoint.udp)
        response = parse_message(sock.recv(65536))
    assert isinstance(response, Response) and response.status == 505


def test_udp_garbage_is_dropped_with_a_warning_and_the_next_options_is_answered(
        sip_endpoint: RunningEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hearthline.sip.transport"):
        with udp_socket() as sock:
            for garbage in (b"\x00\xff\xfe garbage", b"HELLO\r\n\r\n", b"OPTIONS sip:a@b SIP/2.0\r\n\r\n",
                            b"\r\n\r\n", options_request(1)[:40]):
                sock.sendto(garbage, sip_endpoint.udp)
        assert_options_answered(sip_endpoint, "z9hG4bK-after-garbage")
    drops = [record for record in caplog.records if "dropped malformed" in record.getMessage()]
    assert len(drops) == 4  # the CRLF keep-alive is not a malformed message


def test_tcp_garbage_with_readable_headers_gets_400_and_the_connection_is_closed(
        sip_endpoint: RunningEndpoint) -> None:
    with socket.create_connection(sip_endpoint.tcp, timeout=5) as sock:
        request = options_request(sock.getsockname()[1], transport="TCP").replace(b"Content-Length: 0\r\n", b"")
        sock.sendall(request)
        buffer = bytearray()
        response = parse_message(read_tcp_message(sock, buffer))
        assert isinstance(response, Response) and response.status == 400
        assert read_tcp_message(sock, buffer) == b""  # closed by the endpoint
    assert_options_answered(sip_endpoint, "z9hG4bK-after-tcp-400")


def test_tcp_garbage_that_cannot_be_answered_closes_the_connection(
        sip_endpoint: RunningEndpoint) -> None:
    with socket.create_connection(sip_endpoint.tcp, timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00 this is not SIP\r\n\r\n")
        assert sock.recv(65536) == b""
    assert_options_answered(sip_endpoint, "z9hG4bK-after-tcp-garbage")


def test_tcp_frames_by_content_length_and_answers_keep_alive_pings(sip_endpoint: RunningEndpoint) -> None:
    with socket.create_connection(sip_endpoint.tcp, timeout=5) as sock:
        port = sock.getsockname()[1]
        first = options_request(port, branch="z9hG4bK-tcp-1", transport="TCP")
        second = options_request(port, branch="z9hG4bK-tcp-2", transport="TCP")
        sock.sendall(first + second)  # two messages in one segment
        buffer = bytearray()
        answers = [parse_message(read_tcp_message(sock, buffer)) for _ in range(2)]
        assert [answer.call_id for answer in answers] == ["z9hG4bK-tcp-1@127.0.0.1",
                                                          "z9hG4bK-tcp-2@127.0.0.1"]
        sock.sendall(b"\r\n\r\n")  # RFC 5626 ping
        assert sock.recv(2) == b"\r\n"  # pong
        third = options_request(port, branch="z9hG4bK-tcp-3", transport="TCP")
        for start in range(0, len(third), 17):  # one message in many segments
            sock.sendall(third[start:start + 17])
        answer = parse_message(read_tcp_message(sock, buffer))
        assert isinstance(answer, Response) and answer.status == 200


def test_a_tcp_message_above_the_size_limit_gets_513_and_the_connection_is_closed(
        sip_endpoint: RunningEndpoint) -> None:
    with socket.create_connection(sip_endpoint.tcp, timeout=5) as sock:
        request = options_request(sock.getsockname()[1], transport="TCP").replace(
            b"Content-Length: 0", b"Content-Length: 70000")
        sock.sendall(request)
        buffer = bytearray()
        response = parse_message(read_tcp_message(sock, buffer))
        assert isinstance(response, Response) and response.status == 513
        assert read_tcp_message(sock, buffer) == b""
    assert_options_answered(sip_endpoint, "z9hG4bK-after-513")


def test_a_flood_of_mutated_datagrams_and_connections_leaves_the_endpoint_answering(
        sip_endpoint: RunningEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    generator = random.Random(4)  # fixed seed: the same flood every run
    valid = options_request(5999, branch="z9hG4bK-flood")
    samples = []
    for _ in range(300):
        data = bytearray(valid)
        for _ in range(generator.randint(1, 5)):
            position = generator.randrange(len(data))
            data[position] = generator.randrange(256)
        samples.append(bytes(data))
    with caplog.at_level(logging.ERROR, logger="hearthline.sip"):
        with udp_socket() as sock:
            for sample in samples:
                sock.sendto(sample, sip_endpoint.udp)
        for sample in samples[:30]:
            with socket.create_connection(sip_endpoint.tcp, timeout=5) as stream:
                stream.sendall(sample)
                stream.shutdown(socket.SHUT_WR)
                while stream.recv(65536):
                    pass
        assert_options_answered(sip_endpoint, "z9hG4bK-after-flood")
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
