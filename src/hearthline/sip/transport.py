"""UDP and TCP listeners for SIP on asyncio (RFC 3261 §18, RFC 3581, RFC 5626 §4.4.1).

`TransportLayer` binds a UDP socket and a TCP server on one host (127.0.0.1 by default; port 0
picks a free one) and hands every parsed message, with its `Source`, to one handler callback.

Receiving (§18.2.1, RFC 3581 §4): the top Via of a request gets `received=<source address>` when
its sent-by host differs from the packet's source, and — when the client asked with a bare
`rport` — `rport=<source port>` and `received` always.

Sending responses (§18.2.2, RFC 3581 §4): over TCP on the connection the request came on; over
UDP to `maddr` if present, else to `received` at the `rport` (or sent-by port, or 5060), else to
the sent-by address.

Framing: a datagram is one message; on TCP each message is delimited by its Content-Length
(§18.3), and a keep-alive "ping" (CRLF CRLF) is answered with a "pong" (CRLF) as RFC 5626 says;
stray CRLFs between messages are skipped (§7.5).

Malformed input never stops a listener. A message that cannot be parsed is answered with the
error's status (400 unless more precise) when its request line and the headers a response copies
were readable, with a Warning header saying what was wrong; otherwise it is dropped with one
(rate-limited) warning in the log. A TCP connection that sends such a message is closed after the
answer, as the framing cannot be trusted any more.
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hearthline.sip.errors import SipParseError
from hearthline.sip.message import (
    DEFAULT_LIMITS,
    ParseLimits,
    Request,
    Response,
    header_section_end,
    make_response,
    parse_message,
)
from hearthline.sip.syntax import parse_int

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5060


@dataclass(frozen=True)
class Source:
    """Where a message came from: its transport ("UDP" or "TCP") and the peer's address."""

    transport: str
    host: str
    port: int


MessageHandler = Callable[[Request | Response, Source], None]


class ResponseSender(Protocol):
    def send_response(self, response: Response, source: Source) -> None: ...


class RateLimitedWarnings:
    """At most `burst` warnings per `interval` seconds; then one line counting those suppressed."""

    def __init__(self, log: logging.Logger, burst: int = 10, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._burst = burst
        self._interval = interval
        self._clock = clock
        self._window_start = clock()
        self._count = 0
        self._suppressed = 0

    def warning(self, message: str, *args: object) -> None:
        now = self._clock()
        if now - self._window_start >= self._interval:
            if self._suppressed:
                self._log.warning("%d similar warnings suppressed in the last %.0f s",
                                  self._suppressed, now - self._window_start)
            self._window_start, self._count, self._suppressed = now, 0, 0
        if self._count < self._burst:
            self._count += 1
            self._log.warning(message, *args)
        else:
            self._suppressed += 1


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a.lower() == b.lower()


def stamp_received(request: Request, source: Source) -> None:
    """Add `received` and fill `rport` on the top Via (RFC 3261 §18.2.1, RFC 3581 §4)."""
    via = request.top_via
    if via.wants_rport:
        via = via.with_param("received", source.host).with_param("rport", str(source.port))
    elif not _same_address(via.host, source.host):
        via = via.with_param("received", source.host)
    else:
        return
    request.headers.replace_first("Via", str(via))


def _warning_value(detail: str) -> str:
    text = "".join(char if " " <= char < "\x7f" and char not in '"\\' else "?" for char in detail)
    return f'399 hearthline "{text[:200]}"'


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, layer: TransportLayer) -> None:
        self._layer = layer

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        self._layer._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a peer that went away: nothing to do for a UAS.
        logger.debug("UDP error: %s", exc)


class TransportLayer:
    """The UDP and TCP listeners of one SIP endpoint. Start with `start(handler)`, end with `stop()`.

    `udp_port` / `tcp_port` of None leave that transport off; 0 takes an ephemeral port (read the
    bound ports from `udp_port` / `tcp_port` after start).
    """

    def __init__(self, host: str = "127.0.0.1", udp_port: int | None = 0, tcp_port: int | None = 0,
                 *, limits: ParseLimits = DEFAULT_LIMITS) -> None:
        self.host = host
        self._want_udp = udp_port
        self._want_tcp = tcp_port
        self._limits = limits
        self._handler: MessageHandler | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._connection_tasks: set[asyncio.Task[None]] = set()
        self._warnings = RateLimitedWarnings(logger)
        self.udp_port: int | None = None
        self.tcp_port: int | None = None

    async def start(self, handler: MessageHandler) -> None:
        self._handler = handler
        loop = asyncio.get_running_loop()
        if self._want_udp is not None:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self._want_udp))
            self._udp = transport
            self.udp_port = transport.get_extra_info("sockname")[1]
        if self._want_tcp is not None:
            self._tcp = await asyncio.start_server(self._serve_connection, self.host, self._want_tcp)
            self.tcp_port = self._tcp.sockets[0].getsockname()[1]
        logger.info("SIP listening on %s (UDP %s, TCP %s)", self.host, self.udp_port, self.tcp_port)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._connections.values()):
                writer.close()
            # Python 3.11's Server.wait_closed does not wait for open connections; wait here.
            await asyncio.gather(*self._connection_tasks, return_exceptions=True)
            await self._tcp.wait_closed()
            self._tcp = None

    # -- sending -------------------------------------------------------------------------------

    def send_response(self, response: Response, source: Source) -> None:
        """Send a response where RFC 3261 §18.2.2 says; a send error is logged, never raised."""
        data = response.to_bytes()
        if source.transport == "TCP":
            writer = self._connections.get((source.host, source.port))
            if writer is None or writer.is_closing():
                # §18.2.2 would open a new connection to received:sent-by port; not done yet.
                self._warnings.warning("SIP: connection from %s:%s is gone; %s response not sent",
                                       source.host, source.port, response.status)
                return
            writer.write(data)
            return
        if self._udp is None:
            return
        try:
            via = response.top_via
        except SipParseError:
            return
        if via.maddr:
            destination = (via.maddr, via.port or DEFAULT_PORT)
        elif via.received:
            destination = (via.received, via.rport or via.port or DEFAULT_PORT)
        else:
            destination = (via.host, via.port or DEFAULT_PORT)
        try:
            self._udp.sendto(data, destination)
        except OSError as err:
            self._warnings.warning("SIP: cannot send to %s:%s: %s", destination[0], destination[1], err)

    # -- receiving -----------------------------------------------------------------------------

    def _dispatch(self, message: Request | Response, source: Source) -> None:
        if isinstance(message, Request):
            stamp_received(message, source)
        if self._handler is None:
            return
        try:
            self._handler(message, source)
        except Exception:  # a failing handler must not take the listener down
            logger.exception("SIP: handler failed on a message from %s:%s", source.host, source.port)

    def _reject(self, err: SipParseError, source: Source) -> bool:
        """Answer a malformed request if possible (never an ACK); else log the drop. True if answered."""
        request = err.request
        if request is None or request.method == "ACK":
            self._warnings.warning("SIP: dropped malformed message from %s %s:%s: %s",
                                   source.transport, source.host, source.port, err.message)
            return False
        try:
            stamp_received(request, source)
            response = make_response(request, err.status, err.reason, to_tag=secrets.token_hex(6),
                                     headers=[("Warning", _warning_value(err.message))])
            self.send_response(response, source)
        except (SipParseError, ValueError) as send_err:
            self._warnings.warning("SIP: cannot answer a malformed message from %s:%s: %s",
                                   source.host, source.port, send_err)
            return False
        logger.info("SIP: answered %s to a malformed %s from %s:%s: %s", err.status, request.method,
                    source.host, source.port, err.message)
        return True

    def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        source = Source("UDP", addr[0], addr[1])
        if not data.strip(b"\r\n"):
            return  # a CRLF keep-alive
        try:
            message = parse_message(data, limits=self._limits)
        except SipParseError as err:
            self._reject(err, source)
            return
        self._dispatch(message, source)

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = Source("TCP", peer[0], peer[1])
        self._connections[(source.host, source.port)] = writer
        task = asyncio.current_task()
        if task is not None:
            self._connection_tasks.add(task)
            task.add_done_callback(self._connection_tasks.discard)
        buffer = bytearray()
        try:
            while True:
                message_bytes = self._next_frame(buffer, writer)
                if message_bytes is None:
                    data = await reader.read(65536)
                    if not data:
                        break
                    buffer += data
                    continue
                try:
                    message = parse_message(message_bytes, stream=True, limits=self._limits)
                except SipParseError as err:
                    self._reject(err, source)
                    break
                self._dispatch(message, source)
        except _FramingError as err:
            self._reject(err.error, source)
        except ConnectionError as err:
            logger.debug("SIP: TCP connection from %s:%s lost: %s", source.host, source.port, err)
        except Exception:  # a bug here must cost one connection, not the listener
            logger.exception("SIP: TCP connection from %s:%s failed", source.host, source.port)
        finally:
            self._connections.pop((source.host, source.port), None)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _next_frame(self, buffer: bytearray, writer: asyncio.StreamWriter) -> bytes | None:
        """Take the next whole message off `buffer`, or None if more bytes are needed."""
        while buffer.startswith(b"\r\n"):
            if buffer.startswith(b"\r\n\r\n"):
                writer.write(b"\r\n")  # RFC 5626 §4.4.1 pong
                del buffer[:4]
            elif len(buffer) >= 4 or (len(buffer) == 3 and buffer[2:3] != b"\r"):
                del buffer[:2]  # a stray CRLF before a message (§7.5)
            else:
                return None
        end = header_section_end(bytes(buffer))
        if end < 0:
            if len(buffer) > self._limits.max_message_size:
                raise _FramingError(SipParseError("header section too large", 513, "Message Too Large"))
            return None
        length = self._content_length(bytes(buffer[:end]))
        if end + length > self._limits.max_message_size:
            raise _FramingError(self._error_of(bytes(buffer[:end]) , SipParseError(
                "message too large", 513, "Message Too Large")))
        if len(buffer) < end + length:
            return None
        frame = bytes(buffer[:end + length])
        del buffer[:end + length]
        return frame

    def _content_length(self, head: bytes) -> int:
        for line in head.split(b"\r\n")[1:]:
            name, colon, value = line.partition(b":")
            if colon and name.strip(b" \t").lower() in (b"content-length", b"l"):
                try:
                    # Any size here; _next_frame answers one above the limit with 513.
                    return parse_int(value.strip(b" \t").decode("ascii"), "Content-Length", 2**31)
                except (SipParseError, UnicodeDecodeError):
                    break
        raise _FramingError(self._error_of(head, SipParseError("no valid Content-Length on a stream")))

    def _error_of(self, head: bytes, fallback: SipParseError) -> SipParseError:
        """The parse error of a header section (with its partial request), else `fallback`."""
        try:
            parse_message(head, stream=True, limits=self._limits)
        except SipParseError as err:
            if fallback.status != 400 and err.request is not None:
                fallback.request = err.request
                return fallback
            return err
        return fallback


class _FramingError(Exception):
    """A TCP stream whose next message cannot be delimited; the connection will be closed."""

    def __init__(self, error: SipParseError) -> None:
        super().__init__(error.message)
        self.error = error
