"""A minimal SIP user-agent server core with server transactions (RFC 3261 §8.2, §17.2).

What it answers (the first slice of the voice work):
- OPTIONS: 200 OK with Allow, Accept: application/sdp, Accept-Language and Supported (§11.2);
- Max-Forwards 0 on anything but OPTIONS: 483 Too Many Hops (§16.3 item 2, §20.22);
- a method this core does not know: 501 Not Implemented, with Allow (§8.2.1);
- Require with option tags (we support none): 420 Bad Extension with Unsupported (§8.2.2.3);
- CANCEL: 200 when it matches an INVITE server transaction, else 481 (§9.2);
- every other known method (INVITE, REGISTER, BYE, ...): 405 Method Not Allowed, with Allow;
- ACK: never answered; it ends the INVITE server transaction of a rejected INVITE.

Server transactions are keyed as §17.2.3 says: by (branch, sent-by, method) when the branch has
the RFC 3261 magic cookie (an ACK matches its INVITE), else by the RFC 2543 fields. A
retransmitted request gets the transaction's last response again, and nothing reaches the core
twice.
- non-INVITE (§17.2.2): after the final response the transaction stays Completed for Timer J
  (64*T1 over UDP, 0 over TCP) to absorb retransmissions;
- INVITE (§17.2.1), rejected with a final response at once: over UDP the response is resent on
  Timer G (T1, doubling up to T2) until the ACK arrives; Timer H (64*T1) gives up waiting for the
  ACK; after the ACK, Timer I (T4 over UDP, 0 over TCP) absorbs ACK retransmissions.

All timers run on an injected `Scheduler`, so tests move time by hand.
"""
from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from hearthline.sip.errors import SipParseError
from hearthline.sip.message import Request, Response, make_response
from hearthline.sip.timers import T1, T2, T4, AsyncioScheduler, Scheduler, TimerHandle
from hearthline.sip.transport import ResponseSender, Source

logger = logging.getLogger(__name__)

MAGIC_COOKIE = "z9hG4bK"
KNOWN_METHODS = frozenset({
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
    "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
})
ALLOWED_METHODS = ("OPTIONS",)


class TransactionState(enum.Enum):
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


TransactionKey = tuple[object, ...]


@dataclass
class ServerTransaction:
    """One server transaction: its request, where it came from, and its last response."""

    key: TransactionKey
    request: Request
    source: Source
    state: TransactionState = TransactionState.TRYING
    last_response: Response | None = None
    timers: list[TimerHandle] = field(default_factory=list)
    retransmit_interval: float = T1

    @property
    def is_invite(self) -> bool:
        return self.request.method == "INVITE"

    @property
    def reliable(self) -> bool:
        return self.source.transport != "UDP"


def transaction_key(request: Request) -> TransactionKey:
    """The §17.2.3 matching key; ACK and CANCEL are looked up with `method` adjusted by callers."""
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch or ""
    if branch.startswith(MAGIC_COOKIE):
        return ("3261", branch, via.sent_by.lower(), method)
    # RFC 2543 peers: Request-URI, From tag, Call-ID, CSeq number, top Via and the method
    # (an ACK to a non-2xx matches its INVITE; its To tag is ours, so it is left out).
    return ("2543", str(request.uri), request.from_.tag, request.call_id, request.cseq.number,
            str(via), method)


class Endpoint:
    """The UAS core: feed it messages with `receive`; it answers through `sender`.

    `t1` is RFC 3261's T1 (seconds); `user_agent` goes in the Server header.
    """

    def __init__(self, sender: ResponseSender, scheduler: Scheduler | None = None, *,
                 t1: float = T1, t2: float = T2, t4: float = T4,
                 user_agent: str = "Hearthline") -> None:
        self._sender = sender
        self._scheduler: Scheduler = scheduler or AsyncioScheduler()
        self._t1, self._t2, self._t4 = t1, t2, t4
        self._user_agent = user_agent
        self.transactions: dict[TransactionKey, ServerTransaction] = {}

    def close(self) -> None:
        """Cancel every timer and forget every transaction."""
        for transaction in list(self.transactions.values()):
            self._terminate(transaction)

    # -- entry point ---------------------------------------------------------------------------

    def receive(self, message: Request | Response, source: Source) -> None:
        """Handle one parsed message from the transport. Responses are not expected by a UAS."""
        if isinstance(message, Response):
            logger.debug("SIP: ignoring a %s response from %s:%s", message.status, source.host,
                         source.port)
            return
        try:
            key = transaction_key(message)
        except SipParseError:  # the parser validated these headers; a bug if it happens
            logger.exception("SIP: cannot key a request from %s:%s", source.host, source.port)
            return
        transaction = self.transactions.get(key)
        if message.method == "ACK":
            self._on_ack(transaction, message, source)
            return
        if transaction is not None:
            self._on_retransmission(transaction)
            return
        transaction = ServerTransaction(key, message, source, retransmit_interval=self._t1)
        self.transactions[key] = transaction
        self._respond(transaction, self._core(message))

    # -- the core: what to answer --------------------------------------------------------------

    def _core(self, request: Request) -> Response:
        method = request.method
        if request.max_forwards == 0 and method != "OPTIONS":
            return self._response(request, 483)
        if method not in KNOWN_METHODS:
            return self._response(request, 501, [("Allow", ", ".join(ALLOWED_METHODS))])
        if method != "CANCEL":
            required = [value.strip() for value in request.headers.get_all("Require") if value.strip()]
            if required:
                return self._response(request, 420, [("Unsupported", ", ".join(required))])
        if method == "OPTIONS":
            return self._response(request, 200, [
                ("Allow", ", ".join(ALLOWED_METHODS)),
                ("Accept", "application/sdp"),
                ("Accept-Language", "en"),
                ("Supported", ""),
            ])
        if method == "CANCEL":
            invite_key = transaction_key(request)[:-1] + ("INVITE",)
            return self._response(request, 200 if invite_key in self.transactions else 481)
        return self._response(request, 405, [("Allow", ", ".join(ALLOWED_METHODS))])

    def _response(self, request: Request, status: int,
                  headers: list[tuple[str, str]] | None = None) -> Response:
        return make_response(request, status, to_tag=secrets.token_hex(6),
                             headers=[*(headers or []), ("Server", self._user_agent)])

    # -- transactions --------------------------------------------------------------------------

    def _respond(self, transaction: ServerTransaction, response: Response) -> None:
        transaction.last_response = response
        self._sender.send_response(response, transaction.source)
        if response.status < 200:
            transaction.state = TransactionState.PROCEEDING
            return
        transaction.state = TransactionState.COMPLETED
        if not transaction.is_invite:
            # Timer J: absorb retransmissions of the request, then forget it.
            self._after(transaction, 0 if transaction.reliable else 64 * self._t1, self._terminate)
            return
        if response.status < 300:
            # A 2xx ends the INVITE transaction at once (§17.2.1); the core resends it itself.
            self._terminate(transaction)
            return
        if not transaction.reliable:
            self._after(transaction, transaction.retransmit_interval, self._timer_g)
        self._after(transaction, 64 * self._t1, self._timer_h)

    def _on_retransmission(self, transaction: ServerTransaction) -> None:
        if transaction.state in (TransactionState.PROCEEDING, TransactionState.COMPLETED) \
                and transaction.last_response is not None:
            self._sender.send_response(transaction.last_response, transaction.source)

    def _on_ack(self, transaction: ServerTransaction | None, ack: Request, source: Source) -> None:
        if transaction is None or not transaction.is_invite:
            logger.debug("SIP: ACK from %s:%s matches no transaction", source.host, source.port)
            return
        if transaction.state is TransactionState.COMPLETED:
            self._cancel_timers(transaction)
            transaction.state = TransactionState.CONFIRMED
            self._after(transaction, 0 if transaction.reliable else self._t4, self._terminate)

    def _timer_g(self, transaction: ServerTransaction) -> None:
        if transaction.state is not TransactionState.COMPLETED or transaction.last_response is None:
            return
        self._sender.send_response(transaction.last_response, transaction.source)
        transaction.retransmit_interval = min(2 * transaction.retransmit_interval, self._t2)
        self._after(transaction, transaction.retransmit_interval, self._timer_g)

    def _timer_h(self, transaction: ServerTransaction) -> None:
        if transaction.state is TransactionState.COMPLETED:
            logger.info("SIP: no ACK for the %s to INVITE %s; giving up",
                        transaction.last_response.status if transaction.last_response else "?",
                        transaction.request.call_id)
            self._terminate(transaction)

    def _after(self, transaction: ServerTransaction, delay: float,
               action: Callable[[ServerTransaction], None]) -> None:
        transaction.timers.append(self._scheduler.call_later(delay, lambda: action(transaction)))

    def _cancel_timers(self, transaction: ServerTransaction) -> None:
        for timer in transaction.timers:
            timer.cancel()
        transaction.timers.clear()

    def _terminate(self, transaction: ServerTransaction) -> None:
        self._cancel_timers(transaction)
        transaction.state = TransactionState.TERMINATED
        if self.transactions.get(transaction.key) is transaction:
            del self.transactions[transaction.key]
