"""E-mail: customers write to a program's address; agents answer from the desk.

Inbound. Mail arrives over SMTP (our listener; RCPT to an address not in `mail_addresses` is
refused, so nothing is accepted that cannot be routed) or from polled IMAP mailboxes. Each message
is parsed (adapters/mail/parse.py), threaded, and stored as a customer message before the SMTP
answer is 250; a message already stored (the same Message-ID in the same tenant) is not taken
twice, so a sender's retry or a re-fetched IMAP message changes nothing.

Threading. A mail whose In-Reply-To or References names a stored message of the same tenant
joins that message's interaction: added while it is open, reopened in its queue when it was
completed (ContactCenter.reopen). Without such headers (many clients drop them) the reference
number in the subject, "[#AB12CD34]" — the first 8 hex digits of the interaction id — finds it,
but only among the same customer address's e-mails in the same tenant. Anything else, and a
thread that was abandoned, starts a new interaction (channel email, the address's queue or the
program's default workflow).

Acknowledgement and loop protection. A new thread is acknowledged with its reference number
(Auto-Submitted: auto-replied), unless the mail was sent by a machine — Auto-Submitted other
than "no", Precedence bulk/list/junk, List-Id or List-Unsubscribe, autoresponder headers, a null
sender, MAILER-DAEMON, noreply and the like, one of our own addresses — or that sender already
had `acks_per_sender_per_hour` acknowledgements in the last hour. Why none was sent is kept in
the message.

Outbound. An agent's message (conversations.post_agent_message stores it first) gets its
headers here — From the program's address, To the customer, In-Reply-To the customer's last
Message-ID, References the chain — and a new Message-ID, stored in the message row at once so
the customer's answer threads back. The outbox then sends it through platform.mailer; a failure
is kept in the message (`email.delivery` "failed", the error, the next attempt) and retried with
backoff, and pending ones are picked up again after a restart. Without a relay the message says
so ("not sent: no relay configured"): nothing pretends to have been sent.
"""
from __future__ import annotations

import asyncio
import dataclasses
import enum
import heapq
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any, Iterable

from sqlalchemy import and_, func, select, update

from ..adapters.mail.imap import FetchedMessage, ImapAccount, ImapError, fetch_new
from ..adapters.mail.parse import InboundMail, Limits, ParseError, parse_message, valid_address
from ..adapters.mail.smtp_client import make_message_id
from ..adapters.mail.smtp_server import SmtpListener
from ..adapters.sql import mapping as m
from ..adapters.sql import tables as t
from ..domain.conversations import MAX_EMAIL_CHARS, Message, Sender, clean_text
from ..domain.errors import InvalidInput, InvalidTransition, NotFound, Unavailable
from ..domain.interactions import Channel, Customer, Interaction, InteractionState
from ..domain.mail import OutgoingMail
from ..domain.organization import Scope
from . import conversations as talk
from . import interactions as work
from .platform import Platform
from .webhooks import retry_delay

log = logging.getLogger(__name__)



class Delivery(enum.StrEnum):
    """`email.delivery` of an outgoing message."""

    PENDING = "pending"  # to be sent by the outbox
    SENT = "sent"  # the relay took it
    FAILED = "failed"  # the last attempt failed; retried at `next_attempt_at` unless `gave_up`
    NO_RELAY = "not sent: no relay configured"
    NO_ADDRESS = "not sent: the customer has no e-mail address"


NOT_CONFIGURED = Delivery.NO_RELAY.value
TO_SEND = (Delivery.PENDING.value, Delivery.FAILED.value)
ACK_REF = "ack"  # client_ref of the acknowledgement message (one per interaction)
SECURITIES = ("none", "starttls", "tls")
MAX_THREAD_IDS = 50
MAX_REFERENCES_SENT = 20
REFERENCE = re.compile(r"\[#([0-9A-Fa-f]{8})\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|fwd?|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_MACHINE_LOCAL = re.compile(r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?|"
                            r"auto[-_.]?reply|owner-.*|.*-request)([-+._].*)?$", re.IGNORECASE)
_MACHINE_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})


@dataclass(frozen=True, slots=True)
class EmailConfig:
    limits: Limits = Limits()
    max_message_bytes: int = 10 * 1024 * 1024
    poll_interval_seconds: float = 60.0
    acks_per_sender_per_hour: int = 3
    max_attempts: int = 8
    from_address: str = "hearthline@localhost"
    message_id_domain: str = "localhost"
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    imap_batch: int = 50


# ---- rules (pure) -------------------------------------------------------------------------------
def reference(interaction_id: str) -> str:
    """The reference number customers see: the first 8 hex digits of the id, upper case."""
    return interaction_id[:8].upper()


def thread_subject(subject: str, ref: str) -> str:
    """"Re: <subject> [#REF]": one "Re:" however many the thread collected, the reference once."""
    tag = f"[#{ref}]"
    others = REFERENCE.sub(lambda found: found.group(0) if found.group(1).upper() == ref else "", subject or "")
    base = _REPLY_PREFIX.sub("", " ".join(others.split())).strip() or "Your message"
    if tag.lower() not in base.lower():
        base = f"{base} {tag}"
    return f"Re: {base}"


def auto_reply_refusal(mail: InboundMail, *, null_sender: bool, own_addresses: Iterable[str]) -> str | None:
    """Why this mail must not get an automatic answer (RFC 3834 and common practice), or None."""
    if null_sender or mail.return_path == "":
        return "null sender (a delivery report)"
    if mail.auto_submitted and mail.auto_submitted != "no":
        return f"Auto-Submitted: {mail.auto_submitted}"
    if mail.precedence in _MACHINE_PRECEDENCE:
        return f"Precedence: {mail.precedence}"
    if mail.list_id or mail.list_unsubscribe:
        return "mailing list (List-Id or List-Unsubscribe)"
    if mail.auto_reply_headers:
        return f"autoresponder header {mail.auto_reply_headers[0]}"
    address = mail.sender.address.lower()
    if _MACHINE_LOCAL.match(address.rsplit("@", 1)[0]):
        return "machine sender address"
    if address in {a.lower() for a in own_addresses}:
        return "one of our own addresses"
    return None


def normalize_address(value: Any, field: str = "address") -> str:
    if not isinstance(value, str) or not valid_address(value.strip()):
        raise InvalidInput(field, "not an e-mail address (local@domain)")
    return value.strip().lower()


# ---- where a message goes -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MailRoute:
    operator_id: str
    tenant_id: str
    program_id: str
    address: str  # ours, as written to
    queue_id: str | None = None  # None: the program's default workflow
    display_name: str | None = None
    auto_acknowledge: bool = True


def _route(row: dict[str, Any]) -> MailRoute:
    return MailRoute(row["operator_id"], row["tenant_id"], row["program_id"], row["address"], row["queue_id"],
                     row["display_name"], bool(row["auto_acknowledge"]))


class EmailChannel:
    """The e-mail component: SMTP intake (as the listener's handler), IMAP polling, threading,
    acknowledgements, and the outbox. `listener` (an SmtpListener) is set by bootstrap when a
    port is configured; `start()`/`stop()` run it with the poller and the outbox."""

    def __init__(self, platform: Platform, config: EmailConfig | None = None) -> None:
        self.p = platform
        self.config = config or EmailConfig()
        self.listener: SmtpListener | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._due: list[tuple[float, str]] = []
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self.failures = 0

    def attach(self) -> EmailChannel:
        """Agents' messages in e-mail interactions leave through this component."""
        self.p.message_senders[str(Channel.EMAIL)] = self.send_agent_message
        return self

    # ---- lifecycle ----------------------------------------------------------------------------
    async def start(self, *, poll: bool = True) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._outbox_loop(), name="email-outbox"))
        for message_id, delay in await self.p.run(self._pending_outgoing):
            self._kick(message_id, delay)
        if poll:
            self._tasks.append(asyncio.create_task(self._poll_loop(), name="email-imap"))
        if self.listener is not None:
            await self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        # A flag as well as cancel(): on Python 3.11 a cancellation that meets a completing
        # asyncio.wait_for inside a library (aiosmtplib) can be lost.
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=10)
            for task in stuck:
                log.error("mail: %s did not stop", task.get_name())

    # ---- SMTP (the listener's InboundHandler) -------------------------------------------------
    async def accepts(self, address: str) -> bool:
        return await self.p.run(self._address_row, address) is not None

    def _address_row(self, address: str) -> dict[str, Any] | None:
        a = t.mail_addresses
        with self.p.store.begin() as conn:
            row = conn.execute(select(a).where(a.c.address == address.strip().lower())).mappings().first()
        return dict(row) if row else None

    async def deliver(self, envelope_sender: str | None, recipients: list[str], data: bytes, peer: str) -> str:
        routes: dict[str, MailRoute] = {}
        for address in recipients:
            row = await self.p.run(self._address_row, address)
            if row is not None:
                routes.setdefault(row["tenant_id"], _route(row))  # one copy per client company
        if not routes:
            return "550 5.1.1 No such mailbox here"
        try:
            mail = await asyncio.to_thread(parse_message, data, self.config.limits, fallback_sender=envelope_sender)
        except ParseError as err:
            log.warning("smtp: refused an unreadable message from %s (envelope sender %r): %s%s", peer,
                        envelope_sender, err.reason, " [parser failure]" if err.internal else "",
                        exc_info=err.internal)
            return f"554 5.6.0 Message could not be parsed: {err.reason}"[:500]
        refs = []
        try:
            for route in routes.values():
                message = await self.receive(mail, route, null_sender=envelope_sender is None, source="smtp")
                if message is not None:
                    refs.append(reference(message.interaction_id))
        except InvalidInput as err:  # the program cannot route it (no queue, no default workflow)
            log.error("smtp: cannot route mail for %s: %s", ", ".join(r.address for r in routes.values()), err)
            return "451 4.3.0 This address cannot take mail right now; try again later"
        return f"250 2.0.0 Accepted{' as ' + ', '.join(refs) if refs else ''}"

    # ---- taking a message in ------------------------------------------------------------------
    async def receive(self, mail: InboundMail, route: MailRoute, *, null_sender: bool = False,
                      source: str = "smtp") -> Message | None:
        """Store `mail` in its thread (a new interaction if none) and acknowledge a new thread.
        Returns the stored customer message, or None if this mail was taken before. Idempotent
        by Message-ID within the tenant (a synthetic one from the content when it has none)."""
        key = mail.message_id or f"<{mail.digest[:40]}@no-message-id.invalid>"
        if await self.p.run(self._already_stored, route, key):
            log.info("mail: %s was taken before; not again", key)
            return None
        thread = await self.p.run(self._thread_of, route, mail)
        email = _inbound_json(mail, route, key, source)
        if thread is not None:
            message = await talk.add_message(self.p, thread, Sender.CUSTOMER, _body(mail), html=mail.html,
                                             email=email, attachments=_attachments(mail))
            await self._keep_live(thread)
            return message
        refusal = auto_reply_refusal(mail, null_sender=null_sender,
                                     own_addresses=await self.p.run(self._own_addresses))
        if refusal is None and not route.auto_acknowledge:
            refusal = "this address does not acknowledge"
        if refusal is None and await self.p.run(self._acks_in_last_hour, route.operator_id,
                                                mail.sender.address) >= self.config.acks_per_sender_per_hour:
            refusal = f"at most {self.config.acks_per_sender_per_hour} acknowledgements an hour to one sender"
        email["acknowledged"] = refusal is None
        if refusal is not None:
            email["not_acknowledged_because"] = refusal
        scope = Scope(route.operator_id)
        interaction = await work.create_interaction(self.p, scope, work.NewInteraction(
            route.program_id, Channel.EMAIL, customer=Customer(name=mail.sender.name, email=mail.sender.address),
            attributes={"subject": mail.subject}, queue_id=route.queue_id))
        try:
            message = await talk.add_message(self.p, interaction, Sender.CUSTOMER, _body(mail), html=mail.html,
                                              email=email, attachments=_attachments(mail))
        except Exception:
            await self._drop_empty(scope, interaction)
            raise
        if refusal is None:
            await self._acknowledge(interaction, mail, route, key)
        else:
            log.info("mail: no acknowledgement to %s: %s", mail.sender.address, refusal)
        return message

    def _already_stored(self, route: MailRoute, key: str) -> bool:
        # Any sender: a customer's mail taken before, or our own mail coming back (a copy in an
        # IMAP mailbox, a customer who put our address in Cc).
        msg = t.messages
        with self.p.store.begin() as conn:
            return conn.execute(select(msg.c.id).where(
                (msg.c.operator_id == route.operator_id) & (msg.c.email_message_id == key)
                & (msg.c.tenant_id == route.tenant_id)).limit(1)).first() is not None

    def _thread_of(self, route: MailRoute, mail: InboundMail) -> Interaction | None:
        msg, i = t.messages, t.interactions
        with self.p.store.begin() as conn:
            ids = mail.thread_ids[:MAX_THREAD_IDS]
            row = None
            if ids:
                found = {r.email_message_id: r.interaction_id for r in conn.execute(
                    select(msg.c.email_message_id, msg.c.interaction_id)
                    .select_from(msg.join(i, i.c.id == msg.c.interaction_id))
                    .where((msg.c.operator_id == route.operator_id) & msg.c.email_message_id.in_(ids)
                           & (i.c.tenant_id == route.tenant_id) & (i.c.channel == str(Channel.EMAIL))))}
                parent = next((found[x] for x in ids if x in found), None)
                if parent is not None:
                    row = conn.execute(select(i).where(i.c.id == parent)).mappings().first()
            if row is None and (ref := REFERENCE.search(mail.subject)):
                row = conn.execute(select(i).where(
                    (i.c.tenant_id == route.tenant_id) & (i.c.customer_key == mail.sender.address.strip().lower())
                    & (i.c.channel == str(Channel.EMAIL)) & i.c.id.like(ref.group(1).lower() + "%"))
                    .order_by(i.c.created_at.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        interaction = m.interaction_from_row(row)
        return None if interaction.state is InteractionState.ABANDONED else interaction

    async def _keep_live(self, interaction: Interaction) -> None:
        """After a message joined `interaction`: if it was completed, it waits in its queue again.
        The message is stored first, so an agent who completes the thread right now has it in
        her transcript; then this makes sure the thread is live, looking again when the router
        completed it after our read of the store."""
        scope = Scope(interaction.operator_id)
        for _ in range(5):
            row = await self.p.run(self.p.store.get_row, t.interactions, "interaction", interaction.id, scope)
            current = m.interaction_from_row(row)
            if current.state is InteractionState.ABANDONED:
                return
            if current.state is InteractionState.COMPLETED:
                try:
                    await self.p.in_router(scope, lambda c, now: c.reopen(current, now))
                    log.info("mail: interaction %s reopened by the customer's answer", current.id)
                except InvalidTransition:
                    pass  # live already: another answer reopened it a moment ago
                except NotFound as err:  # its queue is gone
                    log.error("mail: interaction %s cannot reopen: %s; the answer is stored", current.id, err)
                return
            if await self.p.in_router(scope, lambda c, now: current.id in c.interactions):
                return
            await asyncio.sleep(0.05)  # completed in the router, not yet in the store
        log.error("mail: could not tell whether interaction %s is live; the answer is stored", interaction.id)

    async def _drop_empty(self, scope: Scope, interaction: Interaction) -> None:
        """The message of a new interaction could not be stored: the sender will retry, so the
        empty interaction must not wait for an agent."""
        try:
            await self.p.in_router(scope, lambda c, now: c.abandon(interaction.id, now))
        except Exception:
            log.exception("mail: could not withdraw the empty interaction %s", interaction.id)

    def _own_addresses(self) -> set[str]:
        with self.p.store.begin() as conn:
            found = {a for (a,) in conn.execute(select(t.mail_addresses.c.address))}
            found |= {a.lower() for (a,) in conn.execute(select(t.mailboxes.c.address))}
        return found | {self.config.from_address.lower()}

    def _acks_in_last_hour(self, operator_id: str, address: str) -> int:
        msg, i = t.messages, t.interactions
        since = self.p.clock.now() - timedelta(hours=1)
        with self.p.store.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(msg.join(i, i.c.id == msg.c.interaction_id))
                                    .where((i.c.operator_id == operator_id)
                                           & (i.c.customer_key == address.strip().lower())
                                           & (msg.c.client_ref == ACK_REF) & (msg.c.created_at >= since))).scalar()
                       or 0)

    async def _acknowledge(self, interaction: Interaction, mail: InboundMail, route: MailRoute, parent: str) -> None:
        ref = reference(interaction.id)
        name = mail.sender.name or ""
        text = (f"Hello{' ' + name if name else ''},\n\n"
                f"Thank you for writing to {route.display_name or 'us'}. We have received your message and will "
                "answer as soon as we can.\n\n"
                f"Your reference number is {ref}. If you write again about the same matter, please answer this "
                f"e-mail or keep [#{ref}] in the subject.\n\nThis message was sent automatically.")
        references = [*mail.references, parent][-MAX_REFERENCES_SENT:]
        email = self._outgoing_json(
            to=mail.sender.address, to_name=mail.sender.name, subject=thread_subject(mail.subject, ref),
            from_address=route.address, from_name=route.display_name, in_reply_to=parent, references=references,
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"})
        email["auto"] = "acknowledgement"
        message = await talk.add_message(self.p, interaction, Sender.SYSTEM, text, client_ref=ACK_REF, email=email)
        if email["delivery"] == Delivery.PENDING:
            self._kick(message.id)

    # ---- outbound -----------------------------------------------------------------------------
    def _outgoing_json(self, *, to: str, to_name: str | None, subject: str, from_address: str,
                       from_name: str | None, in_reply_to: str | None, references: list[str],
                       headers: dict[str, str] | None = None) -> dict[str, Any]:
        email: dict[str, Any] = {
            "direction": "out", "subject": subject, "from": {"address": from_address, "name": from_name},
            "to": [{"address": to, "name": to_name}], "message_id": make_message_id(self.config.message_id_domain),
            "in_reply_to": in_reply_to, "references": references, "headers": headers or {},
            "delivery": Delivery.PENDING.value, "attempts": 0}
        if self.p.mailer is None:
            email["delivery"] = NOT_CONFIGURED
            log.warning("mail: no SMTP relay is configured; the e-mail to %s is kept in the transcript, not sent", to)
        return email

    async def send_agent_message(self, message: Message, interaction: Interaction) -> None:
        """platform.message_senders["email"]: give the agent's stored message its headers and
        Message-ID (stored at once, so the answer threads back) and hand it to the outbox. The
        message object is updated too: the agent's API answer shows the Message-ID and
        `delivery` "pending" (or why it is not sent)."""
        thread = await self.p.run(talk.read_messages, self.p, interaction.id)
        inbound = [x for x in thread if x.sender is Sender.CUSTOMER and x.email]
        last = inbound[-1].email if inbound else {}
        to, to_name = _reply_address(last, interaction)
        given = (message.email or {}).get("subject")
        subject = given or thread_subject(interaction.attributes.get("subject") or last.get("subject") or "",
                                          reference(interaction.id))
        from_address, from_name = await self.p.run(self._program_sender, interaction.program_id,
                                                   (inbound[0].email or {}).get("received_at") if inbound else None)
        parent = last.get("message_id")
        references = [*last.get("references", []), parent][-MAX_REFERENCES_SENT:] if parent else []
        email = {**(message.email or {}), **self._outgoing_json(
            to=to or "", to_name=to_name, subject=subject, from_address=from_address, from_name=from_name,
            in_reply_to=parent, references=references)}
        if not to:
            email["delivery"] = Delivery.NO_ADDRESS.value
        await self.p.run(self._store_email, message.id, email)
        message.email = email
        if email["delivery"] == Delivery.PENDING:
            self._kick(message.id)

    def _program_sender(self, program_id: str, received_at: str | None) -> tuple[str, str | None]:
        """The address replies of a program come from: the one the customer wrote to, else the
        program's first address, else its mailbox's, else the default sender."""
        a, b = t.mail_addresses, t.mailboxes
        with self.p.store.begin() as conn:
            rows = conn.execute(select(a.c.address, a.c.display_name).where(a.c.program_id == program_id)
                                .order_by(a.c.created_at, a.c.id)).all()
            chosen = next((r for r in rows if r.address == (received_at or "").lower()), rows[0] if rows else None)
            if chosen is not None:
                return chosen.address, chosen.display_name
            box = conn.execute(select(b.c.address).where(b.c.program_id == program_id)
                               .order_by(b.c.created_at, b.c.id).limit(1)).scalar()
        return (box, None) if box else (self.config.from_address, None)

    def _store_email(self, message_id: str, email: dict[str, Any]) -> None:
        with self.p.store.begin() as conn:
            conn.execute(update(t.messages).where(t.messages.c.id == message_id)
                         .values(email=email, email_message_id=email.get("message_id")))

    # ---- the outbox ---------------------------------------------------------------------------
    def _kick(self, message_id: str, delay: float = 0.0) -> None:
        heapq.heappush(self._due, (asyncio.get_running_loop().time() + max(0.0, delay), message_id))
        if self._wake is not None:
            self._wake.set()

    async def _outbox_loop(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while not self._stopping:
            while self._due and self._due[0][0] <= loop.time() and not self._stopping:
                _, message_id = heapq.heappop(self._due)
                try:
                    await self.send_pending(message_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self.failures += 1
                    log.exception("mail: the outbox failed on message %s; it is tried again in a minute", message_id)
                    self._kick(message_id, 60.0)
            self._wake.clear()
            if self._stopping:
                return
            timeout = self._due[0][0] - loop.time() if self._due else None
            try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def send_pending(self, message_id: str) -> None:
        """One attempt at sending a stored outgoing message whose delivery is pending or failed
        (and not given up); anything else is left alone, so a doubled kick sends once."""
        row = await self.p.run(self._message_row, message_id)
        email = dict((row or {}).get("email") or {})
        if row is None or email.get("delivery") not in TO_SEND or email.get("gave_up"):
            return
        if self.p.mailer is None:
            email["delivery"] = NOT_CONFIGURED
            await self.p.run(self._store_email, message_id, email)
            return
        sender, to = email.get("from") or {}, (email.get("to") or [{}])[0]
        to_address = to.get("address", "")
        mail = OutgoingMail(to=formataddr((to["name"], to_address)) if to.get("name") else to_address,
                            subject=email.get("subject", ""), text=row["body"],
                            from_address=sender.get("address"), from_name=sender.get("name"),
                            message_id=email.get("message_id"), in_reply_to=email.get("in_reply_to"),
                            references=tuple(email.get("references") or ()), headers=dict(email.get("headers") or {}))
        try:
            await self.p.mailer.send(mail)
        except Exception as err:  # the relay's failure, recorded in the message and retried
            attempts = int(email.get("attempts") or 0) + 1
            email.update(delivery=Delivery.FAILED.value, error=(str(err) or type(err).__name__)[:300], attempts=attempts)
            if getattr(err, "permanent", False) or attempts >= self.config.max_attempts:
                email["gave_up"] = True
                email.pop("next_attempt_at", None)
                log.error("mail: gave up sending message %s to %s after %d attempt(s): %s", message_id,
                          mail.to, attempts, err)
            else:
                delay = retry_delay(attempts, base_seconds=self.config.retry_base_seconds,
                                    max_seconds=self.config.retry_max_seconds)
                email["next_attempt_at"] = (self.p.clock.now() + timedelta(seconds=delay)).isoformat()
                log.warning("mail: sending message %s to %s failed (attempt %d), again in %.0f s: %s", message_id,
                            mail.to, attempts, delay, err)
                self._kick(message_id, delay)
        else:
            email.update(delivery=Delivery.SENT.value, sent_at=self.p.clock.now().isoformat(), error=None,
                         attempts=int(email.get("attempts") or 0) + 1)
            email.pop("next_attempt_at", None)
        await self.p.run(self._store_email, message_id, email)

    def _message_row(self, message_id: str) -> dict[str, Any] | None:
        with self.p.store.begin() as conn:
            row = conn.execute(select(t.messages).where(t.messages.c.id == message_id)).mappings().first()
        return dict(row) if row else None

    def _pending_outgoing(self) -> list[tuple[str, float]]:
        """Outgoing messages still to send (after a restart), with the seconds until they are due."""
        msg = t.messages
        delivery = msg.c.email["delivery"].as_string()
        now = self.p.clock.now()
        out = []
        with self.p.store.begin() as conn:
            for r in conn.execute(select(msg.c.id, msg.c.email).where(
                    msg.c.email_message_id.is_not(None) & msg.c.sender.in_([str(Sender.AGENT), str(Sender.SYSTEM)])
                    & delivery.in_(TO_SEND))):
                email = r.email or {}
                if email.get("gave_up"):
                    continue
                due = _parse_time(email.get("next_attempt_at"))
                out.append((r.id, max(0.0, (due - now).total_seconds()) if due else 0.0))
        if out:
            log.info("mail: %d outgoing e-mail(s) still to send", len(out))
        return out

    # ---- IMAP ---------------------------------------------------------------------------------
    async def _poll_loop(self) -> None:
        while not self._stopping:
            try:
                await self.poll_all()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                log.exception("imap: a poll failed")
            await asyncio.sleep(self.config.poll_interval_seconds)

    async def poll_all(self) -> int:
        """Poll every mailbox once; returns how many messages were taken."""
        ids = await self.p.run(self._mailbox_ids)
        return sum([await self.poll_mailbox(x) for x in ids])

    def _mailbox_ids(self) -> list[str]:
        with self.p.store.begin() as conn:
            return [x for (x,) in conn.execute(select(t.mailboxes.c.id).order_by(t.mailboxes.c.created_at))]

    async def poll_mailbox(self, mailbox_id: str) -> int:
        """Take the new messages of one mailbox. Progress (UIDVALIDITY, last UID) is stored after
        each message, so each is taken once even across restarts; an error is stored in
        `last_error` and logged, and the next poll starts where this one stopped."""
        taken = 0
        while True:
            box = await self.p.run(self._mailbox_row, mailbox_id)
            if box is None:
                return taken
            account = ImapAccount(box["host"], box["port"], box["security"], box["username"], box["password"],
                                  box["folder"])
            try:
                fetched = await asyncio.to_thread(fetch_new, account, uidvalidity=box["uidvalidity"],
                                                  last_uid=box["last_uid"], limit=self.config.imap_batch,
                                                  max_bytes=self.config.max_message_bytes)
            except ImapError as err:
                log.warning("imap: mailbox %s (%s@%s): %s", mailbox_id, box["username"], box["host"], err)
                await self.p.run(self._mailbox_progress, box, last_error=str(err)[:500])
                return taken
            if fetched.restarted:
                if box["uidvalidity"] is not None:
                    log.warning("imap: mailbox %s: UIDVALIDITY changed (%s → %s); starting after UID %d, "
                                "nothing re-imported", mailbox_id, box["uidvalidity"], fetched.uidvalidity,
                                fetched.start_uid)
                box = await self.p.run(self._mailbox_progress, box, uidvalidity=fetched.uidvalidity,
                                       last_uid=fetched.start_uid)
                if box is None:
                    return taken
            for item in fetched.messages:
                try:
                    await self._import(box, item)
                except Exception as err:
                    self.failures += 1
                    log.exception("imap: mailbox %s: message UID %d could not be taken; tried again next poll",
                                  mailbox_id, item.uid)
                    await self.p.run(self._mailbox_progress, box, last_error=f"UID {item.uid}: {err}"[:500])
                    return taken
                box = await self.p.run(self._mailbox_progress, box, last_uid=item.uid)
                if box is None:
                    return taken
                taken += 1
            if not fetched.more:
                await self.p.run(self._mailbox_progress, box, last_error=None)
                return taken

    async def _import(self, box: dict[str, Any], item: FetchedMessage) -> None:
        if not item.raw:
            return  # expunged between SEARCH and FETCH
        route = await self.p.run(self._mailbox_route, box)
        try:
            mail = await asyncio.to_thread(parse_message, item.raw, self.config.limits)
        except ParseError as err:
            log.warning("imap: mailbox %s: message UID %d is not a readable e-mail (%s); skipped", box["id"],
                        item.uid, err.reason, exc_info=err.internal)
            return
        if item.truncated:
            mail = dataclasses.replace(mail, notes=(*mail.notes, (
                f"This e-mail ({item.size:,} bytes) is larger than the limit of {self.config.max_message_bytes:,} "
                "bytes: only its header was imported. Ask the sender for a smaller message.")))
        await self.receive(mail, route, source="imap")

    def _mailbox_row(self, mailbox_id: str) -> dict[str, Any] | None:
        with self.p.store.begin() as conn:
            row = conn.execute(select(t.mailboxes).where(t.mailboxes.c.id == mailbox_id)).mappings().first()
        return dict(row) if row else None

    def _mailbox_route(self, box: dict[str, Any]) -> MailRoute:
        row = self._address_row(box["address"])
        if row is not None and row["program_id"] == box["program_id"]:
            return _route(row)
        return MailRoute(box["operator_id"], box["tenant_id"], box["program_id"], box["address"].lower())

    def _mailbox_progress(self, box: dict[str, Any], **values: Any) -> dict[str, Any] | None:
        """Store progress unless an admin changed the mailbox meanwhile (its UIDVALIDITY was reset):
        then nothing is written and None is returned."""
        b = t.mailboxes
        same = b.c.uidvalidity.is_(None) if box["uidvalidity"] is None else b.c.uidvalidity == box["uidvalidity"]
        values["last_polled_at"] = self.p.clock.now()
        with self.p.store.begin() as conn:
            done = conn.execute(update(b).where(and_(b.c.id == box["id"], same)).values(**values)).rowcount
        return {**box, **values} if done else None


# ---- helpers of the inbound path --------------------------------------------------------------------
def _body(mail: InboundMail) -> str:
    """The stored text: never empty, within the e-mail limit, with the notes (dropped attachments)."""
    notes = list(mail.notes)
    if len(notes) > 12:
        notes = [*notes[:10], f"… and {len(notes) - 10} more notes like these."]
    room = MAX_EMAIL_CHARS - sum(len(n) + 4 for n in notes) - 200
    text = mail.text
    if len(text) > room:
        text = text[:room]
        notes.append(f"The text of this e-mail was cut after {room:,} characters.")
    try:
        text = clean_text(text, "body", MAX_EMAIL_CHARS)
    except InvalidInput:
        text = "(This e-mail has no text" + ("; see its attachments.)" if mail.attachments else ".)")
    return "\n\n".join([text, *(f"[{n}]" for n in notes)])


def _attachments(mail: InboundMail) -> list[talk.NewAttachment]:
    return [talk.NewAttachment(a.filename, a.content_type, a.data) for a in mail.attachments]


def _inbound_json(mail: InboundMail, route: MailRoute, key: str, source: str) -> dict[str, Any]:
    email: dict[str, Any] = {
        "direction": "in", "source": source, "subject": mail.subject, "from": mail.sender.as_dict(),
        "to": [a.as_dict() for a in mail.to], "cc": [a.as_dict() for a in mail.cc],
        "reply_to": [a.as_dict() for a in mail.reply_to][:5], "message_id": key, "in_reply_to": mail.in_reply_to,
        "references": list(mail.references), "date": mail.date.isoformat() if mail.date else None,
        "received_at": route.address}
    if not mail.message_id:
        email["message_id_generated"] = True
    if mail.auto_submitted:
        email["auto_submitted"] = mail.auto_submitted
    if mail.dropped:
        email["dropped_attachments"] = [d.as_dict() for d in mail.dropped]
    if mail.remote_images_blocked:
        email["remote_images_blocked"] = mail.remote_images_blocked
    return email


def _reply_address(last: dict[str, Any], interaction: Interaction) -> tuple[str | None, str | None]:
    for candidate in [*(last.get("reply_to") or []), last.get("from") or {}]:
        if candidate.get("address"):
            return candidate["address"], candidate.get("name")
    return interaction.customer.email, interaction.customer.name


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# ---- chat transcripts -------------------------------------------------------------------------------
async def send_chat_transcript(p: Platform, interaction_id: str, to_address: str) -> None:
    """E-mail the transcript of a chat to `to_address`, from the program's address (else the
    default sender), through platform.mailer. Raises InvalidInput (field `email`: not an
    address), NotFound, and Unavailable when no relay is configured or the relay did not take
    it (nothing is retried: the caller may offer it again)."""
    if not isinstance(to_address, str) or not valid_address(to_address.strip()):
        raise InvalidInput("email", "not an e-mail address")
    if p.mailer is None:
        raise Unavailable("no SMTP relay is configured: the transcript cannot be e-mailed", feature="email")

    def gather() -> tuple[dict[str, Any], str, dict[str, str], tuple[str | None, str | None]]:
        with p.store.begin() as conn:
            row = conn.execute(select(t.interactions).where(t.interactions.c.id == interaction_id)).mappings().first()
            if row is None:
                raise NotFound("interaction", interaction_id)
            program = conn.execute(select(t.programs.c.name).where(t.programs.c.id == row["program_id"])).scalar()
            agents = {r.id: r.name for r in conn.execute(select(t.agents.c.id, t.agents.c.name).where(
                t.agents.c.operator_id == row["operator_id"]))}
            sender = conn.execute(select(t.mail_addresses.c.address, t.mail_addresses.c.display_name).where(
                t.mail_addresses.c.program_id == row["program_id"]).order_by(t.mail_addresses.c.created_at)).first()
        return dict(row), program or "us", agents, (sender.address, sender.display_name) if sender else (None, None)

    row, program, agents, (from_address, from_name) = await p.run(gather)
    messages = await p.run(talk.read_messages, p, interaction_id)
    lines = [f"Your chat with {program}, {row['created_at']:%d %B %Y}", ""]
    for msg in messages:
        who = {Sender.CUSTOMER: "You", Sender.SYSTEM: program}.get(
            msg.sender, (agents.get(msg.agent_id or "") or "Agent").split(" ")[0])
        lines.append(f"[{msg.created_at:%H:%M} UTC] {who}:")
        lines += [f"  {line}" for line in msg.body.split("\n")]
        lines += [f"  (attachment: {a.filename})" for a in msg.attachments]
        lines.append("")
    lines.append("Thank you for contacting us.")
    mail = OutgoingMail(to=to_address.strip(), subject=f"Your chat with {program}"[:200], text="\n".join(lines),
                        from_address=from_address, from_name=from_name, headers={"Auto-Submitted": "auto-generated"})
    try:
        await p.mailer.send(mail)
    except Exception as err:  # the relay's failure: the caller records nothing and may offer it again
        log.warning("mail: the transcript of %s to %s was not sent: %s", interaction_id, mail.to, err)
        raise Unavailable(f"the mail relay did not take the transcript: {err}"[:300], feature="email") from err
