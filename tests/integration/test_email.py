"""The e-mail channel with real parts: our aiosmtpd listener on a free port fed by smtplib, an
aiosmtpd sink standing in for the SMTP relay (it records what it receives), the real store
(SQLite and PostgreSQL) and routers, and Debian's dovecot as the IMAP server (started by the
test, unprivileged, in a temporary directory).

Nothing is mocked; retry backoff is shortened through EmailConfig.
"""
from __future__ import annotations

import asyncio
import grp
import imaplib
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from hearthline.adapters.mail.parse import Limits
from hearthline.adapters.mail.smtp_client import RelayConfig, SmtpRelayMailer
from hearthline.adapters.mail.smtp_server import SmtpListener
from hearthline.adapters.sql import tables as t
from hearthline.adapters.sql.store import SqlStore
from hearthline.adapters.tone import VaderTone
from hearthline.domain.agents import Agent, Presence
from hearthline.domain.conversations import Sender
from hearthline.domain.errors import Conflict, InvalidInput, PermissionDenied, Unavailable
from hearthline.domain.interactions import Channel, Customer
from hearthline.domain.organization import Role, Scope
from hearthline.domain.queues import Queue
from hearthline.services import admin
from hearthline.services import conversations as talk
from hearthline.services import email as mail
from hearthline.services import mail_setup
from hearthline.services import interactions as work
from hearthline.services.bus import InProcessEventBus
from hearthline.services.platform import Platform

from .conftest import MiddayClock

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sqlite_platform(tmp_path: Path) -> Iterator[Platform]:
    store = SqlStore(f"sqlite:///{tmp_path}/mail.db")
    store.start()
    store.upgrade()
    yield Platform(store, InProcessEventBus(), MiddayClock(), tone=VaderTone())
    store.close()


# ---- the relay: an SMTP sink that records envelopes -----------------------------------------------
class Sink:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: str | None = None  # e.g. "451 4.3.0 busy": answer that instead of taking it

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


# ---- helpers -------------------------------------------------------------------------------------
async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def compose(sender: str, to: str, subject: str, text: str = "Hello, my bill looks wrong.", *,
            message_id: str | None = None, headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{os.urandom(8).hex()}@customer.example>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    return msg.as_bytes(policy=policy.SMTP)


def smtp_send(port: int, raw: bytes, to: str, envelope_from: str = "dana@customer.example") -> dict[str, Any]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(envelope_from, [to], raw)


async def send(w: World, raw: bytes, *, to: str | None = None, envelope_from: str = "dana@customer.example") -> None:
    """smtplib, in a thread: our listener runs on this test's event loop."""
    await asyncio.to_thread(smtp_send, w.port, raw, to or w.address, envelope_from)


def _conversation(port: int, mail_from: str, rcpt: str, raw: bytes) -> tuple[int, bytes]:
    """MAIL, RCPT and DATA without declaring SIZE; the DATA answer."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.helo()
        client.mail(mail_from)
        code, answer = client.rcpt(rcpt)
        assert code == 250, answer
        return client.data(raw)


async def conversation(w: World, raw: bytes, mail_from: str = "dana@customer.example") -> tuple[int, bytes]:
    return await asyncio.to_thread(_conversation, w.port, mail_from, w.address, raw)


class World:
    address: str
    scope: Scope
    program: str
    queue: str
    agent: str
    agent_scope: Scope
    channel: mail.EmailChannel
    port: int


async def world(p: Platform, relay_port: int | None, *, acks: int = 3, available: bool = False,
                limits: Limits = Limits(), max_message_bytes: int = 10 * 1024 * 1024,
                auto_acknowledge: bool = True) -> World:
    w = World()
    operator = await admin.create_operator(p, "Mail")
    w.scope = Scope(operator.id, role=Role.ADMIN)
    tenant = await admin.create_tenant(p, w.scope, "Acme")
    program = await admin.create_program(p, w.scope, tenant.id, "Acme help")
    queue = await admin.create_queue(p, w.scope, Queue("", "", "", program.id, "Mail queue"))
    agent = await admin.create_agent(p, w.scope, Agent("", "", "Ann Agent"))
    w.program, w.queue, w.agent = program.id, queue.id, agent.id
    w.agent_scope = Scope(operator.id, role=Role.AGENT, agent_id=agent.id)
    if available:
        await work.set_agent_state(p, w.scope, agent.id, Presence.AVAILABLE, None)
    w.address = f"help@acme-{os.urandom(4).hex()}.example"  # unique: tests share a PostgreSQL database
    await mail_setup.create_mail_address(p, w.scope, program.id, w.address.replace("help", "Help"), queue_id=queue.id,
                                   display_name="Acme Help", auto_acknowledge=auto_acknowledge)
    if relay_port is not None:
        p.mailer = SmtpRelayMailer(RelayConfig("127.0.0.1", relay_port, "none", timeout_seconds=5,
                                               default_from="hearthline@test.example",
                                               message_id_domain="test.example"))
    w.channel = mail.EmailChannel(p, mail.EmailConfig(
        limits=limits, max_message_bytes=max_message_bytes, acks_per_sender_per_hour=acks,
        from_address="hearthline@test.example", message_id_domain="test.example", retry_base_seconds=0.2,
        retry_max_seconds=0.5, max_attempts=30)).attach()
    w.port = free_port()
    w.channel.listener = SmtpListener(w.channel, "127.0.0.1", w.port, max_message_bytes=max_message_bytes)
    await w.channel.start(poll=False)
    return w


async def emails(p: Platform, scope: Scope) -> list[Any]:
    return await work.list_interactions(p, scope, channel="email")


async def delivery_of(p: Platform, scope: Scope, interaction_id: str, seq: int) -> str:
    msgs = await talk.transcript(p, scope, interaction_id)
    return next(m for m in msgs if m.seq == seq).email["delivery"]


async def stop(p: Platform, w: World) -> None:
    await w.channel.stop()
    await p.stop()


def count(p: Platform, w: World, table: Any) -> int:
    with p.store.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(table)
                                .where(table.c.operator_id == w.scope.operator_id)).scalar() or 0)


# ---- SMTP in ---------------------------------------------------------------------------------------
def test_a_mail_becomes_an_email_interaction_and_its_sender_gets_a_reference(platform: Platform, sink) -> None:
    relay, relay_port = sink

    async def scenario() -> None:
        w = await world(platform, relay_port)
        first = f"<{os.urandom(6).hex()}@customer.example>"
        raw = compose("Dana Smith <dana@customer.example>", w.address, "My bill", message_id=first)
        code, answer = await conversation(w, raw)
        assert code == 250
        [interaction] = await emails(platform, w.scope)
        ref = interaction.id[:8].upper()
        assert ref in answer.decode()
        assert interaction.customer.name == "Dana Smith" and interaction.customer.email == "dana@customer.example"
        assert interaction.attributes == {"subject": "My bill"} and interaction.queue_id == w.queue
        customer, ack = await talk.transcript(platform, w.scope, interaction.id)
        assert customer.sender is Sender.CUSTOMER and customer.body == "Hello, my bill looks wrong."
        assert customer.email["message_id"] == first and customer.email["acknowledged"]
        assert ack.sender is Sender.SYSTEM and ref in ack.body
        # the relay receives the acknowledgement, threaded and marked as automatic
        [sent] = await eventually(lambda: _async(relay.to("dana@customer.example")))
        assert sent["Auto-Submitted"] == "auto-replied" and sent["In-Reply-To"] == first
        assert first in sent["References"] and f"[#{ref}]" in sent["Subject"]
        assert sent["From"].addresses[0].addr_spec == w.address
        assert sent["Message-ID"] == ack.email["message_id"]
        assert await eventually(lambda: _is(delivery_of(platform, w.scope, interaction.id, 2), "sent"))
        # the same message again (a sender's retry) is not taken twice
        await send(w, raw)
        assert len(await emails(platform, w.scope)) == 1
        assert len(await talk.transcript(platform, w.scope, interaction.id)) == 2
        await stop(platform, w)

    asyncio.run(scenario())


async def _async(value: Any) -> Any:
    return value


async def _is(coro: Awaitable[Any], expected: Any) -> bool:
    return await coro == expected


def test_mail_to_an_unknown_address_is_refused_at_rcpt(sqlite_platform: Platform) -> None:
    p = sqlite_platform

    async def scenario() -> None:
        w = await world(p, None)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await send(w, compose("dana@customer.example", "nobody@acme.example", "Hi"), to="nobody@acme.example")
        [(code, _)] = refused.value.recipients.values()
        assert code == 550
        assert count(p, w, t.interactions) == 0 and count(p, w, t.messages) == 0
        await stop(p, w)

    asyncio.run(scenario())


def test_answers_thread_into_their_interaction_and_reopen_it_after_completion(platform: Platform, sink) -> None:
    relay, relay_port = sink

    async def scenario() -> None:
        w = await world(platform, relay_port, available=True)
        await send(w, compose("Dana <dana@customer.example>", w.address, "My bill",
                                   message_id="<q1@customer.example>"))
        [interaction] = await emails(platform, w.scope)
        [offer] = await work.list_offers(platform, w.scope, w.agent)
        await work.accept_offer(platform, w.scope, w.agent, offer["id"])
        reply = await talk.post_agent_message(platform, w.agent_scope, interaction.id, "We corrected your bill.")
        assert reply.email["delivery"] == "pending" and reply.email["in_reply_to"] == "<q1@customer.example>"
        ref = interaction.id[:8].upper()
        answer = await eventually(lambda: _async([m for m in relay.to("dana@customer.example")
                                                  if m["Auto-Submitted"] is None]))
        sent = answer[0]
        assert sent["In-Reply-To"] == "<q1@customer.example>" and sent["References"] == "<q1@customer.example>"
        assert sent["Subject"] == f"Re: My bill [#{ref}]" and sent["Message-ID"] == reply.email["message_id"]
        assert str(sent["From"]) == f"Acme Help <{w.address}>"
        assert "We corrected your bill." in sent.get_body(("plain",)).get_content()
        stored = (await talk.transcript(platform, w.scope, interaction.id))[-1]
        assert stored.email["message_id"] == reply.email["message_id"]
        await eventually(lambda: _is(delivery_of(platform, w.scope, interaction.id, reply.seq), "sent"))

        # the customer answers the agent's mail: same interaction, no new acknowledgement
        await send(w, compose("dana@customer.example", w.address, f"Re: My bill [#{ref}]",
                                   "Thanks!", headers={"In-Reply-To": reply.email["message_id"],
                                                       "References": f"<q1@customer.example> {reply.email['message_id']}"}))
        assert [i.id for i in await emails(platform, w.scope)] == [interaction.id]
        messages = await talk.transcript(platform, w.scope, interaction.id)
        assert messages[-1].body == "Thanks!" and messages[-1].sender is Sender.CUSTOMER

        # completed, then answered again: it comes back to its queue, offered to the agent again
        await work.end(platform, w.agent_scope, interaction.id)
        await work.complete(platform, w.agent_scope, interaction.id, disposition=None, notes=None)
        await send(w, compose("dana@customer.example", w.address, "Re: Re: My bill",
                                   "One more thing.", headers={"In-Reply-To": reply.email["message_id"]}))
        again, _ = await work.get_interaction(platform, w.scope, interaction.id)
        assert again.state.value in ("queued", "offered") and again.completed_at is None
        assert (await talk.transcript(platform, w.scope, interaction.id))[-1].body == "One more thing."

        # a client that drops the headers: the reference in the subject finds the thread, but
        # only for the same customer address
        await send(w, compose("Dana@Customer.example", w.address, f"Re: My bill [#{ref}]",
                                   "Sent from my phone"))
        assert (await talk.transcript(platform, w.scope, interaction.id))[-1].body == "Sent from my phone"
        await send(w, compose("mallory@elsewhere.example", w.address, f"Re: My bill [#{ref}]",
                                   "Let me in"), envelope_from="mallory@elsewhere.example")
        assert len(await emails(platform, w.scope)) == 2
        assert "Let me in" not in [m.body for m in await talk.transcript(platform, w.scope, interaction.id)]
        await stop(platform, w)

    asyncio.run(scenario())


LOOPS = {
    "auto-submitted": ({"Auto-Submitted": "auto-replied"}, "dana@customer.example"),
    "precedence bulk": ({"Precedence": "bulk"}, "dana@customer.example"),
    "mailing list": ({"List-Id": "<news.customer.example>"}, "dana@customer.example"),
    "list-unsubscribe": ({"List-Unsubscribe": "<mailto:unsub@customer.example>"}, "dana@customer.example"),
    "mailer-daemon": ({}, "MAILER-DAEMON@customer.example"),
    "noreply": ({}, "no-reply@customer.example"),
    "our own address": ({}, "OWN"),
    "outlook autoreply": ({"X-Auto-Response-Suppress": "All"}, "dana@customer.example"),
}


def test_machines_and_loops_get_no_acknowledgement(sqlite_platform: Platform, sink) -> None:
    p = sqlite_platform
    relay, relay_port = sink

    async def scenario() -> None:
        w = await world(p, relay_port, acks=2)
        for name, (headers, sender) in LOOPS.items():
            sender = w.address if sender == "OWN" else sender
            await send(w, compose(sender, w.address, f"Out of office ({name})", headers=headers),
                       envelope_from=sender)
        await send(w, compose("dana@customer.example", w.address, "Delivery failure"),
                   envelope_from="")  # MAIL FROM:<> — a bounce
        created = await emails(p, w.scope)
        assert len(created) == len(LOOPS) + 1  # each is still work for an agent
        for interaction in created:
            msgs = await talk.transcript(p, w.scope, interaction.id)
            assert [m.sender for m in msgs] == [Sender.CUSTOMER], interaction.attributes
            assert msgs[0].email["acknowledged"] is False and msgs[0].email["not_acknowledged_because"]
        # a person gets at most `acks` acknowledgements an hour
        for n in range(3):
            await send(w, compose("eve@customer.example", w.address, f"Question {n}"),
                       envelope_from="eve@customer.example")
        await eventually(lambda: _async(len(relay.to("eve@customer.example")) == 2))
        await asyncio.sleep(0.3)
        assert relay.to("eve@customer.example") and len(relay.received) == 2  # nothing to the machines
        await stop(p, w)

    asyncio.run(scenario())


def test_malformed_mail_is_refused_with_5xx_and_nothing_is_stored(platform: Platform) -> None:
    async def scenario() -> None:
        w = await world(platform, None)
        for raw in (b"\x00\x01\x02 this is not an e-mail\r\n\r\n\xff\xfe", b"no headers at all\r\n"):
            with pytest.raises(smtplib.SMTPDataError) as refused:
                await send(w, raw)
            assert refused.value.smtp_code == 554
        # a mail without any sender address in its headers nor the envelope
        code, _ = await conversation(w, b"Subject: who am I\r\n\r\nbody\r\n", mail_from="<>")
        assert code == 554
        assert count(platform, w, t.interactions) == 0 and count(platform, w, t.messages) == 0
        # the listener is still there: the next good mail is taken
        await send(w, compose("dana@customer.example", w.address, "Fine now"))
        assert len(await emails(platform, w.scope)) == 1
        await stop(platform, w)

    asyncio.run(scenario())


def test_an_oversized_attachment_is_dropped_with_a_note_and_an_oversized_mail_refused_with_552(
        sqlite_platform: Platform) -> None:
    p = sqlite_platform

    async def scenario() -> None:
        w = await world(p, None, limits=Limits(max_attachment_bytes=20_000, max_attachments_bytes=30_000),
                        max_message_bytes=200_000)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "dana@customer.example", w.address, "Documents"
        msg.set_content("See the files.")
        msg.add_attachment(b"small" * 100, maintype="application", subtype="pdf", filename="small.pdf")
        msg.add_attachment(os.urandom(50_000), maintype="application", subtype="zip", filename="huge.zip")
        await send(w, msg.as_bytes(policy=policy.SMTP))
        [interaction] = await emails(p, w.scope)
        [message, _] = await talk.transcript(p, w.scope, interaction.id)
        assert [a.filename for a in message.attachments] == ["small.pdf"]
        assert "huge.zip" in message.body and "not kept" in message.body
        assert message.email["dropped_attachments"][0]["filename"] == "huge.zip"
        info, data = await talk.attachment(p, w.scope, message.attachments[0].id)
        assert data == b"small" * 100 and info.content_type == "application/pdf"

        big = compose("dana@customer.example", w.address, "Too big", "x" * 300_000)
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # SIZE declared: refused at MAIL FROM
            await send(w, big)
        assert refused.value.smtp_code == 552
        code, _ = await conversation(w, big)  # not declared: refused after DATA
        assert code == 552
        assert len(await emails(p, w.scope)) == 1
        await stop(p, w)

    asyncio.run(scenario())


def test_html_mail_is_sanitized_and_remote_images_are_blocked(platform: Platform) -> None:
    async def scenario() -> None:
        w = await world(platform, None)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "dana@customer.example", w.address, "Look"
        msg.set_content('<html><head><style>p{color:red}</style></head><body><p onclick="steal()">Hello '
                        '<b>agent</b><script>alert(document.cookie)</script></p>'
                        '<img src="https://tracker.example/pixel.gif" alt="logo" onerror="alert(1)">'
                        '<a href="javascript:alert(1)">click</a> <a href="https://ok.example/">ok</a></body></html>',
                        subtype="html")
        await send(w, msg.as_bytes(policy=policy.SMTP))
        [interaction] = await emails(platform, w.scope)
        message = (await talk.transcript(platform, w.scope, interaction.id))[0]
        html = message.html or ""
        for bad in ("<script", "onclick", "onerror", "javascript:", "tracker.example", "<style", "alert("):
            assert bad not in html, bad
        assert "<b>agent</b>" in html and 'href="https://ok.example/"' in html and 'alt="logo"' in html
        assert message.body.startswith("Hello agent") and "alert" not in message.body
        assert message.email["remote_images_blocked"] == 1
        await stop(platform, w)

    asyncio.run(scenario())


# ---- outbound ----------------------------------------------------------------------------------------
def test_a_relay_failure_is_recorded_retried_and_survives_a_restart(platform: Platform, sink) -> None:
    relay, relay_port = sink

    async def scenario() -> None:
        w = await world(platform, relay_port, available=True, auto_acknowledge=False)
        await send(w, compose("dana@customer.example", w.address, "Hello"))
        [interaction] = await emails(platform, w.scope)
        [offer] = await work.list_offers(platform, w.scope, w.agent)
        await work.accept_offer(platform, w.scope, w.agent, offer["id"])
        relay.refuse = "451 4.3.0 Try again later"
        reply = await talk.post_agent_message(platform, w.agent_scope, interaction.id, "Answer")

        async def failed_twice() -> bool:
            email = (await talk.transcript(platform, w.scope, interaction.id))[-1].email
            return email["delivery"] == "failed" and email["attempts"] >= 2 and "451" in email["error"]

        await eventually(failed_twice)
        await w.channel.stop()  # a restart: the failed message is still to send
        relay.refuse = None
        restarted = mail.EmailChannel(platform, w.channel.config).attach()
        await restarted.start(poll=False)
        await eventually(lambda: _is(delivery_of(platform, w.scope, interaction.id, reply.seq), "sent"))
        assert [m["Message-ID"] for m in relay.received] == [reply.email["message_id"]]
        await restarted.stop()
        await platform.stop()

    asyncio.run(scenario())


def test_without_a_relay_replies_are_kept_and_marked_not_sent(sqlite_platform: Platform) -> None:
    p = sqlite_platform

    async def scenario() -> None:
        w = await world(p, None, available=True)
        await send(w, compose("dana@customer.example", w.address, "Hello"))
        [interaction] = await emails(p, w.scope)
        [offer] = await work.list_offers(p, w.scope, w.agent)
        await work.accept_offer(p, w.scope, w.agent, offer["id"])
        reply = await talk.post_agent_message(p, w.agent_scope, interaction.id, "Answer", subject="About your bill")
        assert reply.email["delivery"] == mail.NOT_CONFIGURED and reply.email["subject"] == "About your bill"
        transcript = await talk.transcript(p, w.scope, interaction.id)
        assert [m.email["delivery"] for m in transcript if m.sender is not Sender.CUSTOMER] == [
            mail.NOT_CONFIGURED, mail.NOT_CONFIGURED]  # the acknowledgement and the reply
        with pytest.raises(Unavailable):
            await mail.send_chat_transcript(p, interaction.id, "dana@customer.example")
        await stop(p, w)

    asyncio.run(scenario())


def test_a_chat_transcript_is_mailed_from_the_programs_address(sqlite_platform: Platform, sink) -> None:
    p = sqlite_platform
    relay, relay_port = sink

    async def scenario() -> None:
        w = await world(p, relay_port, available=True)
        chat = await work.create_interaction(p, w.scope, work.NewInteraction(
            w.program, Channel.CHAT, queue_id=w.queue, customer=Customer(name="Dana", email="dana@customer.example")))
        [offer] = await work.list_offers(p, w.scope, w.agent)
        await work.accept_offer(p, w.scope, w.agent, offer["id"])
        await talk.add_message(p, chat, Sender.CUSTOMER, "Is my meter broken?")
        await talk.post_agent_message(p, w.agent_scope, chat.id, "No, it reads fine.")
        await mail.send_chat_transcript(p, chat.id, "dana@customer.example")
        [sent] = relay.to("dana@customer.example")
        text = sent.get_body(("plain",)).get_content()
        assert "You:" in text and "Is my meter broken?" in text and "Ann:" in text and "No, it reads fine." in text
        assert sent["From"].addresses[0].addr_spec == w.address
        assert sent["Auto-Submitted"] == "auto-generated"
        with pytest.raises(InvalidInput):
            await mail.send_chat_transcript(p, chat.id, "not an address")
        await stop(p, w)

    asyncio.run(scenario())


# ---- admin ----------------------------------------------------------------------------------------------
def test_mail_addresses_and_mailboxes_are_validated_and_passwords_never_shown(platform: Platform) -> None:
    async def scenario() -> None:
        operator = await admin.create_operator(platform, "Setup")
        scope = Scope(operator.id, role=Role.ADMIN)
        tenant = await admin.create_tenant(platform, scope, "T")
        program = await admin.create_program(platform, scope, tenant.id, "P")
        other = await admin.create_program(platform, scope, tenant.id, "Other")
        queue = await admin.create_queue(platform, scope, Queue("", "", "", program.id, "Q"))
        foreign = await admin.create_queue(platform, scope, Queue("", "", "", other.id, "Q2"))
        cases = [({"address": "not-an-address"}, "address"), ({"queue_id": foreign.id}, "queue_id"),
                 ({"queue_id": None}, "queue_id"), ({"display_name": "Evil\r\nBcc: x@y.z"}, "display_name")]
        for change, field in cases:
            kwargs = {"queue_id": queue.id, **change}
            with pytest.raises(InvalidInput) as bad:
                await mail_setup.create_mail_address(platform, scope, program.id, kwargs.pop("address", "a@t.example"),
                                               **kwargs)
            assert bad.value.details["field"] == field
        made = await mail_setup.create_mail_address(platform, scope, program.id, "Support@T.example", queue_id=queue.id)
        assert made["address"] == "support@t.example"
        with pytest.raises(Conflict):
            await mail_setup.create_mail_address(platform, scope, program.id, "support@t.example", queue_id=queue.id)
        changed = await mail_setup.update_mail_address(platform, scope, made["id"], display_name="T Support")
        assert changed["display_name"] == "T Support" and changed["queue_id"] == queue.id

        good = {"host": "imap.t.example", "port": 993, "security": "tls", "username": "support",
                "password": "s3cret", "folder": "INBOX", "address": "support@t.example"}
        for change, field in [({"port": 0}, "port"), ({"security": "ssl"}, "security"), ({"host": "bad host"}, "host"),
                              ({"password": ""}, "password"), ({"folder": "Boîte"}, "folder")]:
            with pytest.raises(InvalidInput) as bad:
                await mail_setup.create_mailbox(platform, scope, program.id, **{**good, **change})
            assert bad.value.details["field"] == field
        box = await mail_setup.create_mailbox(platform, scope, program.id, **good)
        assert "password" not in box and box["last_uid"] == 0
        assert all("password" not in b for b in await mail_setup.list_mailboxes(platform, scope))
        moved = await mail_setup.update_mailbox(platform, scope, box["id"], folder="Support")
        assert moved["folder"] == "Support" and moved["uidvalidity"] is None
        agent_scope = Scope(operator.id, role=Role.SUPERVISOR)
        with pytest.raises(PermissionDenied):
            await mail_setup.list_mailboxes(platform, agent_scope)
        await mail_setup.delete_mailbox(platform, scope, box["id"])
        await mail_setup.delete_mail_address(platform, scope, made["id"])
        assert await mail_setup.list_mail_addresses(platform, scope) == []
        await platform.stop()

    asyncio.run(scenario())


# ---- IMAP, against Debian's dovecot ------------------------------------------------------------------------
class Dovecot:
    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.users: dict[str, str] = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}

    def start(self) -> Dovecot:
        binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
        if binary is None:
            pytest.fail("dovecot is not installed: run scripts/system-deps.sh (Debian package dovecot-imapd)",
                        pytrace=False)
        for d in ("run", "state", "mail"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{pw}\n" for u, pw in self.users.items()))
        if os.getuid() == 0:  # dovecot refuses mail access as root: use nobody for the mail files
            uid, gid, extra = 65534, 65534, ""
            os.chown(self.root / "mail", uid, gid)
        else:
            # Unprivileged: dovecot's helper processes run as this user, without chroot.
            uid, gid = os.getuid(), os.getgid()
            me, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
            extra = (f"default_login_user = {me}\ndefault_internal_user = {me}\n"
                     f"default_internal_group = {group}\n")
        (self.root / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.root}/mail/%u
first_valid_uid = {min(uid, 500)}
{extra}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/mail/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
        self.process = subprocess.Popen([binary, "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        pytest.fail(f"dovecot did not start:\n{log}", pytrace=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def append(self, user: str, raw: bytes, *, seen: bool = False) -> None:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            client.login(user, self.users[user])
            typ, data = client.append("INBOX", "(\\Seen)" if seen else None, None, raw)
            assert typ == "OK", data
        finally:
            client.logout()


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    if os.getuid() == 0:
        # As root, dovecot's own processes run as its users (dovecot, and nobody for the mail):
        # they cannot enter pytest's private temporary directory (mode 0700), so use one they can.
        root = Path(tempfile.mkdtemp(prefix="hearthline-dovecot-"))
        root.chmod(0o755)
    else:
        root = tmp_path_factory.mktemp("dovecot")
    server = Dovecot(root).start()
    try:
        yield server
    finally:
        server.stop()
        if os.getuid() == 0:
            shutil.rmtree(root, ignore_errors=True)


@pytest.mark.dovecot
def test_imap_mail_is_taken_exactly_once_across_restarts(platform: Platform, dovecot: Dovecot) -> None:
    user = "alice" if "sqlite" in str(platform.store.url) else "bob"

    async def scenario() -> None:
        w = await world(platform, None)
        await w.channel.stop()
        dovecot.append(user, compose("old@customer.example", w.address, "Read long ago"), seen=True)
        dovecot.append(user, compose("dana@customer.example", w.address, "Unread one"))
        dovecot.append(user, compose("eve@customer.example", w.address, "Unread two"))
        box = await mail_setup.create_mailbox(platform, w.scope, w.program, host="127.0.0.1", port=dovecot.port,
                                        security="none", username=user, password=dovecot.users[user],
                                        address=w.address)
        channel = mail.EmailChannel(platform, w.channel.config)
        assert await channel.poll_mailbox(box["id"]) == 2  # the unread ones; the archive is left alone
        assert await channel.poll_mailbox(box["id"]) == 0
        subjects = sorted(i.attributes["subject"] for i in await emails(platform, w.scope))
        assert subjects == ["Unread one", "Unread two"]
        first = await mail_setup.get_mailbox(platform, w.scope, box["id"])
        assert first["uidvalidity"] and first["last_uid"] == 3 and first["last_error"] is None

        dovecot.append(user, compose("frank@customer.example", w.address, "After the restart"))
        restarted = mail.EmailChannel(platform, w.channel.config)  # a new process: state from the store only
        assert await restarted.poll_all() == 1
        assert await restarted.poll_all() == 0
        assert len(await emails(platform, w.scope)) == 3

        # the folder was rebuilt (UIDVALIDITY changed): start after what is there, import nothing again
        with platform.store.begin() as conn:
            conn.execute(t.mailboxes.update().where(t.mailboxes.c.id == box["id"]).values(uidvalidity=1, last_uid=0))
        assert await restarted.poll_mailbox(box["id"]) == 0
        reset = await mail_setup.get_mailbox(platform, w.scope, box["id"])
        assert reset["uidvalidity"] == first["uidvalidity"] and reset["last_uid"] == 4
        assert len(await emails(platform, w.scope)) == 3

        # a wrong password is stored as the mailbox's error, and polling goes on
        await mail_setup.update_mailbox(platform, w.scope, box["id"], password="wrong")
        assert await restarted.poll_all() == 0
        failed = await mail_setup.get_mailbox(platform, w.scope, box["id"])
        assert "login" in failed["last_error"].lower() and "wrong" not in failed["last_error"]
        await platform.stop()

    asyncio.run(scenario())


@pytest.mark.dovecot
def test_an_imap_message_over_the_limit_is_imported_as_its_header_with_a_note(sqlite_platform: Platform,
                                                                              dovecot: Dovecot) -> None:
    p = sqlite_platform

    async def scenario() -> None:
        w = await world(p, None, max_message_bytes=50_000)
        await w.channel.stop()
        dovecot.append("carol", compose("dana@customer.example", w.address, "Huge", "x" * 80_000))
        box = await mail_setup.create_mailbox(p, w.scope, w.program, host="127.0.0.1", port=dovecot.port,
                                        security="none", username="carol", password=dovecot.users["carol"],
                                        address=w.address)
        assert await w.channel.poll_mailbox(box["id"]) == 1
        [interaction] = await emails(p, w.scope)
        message = (await talk.transcript(p, w.scope, interaction.id))[0]
        assert "only its header was imported" in message.body and "xxxx" not in message.body
        await p.stop()

    asyncio.run(scenario())
