"""Conversations against the real store (SQLite and PostgreSQL) and the in-process bus: numbering
under concurrency, resends that are not doubled, tone alerts, read receipts, the screen-pop, and
a completed e-mail thread that reopens."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hearthline.domain.agents import Agent, Presence
from hearthline.domain.conversations import Sender
from hearthline.domain.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from hearthline.domain.events import Event, EventName
from hearthline.domain.interactions import Channel, Customer
from hearthline.domain.organization import Role, Scope
from hearthline.domain.queues import Queue
from hearthline.services import admin, customers
from hearthline.services import conversations as talk
from hearthline.services import interactions as work
from hearthline.services.platform import Platform



class Recorder:
    def __init__(self, p: Platform) -> None:
        self.events: list[Event] = []
        p.bus.subscribe(self.take)

    async def take(self, events: list[Event]) -> None:
        self.events.extend(events)

    def named(self, name: EventName) -> list[Event]:
        return [e for e in self.events if e.name is name]


async def _chat_with_agent(p: Platform, channel: Channel = Channel.CHAT,
                           customer: Customer | None = None) -> dict[str, Any]:
    operator = await admin.create_operator(p, "Talk")
    scope = Scope(operator.id, role=Role.ADMIN)
    tenant = await admin.create_tenant(p, scope, "Client")
    program = await admin.create_program(p, scope, tenant.id, "Program")
    queue = await admin.create_queue(p, scope, Queue("", "", "", program.id, "Queue"))
    agent = await admin.create_agent(p, scope, Agent("", "", "Ann"))
    other = await admin.create_agent(p, scope, Agent("", "", "Bob"))
    await work.set_agent_state(p, scope, agent.id, Presence.AVAILABLE, None)
    interaction = await work.create_interaction(p, scope, work.NewInteraction(
        program.id, channel, queue_id=queue.id, customer=customer or Customer(name="Dana Smith", email="d@x.org")))
    offer = (await work.list_offers(p, scope, agent.id))[0]
    await work.accept_offer(p, scope, agent.id, offer["id"])
    return {"scope": scope, "tenant": tenant.id, "program": program.id, "queue": queue.id,
            "agent": agent.id, "other": other.id, "interaction": interaction,
            "agent_scope": Scope(operator.id, role=Role.AGENT, agent_id=agent.id),
            "other_scope": Scope(operator.id, role=Role.AGENT, agent_id=other.id)}


def test_messages_are_numbered_in_order_even_when_posted_at_once(platform: Platform) -> None:
    async def scenario() -> None:
        w = await _chat_with_agent(platform)
        recorder = Recorder(platform)
        interaction = w["interaction"]
        posted = await asyncio.gather(*(
            talk.add_message(platform, interaction, Sender.CUSTOMER, f"message {n}") for n in range(20)))
        assert sorted(m.seq for m in posted) == list(range(1, 21))  # no number twice, none skipped
        stored = await talk.transcript(platform, w["scope"], interaction.id)
        assert [m.seq for m in stored] == list(range(1, 21))
        assert {m.body for m in stored} == {f"message {n}" for n in range(20)}
        # each was published once, addressed to the agent who holds the chat
        added = recorder.named(EventName.MESSAGE_ADDED)
        assert len(added) == 20 and {e.agent_id for e in added} == {w["agent"]}
        later = await talk.transcript(platform, w["scope"], interaction.id, after_seq=18)
        assert [m.seq for m in later] == [19, 20]
        await platform.stop()

    asyncio.run(scenario())


def test_a_resent_message_is_not_doubled_and_bad_text_is_refused(platform: Platform) -> None:
    async def scenario() -> None:
        w = await _chat_with_agent(platform)
        recorder = Recorder(platform)
        interaction = w["interaction"]
        first = await talk.post_agent_message(platform, w["agent_scope"], interaction.id, "Hello Dana!",
                                              client_ref="desk-1")
        again = await talk.post_agent_message(platform, w["agent_scope"], interaction.id, "Hello Dana!",
                                              client_ref="desk-1")
        assert again.id == first.id and first.sender is Sender.AGENT and first.sentiment is None
        assert len(recorder.named(EventName.MESSAGE_ADDED)) == 1
        with pytest.raises(InvalidInput) as empty:
            await talk.add_message(platform, interaction, Sender.CUSTOMER, " \x00\x07 \n")
        assert empty.value.details["field"] == "body"
        with pytest.raises(InvalidInput):
            await talk.add_message(platform, interaction, Sender.CUSTOMER, "x" * 4001)
        cleaned = await talk.add_message(platform, interaction, Sender.CUSTOMER, "  line one\r\nline\x1b two  ")
        assert cleaned.body == "line one\nline two"
        # only the agent who holds it writes to the customer
        with pytest.raises(NotFound):
            await talk.post_agent_message(platform, w["other_scope"], interaction.id, "I am not on this chat")
        with pytest.raises(PermissionDenied):
            await talk.post_agent_message(platform, w["scope"], interaction.id, "supervisors read only")
        await platform.stop()

    asyncio.run(scenario())


def test_a_souring_conversation_raises_one_alert_until_it_is_acknowledged(platform: Platform) -> None:
    async def scenario() -> None:
        w = await _chat_with_agent(platform)
        recorder = Recorder(platform)
        interaction = w["interaction"]
        happy = await talk.add_message(platform, interaction, Sender.CUSTOMER, "Hi, thanks for the quick help!")
        assert happy.sentiment is not None and happy.sentiment > 0.3
        await talk.add_message(platform, interaction, Sender.CUSTOMER, "my bill is wrong")
        assert recorder.named(EventName.ALERT_RAISED) == []
        await talk.add_message(platform, interaction, Sender.CUSTOMER,
                               "This is the third time I call. I am furious, this is terrible service!")
        raised = recorder.named(EventName.ALERT_RAISED)
        assert len(raised) == 1
        alert = raised[0].data["alert"]
        assert alert["kind"] == "tone" and alert["severity"] == "critical" and alert["agent_id"] == w["agent"]
        await talk.add_message(platform, interaction, Sender.CUSTOMER, "Awful. Worst company ever, I hate this.")
        assert len(recorder.named(EventName.ALERT_RAISED)) == 1  # told once, not at every message
        assert [a["id"] for a in await talk.list_alerts(platform, w["scope"])] == [alert["id"]]
        with pytest.raises(PermissionDenied):
            await talk.list_alerts(platform, w["agent_scope"])
        done = await talk.acknowledge_alert(platform, w["scope"], alert["id"], "supervisor-1")
        assert done["acknowledged_by"] == "supervisor-1" and await talk.list_alerts(platform, w["scope"]) == []
        await talk.add_message(platform, interaction, Sender.CUSTOMER, "Still useless and I am angry!")
        assert len(recorder.named(EventName.ALERT_RAISED)) == 2  # a new alert after the first was handled
        await platform.stop()

    asyncio.run(scenario())


def test_read_receipts_are_kept_for_a_chat_and_never_go_back(platform: Platform) -> None:
    async def scenario() -> None:
        w = await _chat_with_agent(platform)
        recorder = Recorder(platform)
        interaction = w["interaction"]
        from hearthline.adapters.sql import tables as t
        platform.store.insert_row(t.chat_sessions, {
            "id": "s1", "operator_id": interaction.operator_id, "tenant_id": interaction.tenant_id,
            "program_id": interaction.program_id, "interaction_id": interaction.id, "token_hash": "h" * 64,
            "customer_read_seq": 0, "agent_read_seq": 0, "created_at": platform.clock.now()})
        await talk.mark_read(platform, interaction, Sender.AGENT, 3)
        await talk.mark_read(platform, interaction, Sender.AGENT, 2)
        row = platform.store.get_row(t.chat_sessions, "chat", "s1", w["scope"])
        assert row["agent_read_seq"] == 3 and row["customer_read_seq"] == 0
        await talk.typing(platform, interaction, Sender.CUSTOMER, True)
        assert [e.data for e in recorder.named(EventName.TYPING)] == [{"sender": "customer", "typing": True}]
        assert [e.data["seq"] for e in recorder.named(EventName.MESSAGES_READ)] == [3, 2]
        await platform.stop()

    asyncio.run(scenario())


def test_the_screen_pop_finds_the_record_and_earlier_contacts_on_every_channel(platform: Platform) -> None:
    async def scenario() -> None:
        w = await _chat_with_agent(platform, customer=Customer(name="Dana Smith", email="Dana@X.org"))
        scope = w["scope"]
        record = await customers.create_customer(platform, scope, w["tenant"], first_name="Dana", last_name="Smith",
                                                 email="dana@x.org", attributes={"plan": "Green 12"})
        earlier = await work.create_interaction(platform, scope, work.NewInteraction(
            w["program"], Channel.EMAIL, queue_id=w["queue"], customer=Customer(email="dana@x.org")))
        stranger = await work.create_interaction(platform, scope, work.NewInteraction(
            w["program"], Channel.VOICE, queue_id=w["queue"], customer=Customer(email="someone@else.org")))
        pop = await customers.screen_pop(platform, w["agent_scope"], w["interaction"].id)
        assert pop["record"]["id"] == record["id"] and pop["record"]["attributes"] == {"plan": "Green 12"}
        assert [h["id"] for h in pop["history"]] == [earlier.id]  # the same customer, not the stranger
        assert stranger.id not in {h["id"] for h in pop["history"]}
        with pytest.raises(NotFound):  # another agent's contact is out of sight
            await customers.screen_pop(platform, w["other_scope"], w["interaction"].id)
        await platform.stop()

    asyncio.run(scenario())


def test_a_completed_email_thread_reopens_in_its_queue(platform: Platform) -> None:
    async def scenario() -> None:
        w = await _chat_with_agent(platform, channel=Channel.EMAIL)
        scope, interaction = w["scope"], w["interaction"]
        await work.complete(platform, w["agent_scope"], interaction.id, disposition=None, notes="answered")
        recorder = Recorder(platform)
        stored, _ = await work.get_interaction(platform, scope, interaction.id)

        def reopen(center, now):  # type: ignore[no-untyped-def]
            return center.reopen(stored, now)

        reopened = await platform.in_router(scope, reopen)
        assert reopened.state.value in ("queued", "offered") and reopened.agent_id is None
        assert [e.name for e in recorder.events][:1] == [EventName.INTERACTION_REOPENED]
        again, _ = await work.get_interaction(platform, scope, interaction.id)
        assert again.state.value in ("queued", "offered") and again.completed_at is None
        with pytest.raises(InvalidTransition):  # only a completed contact reopens
            await platform.in_router(scope, reopen)
        await platform.stop()

    asyncio.run(scenario())


def test_a_queue_well_past_a_threshold_raises_one_alert_until_it_recovers(platform: Platform) -> None:
    from hearthline.services.alerts import ThresholdWatch

    async def scenario() -> None:
        operator = await admin.create_operator(platform, "Thresholds")
        scope = Scope(operator.id)
        tenant = await admin.create_tenant(platform, scope, "Client")
        program = await admin.create_program(platform, scope, tenant.id, "Program")
        queue = await admin.create_queue(platform, scope, Queue("", "", "", program.id, "Billing", max_ewt_seconds=60))
        recorder = Recorder(platform)
        watch = ThresholdWatch(platform)
        assert await watch.check() == []  # an empty queue is within every threshold
        waiting = await work.create_interaction(platform, scope, work.NewInteraction(
            program.id, Channel.VOICE, queue_id=queue.id))
        first = await watch.check()  # a contact waits and nobody is staffed: the wait is unbounded
        assert [(a["kind"], a["queue_id"], a["severity"]) for a in first] == [("threshold", queue.id, "critical")]
        assert "estimated wait" in first[0]["message"]
        assert await watch.check() == []  # still bad: not raised again
        await work.abandon(platform, scope, waiting.id)
        gone = await watch.check()  # the wait is over (re-armed); the one contact offered was abandoned
        assert [a["message"] for a in gone] == ["Billing: abandonment is well past its threshold"]
        await work.create_interaction(platform, scope, work.NewInteraction(program.id, Channel.VOICE,
                                                                           queue_id=queue.id))
        again = await watch.check()
        assert [a["queue_id"] for a in again if a["message"].endswith("estimated wait is well past its threshold")] \
            == [queue.id]
        assert len(again) == 1  # abandonment is still bad and was told already
        assert len(recorder.named(EventName.ALERT_RAISED)) == 3
        await platform.stop()

    asyncio.run(scenario())
