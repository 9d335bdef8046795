"""The customer's side of web chat (services/chat.py) against the real store (SQLite and
PostgreSQL), the router and the in-process bus: starting, resuming by token, the conversation as
the customer sees it, ending, rating, the transcript, limits, and the live feed of her socket."""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hearthline.adapters.sql import tables as t
from hearthline.domain.agents import Agent, Medium, Presence
from hearthline.domain.conversations import Sender
from hearthline.domain.errors import (
    Conflict, InvalidInput, InvalidTransition, NotFound, RateLimited, Unavailable,
)
from hearthline.domain.events import Event, EventName
from hearthline.domain.interactions import TransferKind
from hearthline.domain.organization import Role, Scope
from hearthline.domain.queues import Queue
from hearthline.domain.workflows import Target, Workflow
from hearthline.services import admin
from hearthline.services import conversations as talk
from hearthline.services import interactions as work
from hearthline.services.chat import ChatLimits, ChatSession, CustomerChats
from hearthline.services.platform import Platform



class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Center:
    """One operator with a program whose default workflow feeds one chat queue, and two agents
    (not yet available)."""

    def __init__(self, p: Platform, scope: Scope, program: str, queue: str, other_queue: str, ann: str,
                 bob: str) -> None:
        self.p, self.scope, self.program, self.queue, self.other_queue = p, scope, program, queue, other_queue
        self.ann, self.bob = ann, bob

    @classmethod
    async def make(cls, p: Platform, name: str = "Chat Co") -> Center:
        operator = await admin.create_operator(p, name)
        scope = Scope(operator.id, role=Role.ADMIN)
        tenant = await admin.create_tenant(p, scope, "Client")
        program = await admin.create_program(p, scope, tenant.id, "Support")
        queue = await admin.create_queue(p, scope, Queue("", "", "", program.id, "Chat", default_handle_seconds=120))
        other = await admin.create_queue(p, scope, Queue("", "", "", program.id, "Second line"))
        workflow = await admin.create_workflow(p, scope, Workflow("", "", "", program.id, "Intake",
                                                                  default_target=Target(queue.id)))
        await admin.update_program(p, scope, program.id, default_workflow_id=workflow.id)
        one_chat = {Medium.CHAT: 1}  # one chat at a time: the next one waits in line
        ann = await admin.create_agent(p, scope, Agent("", "", "Ann Lee-Smith", capacity=one_chat))
        bob = await admin.create_agent(p, scope, Agent("", "", "Bob Jones", capacity=one_chat))
        return cls(p, scope, program.id, queue.id, other.id, ann.id, bob.id)

    def agent_scope(self, agent_id: str) -> Scope:
        return Scope(self.scope.operator_id, role=Role.AGENT, agent_id=agent_id)

    async def take(self, agent_id: str) -> str:
        """The agent becomes available and accepts the offer she gets; returns the interaction."""
        await work.set_agent_state(self.p, self.scope, agent_id, Presence.AVAILABLE, None)
        return await self.accept(agent_id)

    async def accept(self, agent_id: str) -> str:
        [offer] = await work.list_offers(self.p, self.scope, agent_id)
        await work.accept_offer(self.p, self.scope, agent_id, offer["id"])
        return offer["interaction_id"]

    async def say(self, agent_id: str, interaction_id: str, body: str) -> None:
        await talk.post_agent_message(self.p, self.agent_scope(agent_id), interaction_id, body)


async def _start(chats: CustomerChats, center: Center, *, name: str = "Dana Smith", client: str = "10.0.0.1",
                 question: str = "My bill is wrong") -> tuple[str, ChatSession, dict[str, Any]]:
    return await chats.start(center.program, name, "dana@example.org", question, client=client,
                             page_url="https://client.example/help")


def run(scenario: Callable[[Platform], Awaitable[None]], p: Platform) -> None:
    async def wrapped() -> None:
        try:
            await scenario(p)
        finally:
            await p.stop()

    asyncio.run(wrapped())


# ---- sessions -------------------------------------------------------------------------------------
def test_a_chat_starts_waiting_with_its_question_and_only_the_tokens_hash_is_kept(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        token, session, view = await _start(chats, center)
        assert len(token) >= 43
        assert view["state"] == "waiting" and view["position"] == 1
        assert view["estimated_wait_seconds"] is None  # nobody present: unknown, never invented
        assert [(m["seq"], m["sender"], m["body"]) for m in view["messages"]] == [(1, "customer", "My bill is wrong")]
        row = p.store.get_row(t.chat_sessions, "chat", session.id, center.scope)
        assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {str(v) for v in row.values()}
        interaction, _ = await work.get_interaction(p, center.scope, session.interaction_id)
        assert interaction.channel.value == "chat" and interaction.queue_id == center.queue
        assert (interaction.customer.name, interaction.customer.email) == ("Dana Smith", "dana@example.org")
        assert interaction.attributes["page_url"] == "https://client.example/help"
        assert (await chats.open(token)).id == session.id

    run(scenario, platform)


def test_a_token_reaches_its_own_chat_only(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        first, second = await Center.make(p, "First"), await Center.make(p, "Second")
        chats = CustomerChats(p)
        token_a, a, _ = await _start(chats, first, question="question of A")
        token_b, b, _ = await _start(chats, second, question="question of B")
        await chats.post(await chats.open(token_a), "only for A")
        view_b = await chats.view(await chats.open(token_b))
        assert [m["body"] for m in view_b["messages"]] == ["question of B"]
        assert view_b["interaction_id"] == b.interaction_id != a.interaction_id
        for bad in ("", "x" * 200, token_a[:-1], token_a + "x", "not-a-token"):
            with pytest.raises(NotFound):
                await chats.open(bad)
        # the session's scope is its operator and client company: nothing else is in reach
        assert a.scope.operator_id != b.scope.operator_id and a.scope.tenant_ids == frozenset({a.tenant_id})

    run(scenario, platform)


def test_a_bad_prechat_form_names_the_field_and_creates_nothing(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        for name, email, question, field in (
                ("", "d@x.org", "hi", "name"), ("D" * 101, "d@x.org", "hi", "name"),
                ("Dana", "not-an-address", "hi", "email"), ("Dana", "d@x.org", " \x00\x07 ", "question"),
                ("Dana", "d@x.org", "q" * 4001, "question")):
            with pytest.raises(InvalidInput) as err:
                await chats.start(center.program, name, email, question, client="c")
            assert err.value.details["field"] == field
        with pytest.raises(NotFound):
            await chats.start("no-such-program", "Dana", "d@x.org", "hi", client="c")
        bare = await admin.create_program(p, center.scope, (await admin.list_tenants(p, center.scope))[0].id, "Bare")
        with pytest.raises(InvalidInput) as err:
            await chats.start(bare.id, "Dana", "d@x.org", "hi", client="c")
        assert err.value.details["field"] == "program_id"
        assert p.store.count(t.chat_sessions, program_id=center.program) == 0
        assert p.store.count(t.interactions, program_id=center.program) == 0
        _, session, _ = await chats.start(center.program, "  Dana\x1b  ", "d@x.org", " hi\r\nthere ", client="c")
        [question] = await chats.transcript(session)
        assert question["body"] == "hi\nthere"

    run(scenario, platform)


# ---- the conversation -----------------------------------------------------------------------------
def test_the_customer_sees_her_agent_by_first_name_and_nothing_internal(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        _, session, _ = await _start(chats, center)
        await center.take(center.ann)
        status = await chats.status(session)
        assert (status["state"], status["agent_name"], status["position"]) == ("active", "Ann", None)
        await center.say(center.ann, session.interaction_id, "Hello Dana, I am looking at it.")
        mine = await chats.post(session, "Thanks!", client_ref="c-1")
        again = await chats.post(session, "Thanks!", client_ref="c-1")  # resent after a drop
        assert mine == again and mine["seq"] == 3
        transcript = await chats.transcript(session)
        assert [(m["seq"], m["sender"]) for m in transcript] == [(1, "customer"), (2, "agent"), (3, "customer")]
        assert transcript[1]["agent_name"] == "Ann"
        for message in transcript:  # no tone scores, agent ids or attachments for the customer
            assert set(message) <= {"seq", "sender", "body", "created_at", "client_ref", "agent_name"}
        assert [m["seq"] for m in await chats.transcript(session, after_seq=2)] == [3]

    run(scenario, platform)


def test_read_receipts_go_both_ways_and_never_past_the_last_message(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        events: list[Event] = []

        async def record(batch: list[Event]) -> None:
            events.extend(batch)

        p.bus.subscribe(record)
        _, session, _ = await _start(chats, center)
        interaction_id = await center.take(center.ann)
        await center.say(center.ann, interaction_id, "Hi")
        assert await chats.read(session, 999) == 2
        interaction = await talk.agent_interaction(p, center.agent_scope(center.ann), interaction_id)
        await talk.mark_read(p, interaction, Sender.AGENT, 1)
        status = await chats.status(session)
        assert (status["customer_read_seq"], status["agent_read_seq"]) == (2, 1)
        reads = [e.data for e in events if e.name is EventName.MESSAGES_READ]
        assert reads == [{"reader": "customer", "seq": 2}, {"reader": "agent", "seq": 1}]
        await chats.typing(session, True)
        assert [e.data for e in events if e.name is EventName.TYPING] == [{"sender": "customer", "typing": True}]
        with pytest.raises(InvalidInput):
            await chats.read(session, -1)

    run(scenario, platform)


def test_leaving_while_waiting_abandons_the_chat(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        _, session, _ = await _start(chats, center)
        status = await chats.end(session)
        assert (status["state"], status["ended_by"]) == ("ended", "customer")
        interaction, _ = await work.get_interaction(p, center.scope, session.interaction_id)
        assert interaction.state.value == "abandoned"
        assert (await chats.end(session))["state"] == "ended"  # again: nothing changes
        with pytest.raises(InvalidTransition):
            await chats.post(session, "anyone?")

    run(scenario, platform)


def test_leaving_an_agent_tells_her_once_and_she_completes(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        _, session, _ = await _start(chats, center)
        interaction_id = await center.take(center.ann)
        await chats.end(session)
        await chats.end(session)
        transcript = await chats.transcript(session)
        assert [(m["sender"], m["body"]) for m in transcript[1:]] == [("system", "You left the chat.")]
        staff_view = await talk.transcript(p, center.scope, interaction_id)
        assert staff_view[-1].body == "The customer left the chat"  # as the agent reads it
        interaction, _ = await work.get_interaction(p, center.scope, interaction_id)
        assert interaction.state.value == "accepted"  # the agent completes it, with her notes
        with pytest.raises(InvalidTransition):
            await chats.typing(session, True)
        await work.complete(p, center.agent_scope(center.ann), interaction_id, disposition=None, notes=None)
        assert (await chats.status(session))["ended_by"] == "customer"

    run(scenario, platform)


def test_a_chat_the_agent_ends_can_be_rated_and_the_rating_is_bounded(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        events: list[Event] = []

        async def record(batch: list[Event]) -> None:
            events.extend(batch)

        p.bus.subscribe(record)
        _, session, _ = await _start(chats, center)
        interaction_id = await center.take(center.ann)
        with pytest.raises(InvalidTransition):
            await chats.rate(session, 5)
        await work.end(p, center.agent_scope(center.ann), interaction_id)
        status = await chats.status(session)
        assert (status["state"], status["ended_by"], status["agent_name"]) == ("ended", "agent", None)
        for bad in (0, 6, -1, True, "5", 4.5):
            with pytest.raises(InvalidInput) as err:
                await chats.rate(session, bad)
            assert err.value.details["field"] == "rating"
        with pytest.raises(InvalidInput) as err:
            await chats.rate(session, 4, "x" * 1001)
        assert err.value.details["field"] == "comment"
        assert await chats.rate(session, 4, "  Quick\x00 and kind ") == {"rating": 4, "comment": "Quick and kind"}
        assert await chats.rate(session, 5, "   ") == {"rating": 5, "comment": None}
        row = p.store.get_row(t.chat_sessions, "chat", session.id, center.scope)
        assert (row["rating"], row["rating_comment"]) == (5, None)
        rated = [e for e in events if e.name is EventName.CHAT_RATED]
        assert [e.data["rating"] for e in rated] == [4, 5] and rated[0].agent_id == center.ann

    run(scenario, platform)


def test_the_transcript_is_mailed_once_and_never_faked(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        sent: list[tuple[str, str]] = []
        outcome: dict[str, Any] = {"sender": None, "fail": False}

        async def send_chat_transcript(platform: Platform, interaction_id: str, to: str) -> None:
            if outcome["fail"]:
                raise ConnectionError("relay down")
            sent.append((interaction_id, to))

        chats = CustomerChats(p, send_transcript=lambda: outcome["sender"])
        _, session, _ = await _start(chats, center)
        with pytest.raises(InvalidTransition):
            await chats.send_transcript(session)  # the chat goes on
        await chats.end(session)
        with pytest.raises(Unavailable):  # no e-mail component: nothing recorded
            await chats.send_transcript(session)
        assert (await chats.status(session))["transcript_sent"] is False
        outcome.update(sender=send_chat_transcript, fail=True)
        with pytest.raises(ConnectionError):
            await chats.send_transcript(session)
        assert (await chats.status(session))["transcript_sent"] is False
        outcome["fail"] = False
        answer = await chats.send_transcript(session)
        assert answer["sent_to"] == "dana@example.org" and sent == [(session.interaction_id, "dana@example.org")]
        assert (await chats.status(session))["transcript_sent"] is True
        with pytest.raises(Conflict):
            await chats.send_transcript(session)
        assert len(sent) == 1

    run(scenario, platform)


def test_the_real_transcript_sender_is_the_email_channels() -> None:
    from hearthline.services import email
    from hearthline.services.chat import transcript_sender
    assert transcript_sender() is email.send_chat_transcript


def test_messages_and_new_chats_are_limited(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        clock = FakeClock()
        chats = CustomerChats(p, ChatLimits(messages_per_window=3, sessions_per_minute=2), clock=clock)
        _, session, _ = await _start(chats, center, client="10.0.0.9")
        await _start(chats, center, client="10.0.0.9")
        with pytest.raises(RateLimited) as limited:
            await _start(chats, center, client="10.0.0.9")
        assert 1 <= limited.value.details["retry_after_seconds"] <= 61
        await _start(chats, center, client="10.0.0.10")  # another address is not held back
        for n in range(3):
            await chats.post(session, f"message {n}")
        with pytest.raises(RateLimited):
            await chats.post(session, "one too many")
        clock.now += 10.5
        await chats.post(session, "after the window")
        assert p.store.count(t.messages, interaction_id=session.interaction_id) == 5

    run(scenario, platform)


# ---- the live feed --------------------------------------------------------------------------------
class Socket:
    """What the feed sends, as the customer's socket would receive it."""

    def __init__(self, chats: CustomerChats, session: ChatSession, after_seq: int = 0) -> None:
        self.sent: list[dict[str, Any]] = []
        self.task = asyncio.create_task(chats.feed(session, after_seq=after_seq).run(self._send))

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def until(self, wanted: Callable[[dict[str, Any]], bool], seconds: float = 8.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + seconds
        seen = 0
        while asyncio.get_running_loop().time() < deadline:
            for message in self.sent[seen:]:
                if wanted(message):
                    return message
            seen = len(self.sent)
            await asyncio.sleep(0.02)
        raise AssertionError(f"not received; got {self.sent}")

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["type"] == kind]

    async def close(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


def test_the_feed_sends_status_then_what_was_missed_then_the_conversation_live(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        _, session, _ = await _start(chats, center)
        await chats.post(session, "second")
        socket = Socket(chats, session, after_seq=1)
        first = await socket.until(lambda m: m["type"] == "status")
        assert socket.sent[0] is first and first["state"] == "waiting" and first["position"] == 1
        assert "queue_id" not in first
        await socket.until(lambda m: m["type"] == "message" and m["message"]["seq"] == 2)
        interaction_id = await center.take(center.ann)
        await socket.until(lambda m: m["type"] == "status" and m["state"] == "active" and m["agent_name"] == "Ann")
        interaction = await talk.agent_interaction(p, center.agent_scope(center.ann), interaction_id)
        await talk.typing(p, interaction, Sender.AGENT, True)
        await chats.typing(session, True)  # her own typing is not echoed to her
        await center.say(center.ann, interaction_id, "Hi Dana")
        await chats.post(session, "Hello")
        await talk.mark_read(p, interaction, Sender.AGENT, 4)
        await socket.until(lambda m: m["type"] == "read" and m["seq"] == 4)
        assert [m["message"]["seq"] for m in socket.of("message")] == [2, 3, 4]  # each once, in order
        assert socket.of("message")[1]["message"] == {
            "seq": 3, "sender": "agent", "body": "Hi Dana", "agent_name": "Ann",
            "created_at": socket.of("message")[1]["message"]["created_at"]}
        assert socket.of("typing") == [{"type": "typing", "typing": True}]
        await socket.close()

    run(scenario, platform)


def test_the_feed_follows_a_transfer_and_the_queue_moving(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        _, first, _ = await _start(chats, center)
        _, second, _ = await _start(chats, center, name="Eve")
        socket = Socket(chats, second)
        await socket.until(lambda m: m["type"] == "status" and m["position"] == 2)
        interaction_id = await center.take(center.ann)  # takes the first chat: Eve moves up
        assert interaction_id == first.interaction_id
        moved_up = await socket.until(lambda m: m["type"] == "status" and m["position"] == 1)
        assert moved_up["estimated_wait_seconds"] == 120.0  # one busy agent, one chat each, 120 s a chat
        await chats.end(first)
        await work.complete(p, center.agent_scope(center.ann), interaction_id, disposition=None, notes=None)
        await center.accept(center.ann)
        await socket.until(lambda m: m["type"] == "status" and m["state"] == "active")
        await work.set_agent_state(p, center.scope, center.ann, Presence.PAUSED, "lunch")
        await work.transfer(p, center.agent_scope(center.ann), second.interaction_id, TransferKind.QUEUE,
                            center.other_queue, "needs second line")
        moved = await socket.until(lambda m: m["type"] == "status" and m["transferred"])
        assert moved["state"] == "waiting" and moved["agent_name"] is None
        await center.take(center.bob)
        await socket.until(lambda m: m["type"] == "status" and m["state"] == "active" and m["agent_name"] == "Bob")
        await socket.close()

    run(scenario, platform)


def test_a_feed_that_fell_behind_reads_the_store_and_doubles_nothing(platform: Platform) -> None:
    async def scenario(p: Platform) -> None:
        center = await Center.make(p)
        chats = CustomerChats(p)
        _, session, _ = await _start(chats, center)
        interaction_id = await center.take(center.ann)
        feed = chats.feed(session, after_seq=0)
        feed.items = asyncio.Queue(2)  # a tiny buffer: most events are dropped
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            await asyncio.sleep(0.01)  # a slow reader

        task = asyncio.create_task(feed.run(send))
        for n in range(12):
            await center.say(center.ann, interaction_id, f"answer {n}")
        for _ in range(300):
            if [m["message"]["seq"] for m in sent if m["type"] == "message"][-1:] == [13]:
                break
            await asyncio.sleep(0.02)
        assert [m["message"]["seq"] for m in sent if m["type"] == "message"] == list(range(1, 14))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario, platform)
