"""The inbound SMTP listener: aiosmtpd's protocol served on the application's own event loop.

It knows SMTP, not Hearthline: an `InboundHandler` says which recipients exist (asked at RCPT,
so that nothing is accepted that cannot be routed) and takes each message (at DATA), answering
the status line to send back. The 250 goes out only after the handler returns, that is after the
message is stored. aiosmtpd itself answers 552 when a message exceeds `max_message_bytes`
(at MAIL FROM when the client declares SIZE, else at the end of DATA).
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 100


class InboundHandler(Protocol):
    async def accepts(self, address: str) -> bool:
        """Whether mail to `address` can be taken (the answer to RCPT TO)."""
        ...

    async def deliver(self, envelope_sender: str | None, recipients: list[str], data: bytes, peer: str) -> str:
        """Take one message (after DATA); returns the SMTP status line, e.g. "250 2.0.0 OK".
        `envelope_sender` is None for the null sender (a bounce)."""
        ...


class _Smtp(SMTP):
    # RFC 5321 allows 1,000 characters a line; real senders (HTML generators) exceed it. Accept
    # up to 64 KiB rather than refuse their mail.
    line_length_limit = 65_536


class _Hooks:
    def __init__(self, handler: InboundHandler) -> None:
        self.handler = handler

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            known = await self.handler.accepts(address)
        except Exception:
            log.exception("smtp: could not look up the recipient %r", address)
            return "451 4.3.0 Temporary failure; try again later"
        if not known:
            log.info("smtp: refused mail for unknown recipient %r from %s", address, session.peer)
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        data = envelope.original_content
        if data is None:
            data = envelope.content if isinstance(envelope.content, bytes) else b""
        sender = envelope.mail_from
        if sender in (None, "", "<>"):
            sender = None
        try:
            return await self.handler.deliver(sender, list(envelope.rcpt_tos), data, str(session.peer))
        except Exception:
            log.exception("smtp: could not take a message from %s", session.peer)
            return "451 4.3.0 Temporary failure; try again later"


class SmtpListener:
    """Listens on host:port until `stop()`. `start()` raises OSError if the port is taken."""

    def __init__(self, handler: InboundHandler, host: str, port: int, *, max_message_bytes: int,
                 hostname: str = "hearthline") -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.max_message_bytes = max_message_bytes
        self.hostname = hostname
        self._server: asyncio.base_events.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    async def start(self) -> None:
        # aiosmtpd logs every command of every session at INFO (addresses included) to "mail.log":
        # keep that for DEBUG unless someone configured the logger on purpose.
        library_log = logging.getLogger("mail.log")
        if library_log.level == logging.NOTSET and not logging.getLogger().isEnabledFor(logging.DEBUG):
            library_log.setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        hooks = _Hooks(self.handler)

        def protocol() -> SMTP:
            smtp = _Smtp(hooks, data_size_limit=self.max_message_bytes, enable_SMTPUTF8=True, decode_data=False,
                         hostname=self.hostname, ident="Hearthline ESMTP", loop=loop)
            self._sessions.add(smtp)
            return smtp

        self._server = await loop.create_server(protocol, host=self.host, port=self.port)
        sockets: Any = self._server.sockets or ()
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("smtp: listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for smtp in list(self._sessions):  # open sessions end now; a message mid-DATA was not answered 250
            transport = getattr(smtp, "transport", None)
            if transport is not None:
                transport.close()
        await server.wait_closed()
