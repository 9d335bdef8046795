"""Web chat, the customer's side: the widget's sessions, what the customer may do in them, and
the live feed of one conversation for her socket.

A customer has no login. Starting a chat (a pre-chat form: name, e-mail, first question) creates
a chat interaction through the program's default workflow, a `chat_sessions` row and the first
message, and hands out a *session token*: 32 random bytes, url-safe; the store keeps only its
SHA-256. Every later call presents the token and reaches that one conversation — no call takes an
interaction id, so a token can never name another conversation. An unknown token is `not-found`.

What the customer sees of a conversation is filtered here (`customer_message`): the body, who
wrote it (an agent by her first name only), the number and time; never tone scores, agent ids or
anything the agent's desk keeps for itself.

States as the customer sees them (`ChatState`): waiting (queued or ringing an agent — with
position and estimated wait; `transferred` when an agent handed her back to a queue), active
(an agent has her), ended (she left, or the agent ended or completed the contact). After the end
she may rate the chat (1–5, a comment) and ask for the transcript by e-mail, once, to the address
she gave (never to another: the widget must not become a way to mail strangers).

Limits (per process, in memory, like the login limiter): messages per session in a sliding
10-second window, typing/read signals three times that, new sessions per client address per
minute. Sizes: 4,000 characters a message, pre-chat fields bounded (MAX_* below).
"""
from __future__ import annotations

import asyncio
import enum
import importlib
import inspect
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from ..adapters.sql import mapping as m
from ..adapters.sql import tables as t
from ..domain.conversations import MAX_CHAT_CHARS, Sender, clean_text
from ..domain.errors import Conflict, InvalidInput, InvalidTransition, NotFound, RateLimited, Unavailable
from ..domain.events import Event, EventName
from ..domain.ids import new_id
from ..domain.interactions import Channel, Customer, Interaction, InteractionState
from ..domain.organization import Scope
from . import conversations as talk
from . import interactions as work
from .auth import token_hash
from .platform import Platform

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a forward path, less the angle brackets
MAX_COMMENT_CHARS = 1_000
MAX_PAGE_URL_CHARS = 2_000
MAX_TOKEN_CHARS = 128
MESSAGE_WINDOW_SECONDS = 10.0
SIGNALS_PER_MESSAGE = 3  # typing and read signals allowed per message allowed
CUSTOMER_LEFT = "The customer left the chat"
CUSTOMER_LEFT_REF = "hearthline:customer-left"  # its client_ref: ending twice writes it once
YOU_LEFT = "You left the chat."  # the same system message, as the customer reads it
QUESTION_REF = "hearthline:question"
# Deliberately simple: one @, something on each side, a dot in the domain, no spaces. The real
# check is whether mail arrives; this catches typing mistakes, not every RFC 5322 oddity.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


class ChatState(enum.StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class ChatLimits:
    messages_per_window: int = 20  # per session, in MESSAGE_WINDOW_SECONDS
    sessions_per_minute: int = 10  # per client address


@dataclass(frozen=True, slots=True)
class PreChat:
    name: str
    email: str
    question: str


@dataclass(frozen=True, slots=True)
class ChatSession:
    id: str
    operator_id: str
    tenant_id: str
    program_id: str
    interaction_id: str
    customer_read_seq: int
    agent_read_seq: int
    rating: int | None
    rating_comment: str | None
    transcript_sent_at: datetime | None
    ended_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ChatSession:
        return cls(row["id"], row["operator_id"], row["tenant_id"], row["program_id"], row["interaction_id"],
                   row["customer_read_seq"], row["agent_read_seq"], row["rating"], row["rating_comment"],
                   row["transcript_sent_at"], row["ended_at"], row["created_at"])

    @property
    def scope(self) -> Scope:
        """The platform acting for this customer: her operator and her client company only."""
        return Scope(self.operator_id, frozenset({self.tenant_id}))


# ---- pure parts ---------------------------------------------------------------------------------
def new_token() -> str:
    """A session token: 32 random bytes, url-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def check_prechat(name: Any, email: Any, question: Any) -> PreChat:
    """The pre-chat form, cleaned (control characters out, NFC, trimmed). Raises InvalidInput
    naming the first bad field: `name` (1–100 characters), `email` (an address, at most 254),
    `question` (1–4,000 characters)."""
    name = clean_text(name, "name", MAX_NAME_CHARS)
    email = clean_text(email, "email", MAX_EMAIL_CHARS)
    if not _EMAIL.match(email):
        raise InvalidInput("email", "not an e-mail address")
    question = clean_text(question, "question", MAX_CHAT_CHARS)
    return PreChat(name, email, question)


def first_name(full_name: str | None) -> str | None:
    """What the customer is told of her agent: the first word of the display name."""
    if not full_name:
        return None
    words = full_name.split()
    return words[0] if words else None


def chat_state(state: InteractionState, customer_left: bool) -> tuple[ChatState, str | None]:
    """(the customer's state, who ended it: "customer", "agent" or None while it goes on)."""
    if customer_left:
        return ChatState.ENDED, "customer"
    if state in (InteractionState.WRAP_UP, InteractionState.COMPLETED, InteractionState.ABANDONED):
        return ChatState.ENDED, "agent"
    if state in (InteractionState.ACCEPTED, InteractionState.HELD):
        return ChatState.ACTIVE, None
    return ChatState.WAITING, None


def customer_message(message: Mapping[str, Any], agent_names: Mapping[str, str | None]) -> dict[str, Any]:
    """A stored message (as `Message.as_dict`) as the customer may see it."""
    sender = str(message["sender"])
    body = message["body"]
    if sender == Sender.SYSTEM and message.get("client_ref") == CUSTOMER_LEFT_REF:
        body = YOU_LEFT
    out: dict[str, Any] = {"seq": message["seq"], "sender": sender, "body": body,
                           "created_at": message["created_at"]}
    if sender == Sender.CUSTOMER:
        out["client_ref"] = message.get("client_ref")
    elif sender == Sender.AGENT:
        out["agent_name"] = agent_names.get(message.get("agent_id") or "")
    return out


class SlidingWindow:
    """At most `limit` hits per key in any `window_seconds`; `hit` raises RateLimited (with
    `retry_after_seconds`) instead of counting one more. Keys whose hits have all expired are
    dropped now and then, so memory follows the active keys only."""

    def __init__(self, limit: int, window_seconds: float, *, what: str,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.what = what
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> None:
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._prune(now)
            hits = self._hits[key] = deque()
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = max(1, int(self.window - (now - hits[0])) + 1)
            raise RateLimited(f"too many {self.what}; wait {retry} s and try again", retry_after_seconds=retry)
        hits.append(now)

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # all busy: forget the oldest rather than grow
            for key in list(self._hits)[: len(self._hits) // 2]:
                del self._hits[key]


# ---- the use cases ------------------------------------------------------------------------------
TranscriptSender = Callable[[Platform, str, str], Any]


def transcript_sender() -> TranscriptSender | None:
    """`services.email.send_chat_transcript` if this installation has it, else None. Looked up at
    call time: the e-mail component is optional. A broken e-mail module fails loudly."""
    name = f"{__package__}.email"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        return None
    sender = getattr(module, "send_chat_transcript", None)
    return sender if callable(sender) else None


class CustomerChats:
    """The customer's side of web chat on one platform (one per process; holds the limiters)."""

    def __init__(self, platform: Platform, limits: ChatLimits | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 send_transcript: Callable[[], TranscriptSender | None] = transcript_sender) -> None:
        self.platform = platform
        self.limits = limits or ChatLimits()
        self._messages = SlidingWindow(self.limits.messages_per_window, MESSAGE_WINDOW_SECONDS,
                                       what="messages", clock=clock)
        self._signals = SlidingWindow(self.limits.messages_per_window * SIGNALS_PER_MESSAGE, MESSAGE_WINDOW_SECONDS,
                                      what="typing and read signals", clock=clock)
        self._starts = SlidingWindow(self.limits.sessions_per_minute, 60.0, what="new chats from this address",
                                     clock=clock)
        self._transcript_sender = send_transcript

    # ---- sessions ---------------------------------------------------------------------------
    async def start(self, program_id: str, name: Any, email: Any, question: Any, *, client: str,
                    page_url: str | None = None, client_ref: str | None = None
                    ) -> tuple[str, ChatSession, dict[str, Any]]:
        """Start a chat from the pre-chat form: a chat interaction routed by the program's default
        workflow, its session, and the question as the first customer message. Returns (token —
        shown this once —, the session, the customer's view as `view` gives it). Raises
        InvalidInput (a field, or `program_id` for a program without a default workflow),
        NotFound (program), RateLimited (too many new chats from `client`)."""
        p = self.platform
        prechat = check_prechat(name, email, question)
        if page_url is not None:
            page_url = clean_text(page_url, "page_url", MAX_PAGE_URL_CHARS)
        self._starts.hit(f"client:{client}")
        program = await p.run(_program, p, program_id)
        if program.default_workflow_id is None:
            raise InvalidInput("program_id", "this program takes no chats: it has no default workflow")
        attributes: dict[str, Any] = {"source": "web chat"}
        if page_url:
            attributes["page_url"] = page_url
        scope = Scope(program.operator_id)
        interaction = await work.create_interaction(p, scope, work.NewInteraction(
            program.id, Channel.CHAT, customer=Customer(name=prechat.name, email=prechat.email),
            attributes=attributes))
        token = new_token()
        try:
            session = await p.run(_insert_session, p, interaction, token)
            await talk.add_message(p, interaction, Sender.CUSTOMER, prechat.question,
                                   client_ref=client_ref or QUESTION_REF, body_field="question")
        except BaseException:
            # The contact would wait for an agent with nobody behind it: take it back.
            try:
                await work.abandon(p, scope, interaction.id)
            except Exception:
                log.exception("could not abandon chat %s after a failed start", interaction.id)
            raise
        return token, session, await self.view(session)

    async def open(self, token: str | None) -> ChatSession:
        """The session of a token. NotFound for a missing, malformed or unknown one."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise NotFound("chat session", "(this token)")
        return await self.platform.run(_session_by_hash, self.platform, token_hash(token))

    async def view(self, session: ChatSession, *, with_transcript: bool = True, after_seq: int = 0
                   ) -> dict[str, Any]:
        """What the widget shows: state, position and estimated wait (while waiting), the agent's
        first name (while active), read receipts, rating, and the transcript after `after_seq`."""
        snapshot = await self.status(session)
        if with_transcript:
            snapshot["messages"] = await self.transcript(session, after_seq=after_seq)
        return snapshot

    async def status(self, session: ChatSession) -> dict[str, Any]:
        """The `status` part of `view` (fresh from the store and the router)."""
        p = self.platform
        fresh, interaction, agent_name = await p.run(_snapshot, p, session.id)
        state, ended_by = chat_state(interaction.state, fresh.ended_at is not None)
        position = ewt = None
        if state is ChatState.WAITING:
            live = await p.in_router(fresh.scope, _live(interaction.id))
            if live is not None:
                position, ewt = live
        return {
            "state": str(state), "interaction_id": interaction.id, "program_id": fresh.program_id,
            "position": position, "estimated_wait_seconds": ewt,
            "agent_name": first_name(agent_name) if state is ChatState.ACTIVE else None,
            "transferred": state is ChatState.WAITING and interaction.transfer is not None,
            "queue_id": interaction.queue_id if state is ChatState.WAITING else None,
            "ended_by": ended_by, "customer_name": interaction.customer.name,
            "customer_read_seq": fresh.customer_read_seq, "agent_read_seq": fresh.agent_read_seq,
            "rating": fresh.rating, "transcript_sent": fresh.transcript_sent_at is not None,
        }

    async def transcript(self, session: ChatSession, *, after_seq: int = 0) -> list[dict[str, Any]]:
        p = self.platform
        messages = await p.run(talk.read_messages, p, session.interaction_id, after_seq=max(0, after_seq))
        names = await p.run(_agent_first_names, p, session.operator_id,
                            {m.agent_id for m in messages if m.agent_id})
        return [customer_message(m.as_dict(with_html=False), names) for m in messages]

    # ---- what the customer does -------------------------------------------------------------
    async def _interaction(self, session: ChatSession) -> Interaction:
        row = await self.platform.run(self.platform.store.get_row, t.interactions, "interaction",
                                      session.interaction_id, session.scope)
        return m.interaction_from_row(row)

    async def _going_on(self, session: ChatSession) -> Interaction:
        """The interaction, unless the chat has ended (InvalidTransition)."""
        fresh, interaction = await self.platform.run(_session_and_interaction, self.platform, session.id)
        state, _ = chat_state(interaction.state, fresh.ended_at is not None)
        if state is ChatState.ENDED:
            raise InvalidTransition("the chat has ended", state=str(state))
        return interaction

    async def post(self, session: ChatSession, body: Any, *, client_ref: str | None = None) -> dict[str, Any]:
        """The customer writes. A message whose `client_ref` is already stored is answered as
        stored and not doubled (the widget resends after a drop). Raises InvalidInput (`body`:
        empty or over 4,000 characters), InvalidTransition (ended), RateLimited."""
        self._messages.hit(session.id)
        interaction = await self._going_on(session)
        message = await talk.add_message(self.platform, interaction, Sender.CUSTOMER, body, client_ref=client_ref)
        return customer_message(message.as_dict(with_html=False), {})

    async def typing(self, session: ChatSession, is_typing: bool) -> None:
        self._signals.hit(session.id)
        interaction = await self._going_on(session)
        await talk.typing(self.platform, interaction, Sender.CUSTOMER, is_typing)

    async def read(self, session: ChatSession, seq: int) -> int:
        """The customer has seen every message up to `seq` (kept at most the last message's
        number). Returns the number recorded."""
        if seq < 0:
            raise InvalidInput("seq", "must be 0 or more")
        self._signals.hit(session.id)
        p = self.platform
        interaction = await self._interaction(session)
        seq = min(seq, await p.run(_last_seq, p, interaction.id))
        await talk.mark_read(p, interaction, Sender.CUSTOMER, seq)
        return seq

    async def end(self, session: ChatSession) -> dict[str, Any]:
        """The customer leaves. While waiting, the contact is abandoned; with an agent, "The
        customer left the chat" is written to the conversation and the agent completes it.
        Idempotent: ending an ended chat changes nothing. Returns the view without transcript."""
        p = self.platform
        fresh, interaction = await p.run(_session_and_interaction, p, session.id)
        state, _ = chat_state(interaction.state, fresh.ended_at is not None)
        if state is ChatState.WAITING:
            try:
                await work.abandon(p, Scope(fresh.operator_id), interaction.id)
            except (InvalidTransition, NotFound):
                interaction = await self._interaction(fresh)  # an agent took it meanwhile
                state, _ = chat_state(interaction.state, False)
        if state is ChatState.ACTIVE:
            await talk.add_message(p, interaction, Sender.SYSTEM, CUSTOMER_LEFT, client_ref=CUSTOMER_LEFT_REF)
        if state is not ChatState.ENDED:
            await p.run(_set_ended, p, fresh.id, p.clock.now())
        return await self.view(fresh, with_transcript=False)

    async def rate(self, session: ChatSession, rating: Any, comment: Any = None) -> dict[str, Any]:
        """After the end: 1–5 and an optional comment (at most 1,000 characters). Rating again
        replaces the rating. Raises InvalidInput (`rating`, `comment`), InvalidTransition (the
        chat goes on). Publishes ChatRated."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidInput("rating", "a whole number from 1 to 5")
        text = None
        if comment is not None and (not isinstance(comment, str) or comment.strip()):
            text = clean_text(comment, "comment", MAX_COMMENT_CHARS)
        p = self.platform
        fresh, interaction = await p.run(_session_and_interaction, p, session.id)
        state, _ = chat_state(interaction.state, fresh.ended_at is not None)
        if state is not ChatState.ENDED:
            raise InvalidTransition("rate the chat once it has ended", state=str(state))
        await p.run(_set_rating, p, fresh.id, rating, text)
        await p.bus.publish([Event(EventName.CHAT_RATED, p.clock.now(), fresh.operator_id, fresh.tenant_id,
                                   interaction.id, interaction.agent_id, interaction.queue_id,
                                   {"rating": rating, "comment": text, "channel": str(Channel.CHAT)})])
        return {"rating": rating, "comment": text}

    async def send_transcript(self, session: ChatSession) -> dict[str, Any]:
        """After the end, once: the transcript by e-mail to the address of the pre-chat form.
        Raises InvalidTransition (the chat goes on), Conflict (already sent), Unavailable (this
        server has no e-mail transcript; nothing is recorded); an error of the sender passes
        through and nothing is recorded either."""
        p = self.platform
        fresh, interaction = await p.run(_session_and_interaction, p, session.id)
        state, _ = chat_state(interaction.state, fresh.ended_at is not None)
        if state is not ChatState.ENDED:
            raise InvalidTransition("the transcript is sent once the chat has ended", state=str(state))
        address = interaction.customer.email
        if not address:
            raise InvalidInput("email", "this chat has no e-mail address")
        sender = self._transcript_sender()
        if sender is None:
            raise Unavailable("this server cannot e-mail transcripts (no e-mail component)", feature="email")
        if not await p.run(_claim_transcript, p, fresh.id, p.clock.now()):
            raise Conflict("the transcript was already sent", field="transcript")
        try:
            result = sender(p, interaction.id, address)
            if inspect.isawaitable(result):
                await result
        except BaseException:
            await p.run(_release_transcript, p, fresh.id)
            raise
        sent_at = p.clock.now()
        await p.run(_mark_transcript_sent, p, fresh.id, sent_at)
        return {"sent_to": address, "sent_at": sent_at.isoformat()}

    def feed(self, session: ChatSession, *, after_seq: int = 0) -> ChatFeed:
        return ChatFeed(self, session, after_seq=after_seq)


# ---- the live feed of one conversation ----------------------------------------------------------
STATUS_MIN_SECONDS = 1.0  # status sent at most this often for other contacts' moves in the queue
STATUS_WAITING_SECONDS = 5.0  # and at least this often while waiting (position and wait change)
STATUS_IDLE_SECONDS = 25.0  # and this often otherwise: the widget's sign that the socket lives
MAX_PENDING = 256


class ChatFeed:
    """One customer socket: a bus subscriber that only files what concerns her conversation (it
    runs inside the publisher and never waits), and `run(send)`, which turns that into the
    socket's messages — `status`, `message`, `typing`, `read`.

    Nothing is missed and nothing doubled: the feed subscribes before it reads the transcript
    after `after_seq`, sends each message in number order once (a message event that is not the
    next number makes it read the gap from the store), and if it ever had to drop events (a
    slow reader) it reads the store again instead of trusting the queue."""

    def __init__(self, chats: CustomerChats, session: ChatSession, *, after_seq: int = 0,
                 capacity: int = MAX_PENDING) -> None:
        self.chats = chats
        self.session = session
        self.last_seq = max(0, after_seq)
        self.items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(capacity)
        self.overflowed = False
        self.status_due = False
        self.queue_id: str | None = None  # the queue she waits in: others' moves there move her
        self.agent_names: dict[str, str | None] = {}

    # ---- the bus side -----------------------------------------------------------------------
    async def on_events(self, events: list[Event]) -> None:
        session = self.session
        for event in events:
            if event.operator_id != session.operator_id:
                continue
            if event.interaction_id == session.interaction_id:
                if event.name is EventName.MESSAGE_ADDED:
                    message = event.data.get("message") or {}
                    self._push(("message", message))
                    if message.get("sender") == Sender.SYSTEM:
                        self._status(urgent=True)
                elif event.name is EventName.TYPING:
                    if event.data.get("sender") != Sender.CUSTOMER:
                        self._push(("typing", bool(event.data.get("typing"))))
                elif event.name is EventName.MESSAGES_READ:
                    if event.data.get("reader") != Sender.CUSTOMER:
                        self._push(("read", event.data.get("seq")))
                elif event.name not in (EventName.ALERT_RAISED, EventName.ALERT_ACKNOWLEDGED, EventName.CHAT_RATED):
                    self._status(urgent=True)  # her contact moved: offered, accepted, transferred, ended
            elif self.queue_id is not None and event.queue_id == self.queue_id and event.name not in (
                    EventName.MESSAGE_ADDED, EventName.TYPING, EventName.MESSAGES_READ):
                self._status(urgent=False)

    def _status(self, *, urgent: bool) -> None:
        if urgent:
            self._push(("status", True))
        elif not self.status_due:
            self.status_due = True
            self._push(("status", False))

    def _push(self, item: tuple[str, Any]) -> None:
        if self.items.full():
            self.items.get_nowait()
            self.overflowed = True
        self.items.put_nowait(item)

    # ---- the socket side --------------------------------------------------------------------
    async def run(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Send until cancelled (or `send` fails): the status, the transcript after `after_seq`,
        then what happens."""
        p = self.chats.platform
        unsubscribe = p.bus.subscribe(self.on_events)
        try:
            await self._loop(send)
        finally:
            unsubscribe()

    async def _send_status(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> bool:
        status = await self.chats.status(self.session)
        self.queue_id = status.pop("queue_id")
        await send({"type": "status", **status})
        return status["state"] == ChatState.WAITING

    async def _catch_up(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        for message in await self.chats.transcript(self.session, after_seq=self.last_seq):
            if message["seq"] > self.last_seq:
                await send({"type": "message", "message": message})
                self.last_seq = message["seq"]

    async def _message(self, send: Callable[[dict[str, Any]], Awaitable[None]], raw: dict[str, Any]) -> None:
        seq = raw.get("seq")
        if not isinstance(seq, int) or seq <= self.last_seq:
            return  # already sent (caught up from the store, or a duplicate)
        if seq != self.last_seq + 1:
            await self._catch_up(send)  # a gap: the store has every number
            return
        agent_id = raw.get("agent_id")
        if agent_id and agent_id not in self.agent_names:
            p = self.chats.platform
            self.agent_names.update(await p.run(_agent_first_names, p, self.session.operator_id, {agent_id}))
        await send({"type": "message", "message": customer_message(raw, self.agent_names)})
        self.last_seq = seq

    async def _loop(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        p = self.chats.platform
        # A client that claims more than there is (a stale after_seq) must not skip what comes.
        self.last_seq = min(self.last_seq, await p.run(_last_seq, p, self.session.interaction_id))
        waiting = await self._send_status(send)
        sent_at = loop.time()
        await self._catch_up(send)
        due_at = sent_at + (STATUS_WAITING_SECONDS if waiting else STATUS_IDLE_SECONDS)
        while True:
            try:
                kind, value = await asyncio.wait_for(self.items.get(), max(0.0, due_at - loop.time()))
            except TimeoutError:
                kind, value = "status", True
            if self.overflowed:  # events were dropped: the store and the router have the truth
                self.overflowed = False
                await self._catch_up(send)
                kind, value = "status", True
            if kind == "message":
                await self._message(send, value)
            elif kind == "typing":
                await send({"type": "typing", "typing": value})
            elif kind == "read":
                await send({"type": "read", "seq": value})
            elif kind == "status":
                if not value:
                    self.status_due = False
                    if loop.time() - sent_at < STATUS_MIN_SECONDS:
                        due_at = min(due_at, sent_at + STATUS_MIN_SECONDS)
                        continue
                waiting = await self._send_status(send)
                sent_at = loop.time()
                due_at = sent_at + (STATUS_WAITING_SECONDS if waiting else STATUS_IDLE_SECONDS)


# ---- the store ----------------------------------------------------------------------------------
async def public_program(p: Platform, program_id: str) -> Any:
    """The program a widget names (NotFound if none): public, as the widget's tag is."""
    return await p.run(_program, p, program_id)


def _program(p: Platform, program_id: str) -> Any:
    """Blocking: the program, whatever its operator (the widget names only the program)."""
    with p.store.begin() as conn:
        row = conn.execute(select(t.programs).where(t.programs.c.id == program_id)).mappings().first()
    if row is None:
        raise NotFound("program", program_id)
    return m.program_from_row(row)


def _insert_session(p: Platform, interaction: Interaction, token: str) -> ChatSession:
    row = {"id": new_id(), "operator_id": interaction.operator_id, "tenant_id": interaction.tenant_id,
           "program_id": interaction.program_id, "interaction_id": interaction.id, "token_hash": token_hash(token),
           "customer_read_seq": 0, "agent_read_seq": 0, "rating": None, "rating_comment": None,
           "transcript_sent_at": None, "ended_at": None, "created_at": p.clock.now()}
    p.store.insert_row(t.chat_sessions, row)
    return ChatSession.of(row)


def _session_by_hash(p: Platform, hashed: str) -> ChatSession:
    with p.store.begin() as conn:
        row = conn.execute(select(t.chat_sessions).where(t.chat_sessions.c.token_hash == hashed)).mappings().first()
    if row is None:
        raise NotFound("chat session", "(this token)")
    return ChatSession.of(row)


def _session_and_interaction(p: Platform, session_id: str) -> tuple[ChatSession, Interaction]:
    """Blocking: the session as stored now and its interaction, in one transaction."""
    with p.store.begin() as conn:
        row = conn.execute(select(t.chat_sessions).where(t.chat_sessions.c.id == session_id)).mappings().first()
        if row is None:
            raise NotFound("chat session", session_id)
        session = ChatSession.of(row)
        found = conn.execute(select(t.interactions).where(
            (t.interactions.c.id == session.interaction_id)
            & (t.interactions.c.operator_id == session.scope.operator_id))).mappings().first()
    if found is None:
        raise NotFound("interaction", session.interaction_id)
    return session, m.interaction_from_row(found)


def _snapshot(p: Platform, session_id: str) -> tuple[ChatSession, Interaction, str | None]:
    """Blocking: the session, its interaction and the name of the agent who has it, in one go."""
    s, i, a = t.chat_sessions, t.interactions, t.agents
    with p.store.begin() as conn:
        row = conn.execute(select(s).where(s.c.id == session_id)).mappings().first()
        if row is None:
            raise NotFound("chat session", session_id)
        session = ChatSession.of(row)
        irow = conn.execute(select(i).where((i.c.id == session.interaction_id)
                                            & (i.c.operator_id == session.operator_id))).mappings().first()
        if irow is None:
            raise NotFound("interaction", session.interaction_id)
        interaction = m.interaction_from_row(irow)
        name = None
        if interaction.agent_id:
            name = conn.execute(select(a.c.name).where((a.c.id == interaction.agent_id)
                                                       & (a.c.operator_id == session.operator_id))).scalar()
    return session, interaction, name


def _agent_first_names(p: Platform, operator_id: str, agent_ids: set[str]) -> dict[str, str | None]:
    if not agent_ids:
        return {}
    a = t.agents
    with p.store.begin() as conn:
        rows = conn.execute(select(a.c.id, a.c.name).where((a.c.operator_id == operator_id)
                                                           & a.c.id.in_(sorted(agent_ids))))
        return {r.id: first_name(r.name) for r in rows}


def _last_seq(p: Platform, interaction_id: str) -> int:
    with p.store.begin() as conn:
        return int(conn.execute(select(func.max(t.messages.c.seq))
                                .where(t.messages.c.interaction_id == interaction_id)).scalar() or 0)


def _set_ended(p: Platform, session_id: str, now: datetime) -> None:
    s = t.chat_sessions
    with p.store.begin() as conn:
        conn.execute(update(s).where((s.c.id == session_id) & s.c.ended_at.is_(None)).values(ended_at=now))


def _set_rating(p: Platform, session_id: str, rating: int, comment: str | None) -> None:
    s = t.chat_sessions
    with p.store.begin() as conn:
        conn.execute(update(s).where(s.c.id == session_id).values(rating=rating, rating_comment=comment))


def _claim_transcript(p: Platform, session_id: str, now: datetime) -> bool:
    """Mark the transcript as being sent, unless it was: one sender wins a race of two clicks."""
    s = t.chat_sessions
    with p.store.begin() as conn:
        result = conn.execute(update(s).where((s.c.id == session_id) & s.c.transcript_sent_at.is_(None))
                              .values(transcript_sent_at=now))
    return result.rowcount == 1


def _release_transcript(p: Platform, session_id: str) -> None:
    s = t.chat_sessions
    with p.store.begin() as conn:
        conn.execute(update(s).where(s.c.id == session_id).values(transcript_sent_at=None))


def _mark_transcript_sent(p: Platform, session_id: str, now: datetime) -> None:
    s = t.chat_sessions
    with p.store.begin() as conn:
        conn.execute(update(s).where(s.c.id == session_id).values(transcript_sent_at=now))


def _live(interaction_id: str) -> Callable[[Any, datetime], tuple[int, float | None] | None]:
    """In the router: (position, estimated wait in seconds, rounded) of a waiting contact."""

    def read(center: Any, now: datetime) -> tuple[int, float | None] | None:
        current = center.interactions.get(interaction_id)
        if current is None or not current.state.waiting:
            return None
        position, ewt = center.estimated_wait(interaction_id)
        return position, None if ewt is None else round(ewt, 1)

    return read


__all__ = ["ChatFeed", "ChatLimits", "ChatSession", "ChatState", "CustomerChats", "PreChat", "SlidingWindow",
           "check_prechat", "chat_state", "customer_message", "first_name", "new_token", "transcript_sender"]
