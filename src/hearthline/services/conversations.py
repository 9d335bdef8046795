"""Conversations: the messages of chats and e-mails, read receipts, typing, tone and alerts.

Messages do not pass through the router (they change no routing state): each is written to the
store in its own transaction — numbered within its interaction — and then published on the bus
as a MessageAdded event, addressed to the interaction's agent. The agent's desk, the customer's
chat socket and a supervisor watching the conversation all take it from there.

Customer messages are scored for tone on the way in; a conversation that sours raises an alert
for supervisors (domain/tone.py decides when).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..adapters.sql import mapping as m
from ..adapters.sql import tables as t
from ..domain.conversations import MAX_CHAT_CHARS, MAX_EMAIL_CHARS, AttachmentInfo, Message, Sender, clean_text
from ..domain.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from ..domain.events import Event, EventName
from ..domain.ids import new_id
from ..domain.interactions import Channel, Interaction, InteractionState
from ..domain.organization import Role, Scope
from ..domain.tone import ToneWatch
from . import interactions as work
from .platform import Platform

log = logging.getLogger(__name__)
TONE_WATCH = ToneWatch()
_SEQ_RETRIES = 8


@dataclass(frozen=True, slots=True)
class NewAttachment:
    filename: str
    content_type: str
    data: bytes


def max_chars(channel: Channel) -> int:
    return MAX_EMAIL_CHARS if channel is Channel.EMAIL else MAX_CHAT_CHARS


# ---- reading ----------------------------------------------------------------------------------
def _message(row: dict[str, Any], attachments: tuple[AttachmentInfo, ...] = ()) -> Message:
    return Message(
        id=row["id"], operator_id=row["operator_id"], tenant_id=row["tenant_id"],
        interaction_id=row["interaction_id"], seq=row["seq"], sender=Sender(row["sender"]), body=row["body"],
        created_at=row["created_at"], agent_id=row["agent_id"], html=row["html"], sentiment=row["sentiment"],
        client_ref=row["client_ref"], email=row["email"], attachments=attachments,
    )


def read_messages(p: Platform, interaction_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[Message]:
    """Blocking: the interaction's messages after `after_seq`, in order, with their attachments
    (metadata only). The caller has checked access."""
    with p.store.begin() as conn:
        rows = [dict(r) for r in conn.execute(
            select(t.messages).where((t.messages.c.interaction_id == interaction_id) & (t.messages.c.seq > after_seq))
            .order_by(t.messages.c.seq).limit(limit)).mappings()]
        files: dict[str, list[AttachmentInfo]] = {}
        if rows:
            a = t.attachments
            for r in conn.execute(select(a.c.id, a.c.message_id, a.c.filename, a.c.content_type, a.c.size)
                                  .where(a.c.message_id.in_([r["id"] for r in rows])).order_by(a.c.created_at, a.c.id)
                                  ).mappings():
                files.setdefault(r["message_id"], []).append(
                    AttachmentInfo(r["id"], r["filename"], r["content_type"], r["size"]))
    return [_message(r, tuple(files.get(r["id"], ()))) for r in rows]


async def transcript(p: Platform, scope: Scope, interaction_id: str, *, after_seq: int = 0) -> list[Message]:
    """What was written, for anyone who may see the interaction (its agent, supervisors, admins,
    the tenant's client viewers)."""
    await work.get_interaction(p, scope, interaction_id)
    return await p.run(read_messages, p, interaction_id, after_seq=after_seq)


async def attachment(p: Platform, scope: Scope, attachment_id: str) -> tuple[AttachmentInfo, bytes]:
    row = await p.run(p.store.get_row, t.attachments, "attachment", attachment_id, scope)

    def message_of() -> str | None:
        with p.store.begin() as conn:
            return conn.execute(select(t.messages.c.interaction_id)
                                .where(t.messages.c.id == row["message_id"])).scalar()

    interaction_id = await p.run(message_of)
    if interaction_id is None:
        raise NotFound("attachment", attachment_id)
    await work.get_interaction(p, scope, interaction_id)  # an agent sees only her own contacts' files
    return AttachmentInfo(row["id"], row["filename"], row["content_type"], row["size"]), row["data"]


# ---- writing ----------------------------------------------------------------------------------
def _insert(p: Platform, interaction: Interaction, sender: Sender, body: str, now: datetime, *,
            agent_id: str | None, html: str | None, sentiment: float | None, client_ref: str | None,
            email: dict[str, Any] | None, attachments: list[NewAttachment]
            ) -> tuple[Message, tuple[list[float], bool] | bool | None]:
    """Blocking: store the message with the next number. Returns (message, what happened): False
    for a message whose client_ref is already stored (returned as it was: the sender retried),
    else the customer's tone history after it (None for a message with no tone score)."""
    email_message_id = (email or {}).get("message_id")
    for _ in range(_SEQ_RETRIES):
        try:
            with p.store.engine.begin() as conn:
                # One writer per conversation at a time (PostgreSQL locks the interaction's row;
                # SQLite has one writer anyway): the next number is then free to take.
                conn.execute(select(t.interactions.c.id).where(t.interactions.c.id == interaction.id)
                             .with_for_update())
                if client_ref is not None:
                    existing = conn.execute(select(t.messages).where(
                        (t.messages.c.interaction_id == interaction.id) & (t.messages.c.client_ref == client_ref))
                    ).mappings().first()
                    if existing is not None:
                        return _message(dict(existing)), False
                seq = (conn.execute(select(func.max(t.messages.c.seq))
                                    .where(t.messages.c.interaction_id == interaction.id)).scalar() or 0) + 1
                message = Message(new_id(), interaction.operator_id, interaction.tenant_id, interaction.id, seq,
                                  sender, body, now, agent_id=agent_id, html=html, sentiment=sentiment,
                                  client_ref=client_ref, email=email)
                conn.execute(insert(t.messages).values(
                    id=message.id, operator_id=message.operator_id, tenant_id=message.tenant_id,
                    interaction_id=message.interaction_id, seq=seq, sender=str(sender), agent_id=agent_id, body=body,
                    html=html, sentiment=sentiment, client_ref=client_ref, email=email,
                    email_message_id=email_message_id, created_at=now))
                infos = []
                for a in attachments:
                    info = AttachmentInfo(new_id(), a.filename, a.content_type, len(a.data))
                    conn.execute(insert(t.attachments).values(
                        id=info.id, operator_id=message.operator_id, tenant_id=message.tenant_id,
                        message_id=message.id, filename=a.filename, content_type=a.content_type, size=info.size,
                        data=a.data, created_at=now))
                    infos.append(info)
                message.attachments = tuple(infos)
                # read in the same transaction: the tone watch needs no second trip to the store
                tone = _tone_history(conn, interaction.id) if sentiment is not None else None
                return message, tone
        except IntegrityError:
            continue  # another message took this number (or the same client_ref) meanwhile: look again
    raise InvalidTransition("too many messages at once in this conversation; send again",
                            interaction_id=interaction.id)


async def _load(p: Platform, operator_id: str, interaction_id: str) -> Interaction:
    row = await p.run(p.store.get_row, t.interactions, "interaction", interaction_id, Scope(operator_id))
    return m.interaction_from_row(row)


async def add_message(p: Platform, interaction: Interaction, sender: Sender, body: str, *,
                      agent_id: str | None = None, html: str | None = None, client_ref: str | None = None,
                      email: dict[str, Any] | None = None, attachments: list[NewAttachment] | None = None,
                      body_field: str = "body") -> Message:
    """Store and publish a message of an interaction whose access the caller has checked; the
    channels (chat, e-mail) and the agent-side use case below call this. A customer message is
    scored for tone and may raise a supervisor alert. A message with a client_ref already stored
    is returned as stored, and nothing is published again."""
    message, _ = await _add(p, interaction, sender, body, agent_id=agent_id, html=html, client_ref=client_ref,
                            email=email, attachments=attachments, body_field=body_field)
    return message


async def _add(p: Platform, interaction: Interaction, sender: Sender, body: str, *, agent_id: str | None,
               html: str | None, client_ref: str | None, email: dict[str, Any] | None,
               attachments: list[NewAttachment] | None, body_field: str) -> tuple[Message, bool]:
    body = clean_text(body, body_field, max_chars(interaction.channel))
    if client_ref is not None and not 1 <= len(client_ref) <= 64:
        raise InvalidInput("client_ref", "1 to 64 characters")
    sentiment = None
    if sender is Sender.CUSTOMER and p.tone is not None:
        sentiment = p.tone.score(body)
    now = p.clock.now()
    message, outcome = await p.run(_insert, p, interaction, sender, body, now, agent_id=agent_id, html=html,
                                   sentiment=sentiment, client_ref=client_ref, email=email,
                                   attachments=list(attachments or ()))
    created = outcome is not False
    if created:
        await p.bus.publish([Event(EventName.MESSAGE_ADDED, now, interaction.operator_id, interaction.tenant_id,
                                   interaction.id, interaction.agent_id, interaction.queue_id,
                                   {"message": message.as_dict(with_html=False), "channel": str(interaction.channel)})])
        if isinstance(outcome, tuple):
            await _watch_tone(p, interaction, *outcome)
    return message, created


async def post_agent_message(p: Platform, scope: Scope, interaction_id: str, body: str, *,
                             client_ref: str | None = None, subject: str | None = None) -> Message:
    """The agent writes to the customer: in a chat the customer's widget shows it; an e-mail
    leaves through the channel's sender (the SMTP relay) with the thread's headers."""
    if scope.role is not Role.AGENT or scope.agent_id is None:
        raise PermissionDenied("only the agent handling the contact writes to the customer")
    interaction = await _load(p, scope.operator_id, interaction_id)
    if interaction.agent_id != scope.agent_id:
        raise NotFound("interaction", interaction_id)
    if interaction.channel not in (Channel.CHAT, Channel.EMAIL):
        raise InvalidInput("interaction_id", f"a {interaction.channel} contact has no written conversation")
    interaction.require(InteractionState.ACCEPTED, InteractionState.HELD, InteractionState.WRAP_UP)
    email = None
    if subject is not None:
        if interaction.channel is not Channel.EMAIL:
            raise InvalidInput("subject", "only an e-mail has a subject")
        email = {"subject": clean_text(subject, "subject", 998)}
    message, created = await _add(p, interaction, Sender.AGENT, body, agent_id=scope.agent_id, html=None,
                                  client_ref=client_ref, email=email, attachments=None, body_field="body")
    sender = p.message_senders.get(str(interaction.channel))
    if sender is not None and created:
        await sender(message, interaction)
    return message


async def mark_read(p: Platform, interaction: Interaction, reader: Sender, seq: int) -> None:
    """`reader` has seen every message up to `seq`: kept for a chat (the other side sees "read")
    and published either way."""
    if seq < 0:
        raise InvalidInput("seq", "must be 0 or more")
    column = "customer_read_seq" if reader is Sender.CUSTOMER else "agent_read_seq"

    def store() -> None:
        s = t.chat_sessions
        with p.store.begin() as conn:
            conn.execute(update(s).where((s.c.interaction_id == interaction.id) & (s.c[column] < seq))
                         .values({column: seq}))

    await p.run(store)
    await p.bus.publish([Event(EventName.MESSAGES_READ, p.clock.now(), interaction.operator_id,
                               interaction.tenant_id, interaction.id, interaction.agent_id, interaction.queue_id,
                               {"reader": str(reader), "seq": seq})])


async def typing(p: Platform, interaction: Interaction, sender: Sender, is_typing: bool) -> None:
    """A typing indicator: published, never stored."""
    await p.bus.publish([Event(EventName.TYPING, p.clock.now(), interaction.operator_id, interaction.tenant_id,
                               interaction.id, interaction.agent_id, interaction.queue_id,
                               {"sender": str(sender), "typing": bool(is_typing)})])


async def agent_interaction(p: Platform, scope: Scope, interaction_id: str) -> Interaction:
    """The interaction, if the calling agent handles it."""
    if scope.role is not Role.AGENT or scope.agent_id is None:
        raise PermissionDenied("only the agent handling the contact does this")
    interaction = await _load(p, scope.operator_id, interaction_id)
    if interaction.agent_id != scope.agent_id:
        raise NotFound("interaction", interaction_id)
    return interaction


# ---- tone and alerts --------------------------------------------------------------------------
def _tone_history(conn: Any, interaction_id: str) -> tuple[list[float], bool]:
    """The customer's tone scores so far, oldest first, and whether a tone alert is open."""
    scores = [score for (score,) in conn.execute(
        select(t.messages.c.sentiment).where(
            (t.messages.c.interaction_id == interaction_id) & (t.messages.c.sender == str(Sender.CUSTOMER))
            & t.messages.c.sentiment.is_not(None)).order_by(t.messages.c.seq))]
    alerted = conn.execute(select(t.alerts.c.id).where(
        (t.alerts.c.interaction_id == interaction_id) & (t.alerts.c.kind == "tone")
        & t.alerts.c.acknowledged_at.is_(None))).first() is not None
    return scores, alerted


async def _watch_tone(p: Platform, interaction: Interaction, scores: list[float], alerted: bool) -> None:
    if alerted and TONE_WATCH.recovered(scores):
        return
    verdict = TONE_WATCH.verdict(scores, already_alerted=alerted)
    if verdict is not None:
        await raise_alert(p, interaction.operator_id, kind="tone",
                          severity="critical" if verdict.kind == "angry" else "warning",
                          message=verdict.message, tenant_id=interaction.tenant_id, interaction_id=interaction.id,
                          agent_id=interaction.agent_id, queue_id=interaction.queue_id,
                          data={"tone": verdict.kind, "score": verdict.score, "trend": round(verdict.trend, 3)})


def _alert_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "kind": row["kind"], "severity": row["severity"], "message": row["message"],
            "tenant_id": row["tenant_id"], "interaction_id": row["interaction_id"], "agent_id": row["agent_id"],
            "queue_id": row["queue_id"], "created_at": row["created_at"].isoformat(),
            "acknowledged_at": row["acknowledged_at"].isoformat() if row["acknowledged_at"] else None,
            "acknowledged_by": row["acknowledged_by"]}


async def raise_alert(p: Platform, operator_id: str, *, kind: str, severity: str, message: str,
                      tenant_id: str | None = None, interaction_id: str | None = None, agent_id: str | None = None,
                      queue_id: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    now = p.clock.now()
    row = {"id": new_id(), "operator_id": operator_id, "tenant_id": tenant_id, "kind": kind, "severity": severity,
           "message": message[:500], "interaction_id": interaction_id, "agent_id": agent_id, "queue_id": queue_id,
           "created_at": now, "acknowledged_at": None, "acknowledged_by": None}
    await p.run(p.store.insert_row, t.alerts, row)
    alert = _alert_dict(row) | {"data": data or {}}
    await p.bus.publish([Event(EventName.ALERT_RAISED, now, operator_id, tenant_id, interaction_id, None, queue_id,
                               {"alert": alert})])
    return alert


def _staff(scope: Scope) -> None:
    if scope.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDenied("alerts are for supervisors and admins")


async def list_alerts(p: Platform, scope: Scope, *, open_only: bool = True, limit: int = 100) -> list[dict[str, Any]]:
    _staff(scope)

    def query() -> list[dict[str, Any]]:
        a = t.alerts
        q = select(a).where(a.c.operator_id == scope.operator_id)
        if open_only:
            q = q.where(a.c.acknowledged_at.is_(None))
        with p.store.begin() as conn:
            return [_alert_dict(dict(r)) for r in conn.execute(q.order_by(a.c.created_at.desc(), a.c.id).limit(limit))
                    .mappings()]

    return await p.run(query)


async def acknowledge_alert(p: Platform, scope: Scope, alert_id: str, user_id: str) -> dict[str, Any]:
    _staff(scope)
    now = p.clock.now()

    def store() -> dict[str, Any]:
        a = t.alerts
        with p.store.begin() as conn:
            row = conn.execute(select(a).where((a.c.id == alert_id) & (a.c.operator_id == scope.operator_id))
                               ).mappings().first()
            if row is None:
                raise NotFound("alert", alert_id)
            if row["acknowledged_at"] is None:
                conn.execute(update(a).where(a.c.id == alert_id).values(acknowledged_at=now, acknowledged_by=user_id))
                row = {**row, "acknowledged_at": now, "acknowledged_by": user_id}
            return _alert_dict(dict(row))

    alert = await p.run(store)
    await p.bus.publish([Event(EventName.ALERT_ACKNOWLEDGED, now, scope.operator_id, alert["tenant_id"],
                               alert["interaction_id"], None, alert["queue_id"], {"alert": alert})])
    return alert
