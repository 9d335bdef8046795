"""The SQL store's contract, on SQLite and on PostgreSQL: migrations, scoped access, router persistence.

Every test builds its own operator and tenants with unique ids: the PostgreSQL database is shared
by the tests of this module.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from hearthline.adapters.sql import mapping as m
from hearthline.adapters.sql import tables as t
from hearthline.adapters.sql.store import SqlStore
from hearthline.domain.agents import AgentState, Presence, StateSegment
from hearthline.domain.center import AgentRuntime, Changes, ContactCenter, Offer, OfferStatus
from hearthline.domain.errors import Conflict, NotFound
from hearthline.domain.events import Event, EventName
from hearthline.domain.ids import AgentId, InteractionId, OfferId, OperatorId, ProgramId, QueueId, TenantId
from hearthline.domain.interactions import Channel, Customer, Direction, Interaction, InteractionState
from hearthline.domain.organization import DEFAULT_PAUSE_REASONS, Operator, Scope
from hearthline.domain.queues import Queue
from tests.factories import START, at, make_agent, make_interaction, make_queue, make_routing_agent, unique

UTC = timezone.utc
PARIS = timezone(timedelta(hours=2))  # an aware non-UTC offset: the store must hand back UTC


@dataclass(slots=True)
class World:
    """One operator with two tenants, each with one program, stored."""

    operator_id: OperatorId
    tenant_a: TenantId
    tenant_b: TenantId
    program_a: ProgramId
    program_b: ProgramId

    @property
    def scope(self) -> Scope:
        return Scope(self.operator_id)

    def scope_of(self, *tenants: str) -> Scope:
        return Scope(self.operator_id, frozenset(TenantId(x) for x in tenants))


def make_world(store: SqlStore) -> World:
    world = World(OperatorId(unique("op")), TenantId(unique("ten-a")), TenantId(unique("ten-b")),
                  ProgramId(unique("prog-a")), ProgramId(unique("prog-b")))
    store.insert_row(t.operators, {"id": world.operator_id, "name": "Operator", "missed_pause_code": "missed",
                                   "created_at": START})
    for reason in DEFAULT_PAUSE_REASONS:
        store.upsert_keyed(t.pause_reasons, "code", {"operator_id": world.operator_id, "code": reason.code,
                                                      "label": reason.label, "paid": reason.paid})
    for tenant, program, name in ((world.tenant_a, world.program_a, "A"), (world.tenant_b, world.program_b, "B")):
        store.insert_row(t.tenants, {"id": tenant, "operator_id": world.operator_id, "name": f"Tenant {name}",
                                     "created_at": START})
        store.insert_row(t.programs, {"id": program, "operator_id": world.operator_id, "tenant_id": tenant,
                                      "name": f"Program {name}", "default_workflow_id": None,
                                      "created_at": START})
    return world


def store_queue(store: SqlStore, world: World, **overrides: Any) -> Queue:
    queue = make_queue(operator_id=world.operator_id, tenant_id=world.tenant_a, program_id=world.program_a,
                       **overrides)
    store.insert_row(t.queues, m.queue_row(queue) | {"created_at": START})
    return queue


def store_agent(store: SqlStore, world: World, name: str, created: float = 0.0, **overrides: Any):  # type: ignore[no-untyped-def]
    agent = make_agent(name, operator_id=world.operator_id, **overrides)
    store.insert_row(t.agents, m.agent_row(agent) | {"presence": "offline", "pause_reason": None,
                                                     "created_at": at(created)})
    return agent


def assert_utc(value: object, where: str) -> None:
    """Every datetime reachable from `value` is aware and in UTC."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0), f"{where}: {value!r} is not UTC"
        assert value.tzinfo == UTC, f"{where}: {value!r} carries {value.tzinfo!r}, not UTC"
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_utc(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            assert_utc(item, f"{where}[{i}]")
    elif hasattr(value, "__dataclass_fields__"):
        for f in fields(value):  # type: ignore[arg-type]
            assert_utc(getattr(value, f.name), f"{where}.{f.name}")


# ---- migrations ---------------------------------------------------------------------------------
def test_migrations_apply_twice_and_leave_one_head(store: SqlStore) -> None:
    store.upgrade()  # the fixture already applied them once
    store.upgrade()
    with store.begin() as conn:
        versions = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    assert len(versions) == 1
    tables = set(inspect(store.engine).get_table_names())
    assert {table.name for table in t.metadata.sorted_tables} <= tables


def test_a_fresh_store_object_on_a_migrated_database_upgrades_without_change(store: SqlStore) -> None:
    world = make_world(store)
    again = SqlStore(store.url)
    again.start()
    try:
        again.upgrade()
        assert again.get_row(t.tenants, "tenant", world.tenant_a, world.scope)["name"] == "Tenant A"
    finally:
        again.close()


# ---- scoped rows --------------------------------------------------------------------------------
def test_scoped_rows_can_be_inserted_read_listed_updated_and_deleted(store: SqlStore) -> None:
    world = make_world(store)
    scope = world.scope
    row = store.get_row(t.programs, "program", world.program_a, scope)
    assert row["name"] == "Program A" and row["tenant_id"] == world.tenant_a
    assert row["created_at"] == START and row["created_at"].tzinfo == UTC

    listed = store.list_rows(t.programs, scope)
    assert [r["id"] for r in listed] == [world.program_a, world.program_b]
    assert [r["id"] for r in store.list_rows(t.programs, scope, tenant_id=world.tenant_b)] == [world.program_b]
    assert len(store.list_rows(t.programs, scope, limit=1)) == 1
    assert [r["id"] for r in store.list_rows(t.programs, scope, limit=1, offset=1)] == [
        listed[1]["id"]]

    store.update_row(t.programs, "program", world.program_a, scope, {"name": "Renamed"})
    assert store.get_row(t.programs, "program", world.program_a, scope)["name"] == "Renamed"

    store.delete_row(t.programs, "program", world.program_b, scope)
    with pytest.raises(NotFound):
        store.get_row(t.programs, "program", world.program_b, scope)
    assert [r["id"] for r in store.list_rows(t.programs, scope)] == [world.program_a]


def test_rows_created_at_the_same_moment_page_in_a_stable_order(store: SqlStore) -> None:
    world = make_world(store)
    ids = [f"{unique('same')}-{suffix}" for suffix in ("e", "b", "d", "a", "c")]
    for ident in ids:
        store.insert_row(t.tenants, {"id": ident, "operator_id": world.operator_id, "name": ident,
                                     "created_at": at(60)})
    scope = Scope(world.operator_id, frozenset(ids))  # TenantId is a str
    pages = [store.list_rows(t.tenants, scope, limit=2, offset=o) for o in (0, 2, 4)]
    assert [r["id"] for page in pages for r in page] == sorted(ids)


def test_a_missing_row_is_not_found_for_get_update_and_delete(store: SqlStore) -> None:
    world = make_world(store)
    for action in (
        lambda: store.get_row(t.programs, "program", "nope", world.scope),
        lambda: store.update_row(t.programs, "program", "nope", world.scope, {"name": "x"}),
        lambda: store.delete_row(t.programs, "program", "nope", world.scope),
    ):
        with pytest.raises(NotFound) as caught:
            action()
        assert caught.value.details == {"kind": "program", "id": "nope"}


@pytest.mark.parametrize("table, kind", [(t.tenants, "tenant"), (t.programs, "program")])
def test_a_scope_of_tenant_a_cannot_reach_tenant_b_rows(store: SqlStore, table: Any, kind: str) -> None:
    world = make_world(store)
    only_a = world.scope_of(world.tenant_a)
    b_id = world.tenant_b if table is t.tenants else world.program_b
    a_id = world.tenant_a if table is t.tenants else world.program_a

    assert store.get_row(table, kind, a_id, only_a)["id"] == a_id
    assert [r["id"] for r in store.list_rows(table, only_a)] == [a_id]
    assert store.list_rows(table, only_a, **{"id" if table is t.tenants else "tenant_id": world.tenant_b}) == []
    with pytest.raises(NotFound):
        store.get_row(table, kind, b_id, only_a)
    with pytest.raises(NotFound):
        store.update_row(table, kind, b_id, only_a, {"name": "stolen"})
    with pytest.raises(NotFound):
        store.delete_row(table, kind, b_id, only_a)
    # Untouched, as the unrestricted scope sees.
    assert store.get_row(table, kind, b_id, world.scope)["name"].endswith("B")


def test_another_operator_sees_none_of_the_rows(store: SqlStore) -> None:
    world = make_world(store)
    other = make_world(store)
    assert store.list_rows(t.tenants, other.scope) == [
        store.get_row(t.tenants, "tenant", other.tenant_a, other.scope),
        store.get_row(t.tenants, "tenant", other.tenant_b, other.scope)]
    with pytest.raises(NotFound):
        store.get_row(t.tenants, "tenant", world.tenant_a, other.scope)
    with pytest.raises(NotFound):
        store.delete_row(t.programs, "program", world.program_a, other.scope)
    with pytest.raises(NotFound):
        store.get_row(t.programs, "program", world.program_a, Scope(other.operator_id, frozenset({world.tenant_a})))


def test_a_duplicate_username_is_a_conflict(store: SqlStore) -> None:
    world = make_world(store)
    username = unique("user")

    def user(user_id: str) -> dict[str, Any]:
        return {"id": user_id, "operator_id": world.operator_id, "username": username, "role": "admin",
                "password_hash": "x", "tenant_id": None, "agent_id": None, "display_name": "",
                "active": True, "created_at": START}

    store.insert_row(t.users, user(unique("u")))
    with pytest.raises(Conflict):
        store.insert_row(t.users, user(unique("u")))
    assert store.count(t.users, username=username) == 1


def test_a_row_whose_parent_is_missing_is_a_conflict(store: SqlStore) -> None:
    world = make_world(store)
    with pytest.raises(Conflict):
        store.insert_row(t.programs, {"id": unique("prog"), "operator_id": world.operator_id,
                                      "tenant_id": "no-such-tenant", "name": "Orphan",
                                      "default_workflow_id": None, "created_at": START})


def test_keyed_rows_are_upserted_and_deleted_per_operator(store: SqlStore) -> None:
    world = make_world(store)
    other = make_world(store)
    row = {"operator_id": world.operator_id, "name": "billing", "description": "Bills",
           "requires_certification": None}
    store.upsert_keyed(t.skills, "name", row)
    store.upsert_keyed(t.skills, "name", row | {"description": "Invoices"})
    store.upsert_keyed(t.skills, "name", row | {"operator_id": other.operator_id})
    assert [(r["name"], r["description"]) for r in store.list_rows(t.skills, world.scope, order_by="name")] == [
        ("billing", "Invoices")]
    store.delete_keyed(t.skills, "skill", "name", "billing", world.operator_id)
    with pytest.raises(NotFound):
        store.delete_keyed(t.skills, "skill", "name", "billing", world.operator_id)
    assert store.count(t.skills, operator_id=other.operator_id) == 1


def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    world = make_world(store)
    with pytest.raises(Exception, match="naive"):
        store.insert_row(t.tenants, {"id": unique("ten"), "operator_id": world.operator_id, "name": "Naive",
                                     "created_at": datetime(2025, 1, 1, 12, 0)})


# ---- router persistence -------------------------------------------------------------------------
def full_interaction(world: World, queue: Queue, agent_id: str) -> Interaction:
    """An interaction with every field set, datetimes in a non-UTC offset."""
    base = START.astimezone(PARIS)
    return Interaction(
        id=InteractionId(unique("ix")), operator_id=world.operator_id, tenant_id=world.tenant_a,
        program_id=world.program_a, channel=Channel.CHAT, direction=Direction.OUTBOUND, created_at=base,
        customer=Customer(id="c-1", name="Zoë Ünïcode", phone="+33123456789", email="zoe@example.org"),
        attributes={"vip": True, "tags": ["a", "b"], "nested": {"score": 4.5, "none": None}},
        priority=7, state=InteractionState.HELD, queue_id=queue.id, workflow_id="wf-1", target_index=2,
        route="vip route", agent_filter="agent.score > 3", only_agent_id=AgentId(agent_id),
        only_agent_until=base + timedelta(seconds=30), target_deadline=base + timedelta(seconds=60),
        excluded_agents=frozenset({AgentId("ag-x"), AgentId("ag-y")}), seq=41,
        enqueued_at=base + timedelta(seconds=1), answered_at=base + timedelta(seconds=5),
        ended_at=None, completed_at=None, abandoned_at=None, agent_id=AgentId(agent_id),
        wrap_up_deadline=base + timedelta(seconds=90), hold_started_at=base + timedelta(seconds=20),
        hold_seconds=12.5, disposition="sale", notes="line 1\nline 2 ✓",
        transfer={"kind": "queue", "target": queue.id, "note": None, "from_agent": "ag-x",
                  "at": base.isoformat()},
    )


def test_save_changes_and_load_router_state_round_trip_every_field(store: SqlStore) -> None:
    world = make_world(store)
    queue = store_queue(store, world)
    ann = store_agent(store, world, "ann", created=0, skills={"billing": 3}, languages=frozenset({"fr", "en"}),
                      certifications={"pci": datetime(2026, 1, 1, 2, 0, tzinfo=PARIS)}, home_state="CA",
                      time_zone="Europe/Paris", score=4.25, attributes={"team": "blue"})
    bob = store_agent(store, world, "bob", created=1)
    live = full_interaction(world, queue, ann.id)
    done = make_interaction(operator_id=world.operator_id, tenant_id=world.tenant_a, program_id=world.program_a,
                            created=-86_400 * 2, state=InteractionState.COMPLETED, queue_id=queue.id, seq=3,
                            completed_at=at(-86_400 * 2 + 60))
    today = make_interaction(operator_id=world.operator_id, tenant_id=world.tenant_a, program_id=world.program_a,
                             created=10, state=InteractionState.ABANDONED, queue_id=queue.id, seq=50,
                             enqueued_at=at(10), abandoned_at=at(20))
    pending = Offer(OfferId(unique("offer")), live.id, ann.id, at(2).astimezone(PARIS), at(22))
    accepted = Offer(OfferId(unique("offer")), live.id, bob.id, at(1), at(21), OfferStatus.ACCEPTED, at(3))
    closed = StateSegment(ann.id, AgentState.AVAILABLE, at(0), None, at(5).astimezone(PARIS), seq=1)
    open_ann = StateSegment(ann.id, AgentState.BUSY, at(5).astimezone(PARIS), None, None, seq=2)
    open_bob = StateSegment(bob.id, AgentState.PAUSED, at(6), "lunch", None, seq=1)
    ann_rt = AgentRuntime(ann, make_routing_agent(agent_id=ann.id), presence=Presence.AVAILABLE)
    bob_rt = AgentRuntime(bob, make_routing_agent(agent_id=bob.id), presence=Presence.PAUSED, pause_reason="lunch")
    event = Event(EventName.INTERACTION_HELD, at(20), world.operator_id, world.tenant_a, live.id, ann.id, queue.id,
                  {"k": [1, 2]})
    changes = Changes(events=[event], interactions={i.id: i for i in (live, done, today)},
                      agents={ann.id: ann_rt, bob.id: bob_rt}, segments=[closed, open_ann, open_bob],
                      offers={pending.id: pending, accepted.id: accepted})
    store.save_changes(world.operator_id, changes)

    state = store.load_router_state(world.operator_id, START.replace(hour=0))

    assert state["operator"] == Operator(world.operator_id, "Operator", "missed")
    assert [q.id for q in state["queues"]] == [queue.id] and state["queues"][0] == queue
    assert {r.code for r in state["pause_reasons"]} == {r.code for r in DEFAULT_PAUSE_REASONS}
    # Live and today's interactions, in seq order; the completed one of two days ago is not loaded.
    assert [i.id for i in state["interactions"]] == [live.id, today.id]
    restored = state["interactions"][0]
    assert restored == live
    for f in fields(Interaction):
        assert getattr(restored, f.name) == getattr(live, f.name), f.name
    assert_utc(state["interactions"], "interactions")
    assert restored.excluded_agents == frozenset({"ag-x", "ag-y"})
    # Only the pending offer comes back.
    assert state["offers"] == [pending]
    assert_utc(state["offers"], "offers")
    # Agents in creation order, each with presence, pause reason and her open segment.
    assert [(a.id, p, r) for a, p, r, _ in state["agents"]] == [
        (ann.id, Presence.AVAILABLE, None), (bob.id, Presence.PAUSED, "lunch")]
    assert state["agents"][0][0] == ann and state["agents"][1][0] == bob
    assert state["agents"][0][0].certifications == {"pci": datetime(2026, 1, 1, 0, 0, tzinfo=UTC)}
    assert_utc([a for a, *_ in state["agents"]], "agents")
    assert [s for *_, s in state["agents"]] == [open_ann, open_bob]
    assert_utc([s for *_, s in state["agents"]], "segments")
    assert store.agent_presence(bob.id) is Presence.PAUSED


def test_saving_an_interaction_again_updates_it(store: SqlStore) -> None:
    world = make_world(store)
    queue = store_queue(store, world)
    ix = make_interaction(operator_id=world.operator_id, tenant_id=world.tenant_a, program_id=world.program_a,
                          state=InteractionState.QUEUED, queue_id=queue.id, seq=1, enqueued_at=at(0))
    store.save_changes(world.operator_id, Changes(interactions={ix.id: ix}))
    ix.state, ix.abandoned_at = InteractionState.ABANDONED, at(30)
    store.save_changes(world.operator_id, Changes(interactions={ix.id: ix}))
    row = store.get_row(t.interactions, "interaction", ix.id, world.scope)
    assert row["state"] == "abandoned" and row["abandoned_at"] == at(30)
    assert store.count(t.interactions, id=ix.id) == 1


def test_segments_are_upserted_by_agent_and_seq(store: SqlStore) -> None:
    world = make_world(store)
    ann = store_agent(store, world, "ann")
    seg = StateSegment(ann.id, AgentState.AVAILABLE, at(0), None, None, seq=1)
    store.save_changes(world.operator_id, Changes(segments=[seg]))
    seg.end = at(10)
    nxt = StateSegment(ann.id, AgentState.PAUSED, at(10), "break", None, seq=2)
    store.save_changes(world.operator_id, Changes(segments=[seg, nxt]))
    with store.begin() as conn:
        rows = conn.execute(select(t.agent_segments).where(t.agent_segments.c.agent_id == ann.id)
                            .order_by(t.agent_segments.c.seq)).mappings().all()
    assert [(r["seq"], r["state"], r["end"]) for r in rows] == [(1, "available", at(10)), (2, "paused", None)]
    state = store.load_router_state(world.operator_id, START)
    assert [s for *_, s in state["agents"]] == [nxt]


def test_events_are_appended_in_order_with_increasing_ids(store: SqlStore) -> None:
    world = make_world(store)
    names = list(EventName)

    def batch(chunk: list[EventName], second: float) -> list[Event]:
        return [Event(n, at(second), world.operator_id, world.tenant_a, data={"i": i}) for i, n in enumerate(chunk)]

    store.save_changes(world.operator_id, Changes(events=batch(names[:5], 1)))
    store.save_changes(world.operator_id, Changes(events=batch(names[5:], 2)))
    with store.begin() as conn:
        rows = conn.execute(select(t.events).where(t.events.c.operator_id == world.operator_id)
                            .order_by(t.events.c.id)).mappings().all()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(names) and len(set(ids)) == len(ids)
    # ids grow in the order the events were appended, across batches
    assert [r["name"] for r in rows] == [str(n) for n in names]
    assert [r["at"] for r in rows] == [at(1)] * 5 + [at(2)] * (len(names) - 5)
    assert all(r["at"].tzinfo == UTC for r in rows)
    assert rows[0]["data"] == {"i": 0}


def test_load_router_state_of_an_unknown_operator_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.load_router_state("no-such-operator", START)


def test_the_arrival_sequence_continues_after_a_restart_on_a_quiet_day(store: SqlStore) -> None:
    world = make_world(store)
    queue = store_queue(store, world)
    old = make_interaction(operator_id=world.operator_id, tenant_id=world.tenant_a, program_id=world.program_a,
                           state=InteractionState.ABANDONED, queue_id=queue.id, seq=41, enqueued_at=at(0),
                           abandoned_at=at(5))
    store.save_changes(world.operator_id, Changes(interactions={old.id: old}))
    next_day = at(86_400)
    state = store.load_router_state(world.operator_id, next_day.replace(hour=0))
    center = ContactCenter(state["operator"])
    for q in state["queues"]:
        center.set_queue(q, next_day)
    center.restore(agents=state["agents"], interactions=state["interactions"], pending_offers=state["offers"],
                   now=next_day)
    assert center.interactions == {}  # yesterday's contact is over; only its seq mattered
    new = center.create_interaction(make_interaction(operator_id=world.operator_id, tenant_id=world.tenant_a,
                                                     program_id=world.program_a, created=86_400),
                                    next_day, queue_id=queue.id)
    assert new.seq == 42
    assert center.queue_snapshot(queue.id, next_day)["abandoned"] == 0  # yesterday's numbers stay out


# ---- a whole day of the contact center, persisted and restored ----------------------------------
def waiting(center: ContactCenter, queue_id: QueueId) -> list[tuple[str, datetime | None, str]]:
    return [(e.interaction_id, center.interactions[e.interaction_id].enqueued_at,
             str(center.interactions[e.interaction_id].state)) for e in center.engine.waiting_in(queue_id)]


def test_a_contact_center_restored_from_the_store_has_the_same_waiting_contacts(store: SqlStore) -> None:
    world = make_world(store)
    queue = store_queue(store, world, wrap_up_seconds=30)
    chat_queue = store_queue(store, world, name="Chat")
    ann = store_agent(store, world, "ann", created=0)
    bob = store_agent(store, world, "bob", created=1)
    cat = store_agent(store, world, "cat", created=2)
    operator = Operator(world.operator_id, "Operator")
    center = ContactCenter(operator, offer_timeout_seconds=20)
    center.set_pause_reasons(list(DEFAULT_PAUSE_REASONS))
    center.set_skills([])

    def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One command, then its changes stored — as the router does."""
        result = fn(*args, **kwargs)
        store.save_changes(world.operator_id, center.changes())
        return result

    def arrive(second: float, q: Queue = queue, channel: Channel = Channel.VOICE, **kw: Any) -> Interaction:
        ix = make_interaction(channel, created=second, operator_id=world.operator_id, tenant_id=world.tenant_a,
                              program_id=world.program_a, **kw)
        return run(center.create_interaction, ix, at(second), queue_id=q.id)

    def offer_of(agent_id: str) -> str:
        offer_id = center.agent(agent_id).offer_id
        assert offer_id is not None, f"{agent_id} has no offer"
        return offer_id

    run(center.set_queue, queue, at(0))
    run(center.set_queue, chat_queue, at(0))
    run(center.set_agent, ann, at(0))
    run(center.set_agent, bob, at(0))
    run(center.set_agent, cat, at(0))
    run(center.set_presence, ann.id, Presence.AVAILABLE, None, at(0))
    run(center.set_presence, bob.id, Presence.AVAILABLE, None, at(1))

    ix1 = arrive(10)  # → Ann (idle longest)
    ix2 = arrive(11)  # → Bob
    ix3 = arrive(12)
    ix4 = arrive(13, priority=0)
    ix5 = arrive(14)
    chat = arrive(15, chat_queue, Channel.CHAT)
    assert center.offers[offer_of(ann.id)].interaction_id == ix1.id
    assert center.offers[offer_of(bob.id)].interaction_id == ix2.id
    run(center.accept_offer, offer_of(ann.id), ann.id, at(16))
    run(center.accept_offer, offer_of(bob.id), bob.id, at(17))
    run(center.end, ix1.id, ann.id, at(60))
    run(center.complete, ix1.id, ann.id, at(70), disposition="solved", notes="ok")  # Ann is offered ix3
    assert center.offers[offer_of(ann.id)].interaction_id == ix3.id
    run(center.accept_offer, offer_of(ann.id), ann.id, at(72))
    run(center.hold, ix3.id, ann.id, at(80))
    run(center.end, ix2.id, bob.id, at(90))
    run(center.complete, ix2.id, bob.id, at(95))  # Bob is offered ix4 …
    assert center.offers[offer_of(bob.id)].interaction_id == ix4.id
    ix6 = arrive(100)
    run(center.abandon, ix5.id, at(110))
    run(center.tick, at(115))  # Bob misses his offer: ix4 goes back to its place, Bob to "missed"
    run(center.set_presence, cat.id, Presence.AVAILABLE, None, at(116))  # Cat is offered ix4 …
    assert center.offers[offer_of(cat.id)].interaction_id == ix4.id
    run(center.set_presence, cat.id, Presence.PAUSED, "break", at(117))  # … and pauses: it goes back again
    assert center.agent(cat.id).offer_id is None

    before = waiting(center, queue.id)
    assert [x[0] for x in before] == [ix4.id, ix6.id]
    assert waiting(center, chat_queue.id) == [(chat.id, at(15), "queued")]

    state = store.load_router_state(world.operator_id, START.replace(hour=0))
    restored = ContactCenter(state["operator"], offer_timeout_seconds=20)
    restored.set_skills(state["skills"])
    restored.set_pause_reasons(state["pause_reasons"])
    for q in state["queues"]:
        restored.set_queue(q, at(120))
    restored.restore(agents=state["agents"], interactions=state["interactions"], pending_offers=state["offers"],
                     now=at(120))

    assert waiting(restored, queue.id) == before
    assert waiting(restored, chat_queue.id) == [(chat.id, at(15), "queued")]
    for ix_id, enqueued_at, _ in before:
        assert restored.interactions[ix_id].enqueued_at == enqueued_at
        assert restored.interactions[ix_id].enqueued_at.tzinfo == UTC  # type: ignore[union-attr]
    assert set(restored.interactions) == {ix3.id, ix4.id, ix6.id, chat.id}
    held = restored.interactions[ix3.id]
    assert (held.state, held.agent_id, held.hold_started_at) == (InteractionState.HELD, ann.id, at(80))
    assert restored.agent(ann.id).contacts == {ix3.id}
    assert restored.agent(ann.id).state is AgentState.BUSY
    bob_rt = restored.agent(bob.id)
    assert (bob_rt.presence, bob_rt.pause_reason, bob_rt.state) == (Presence.PAUSED, "missed", AgentState.PAUSED)
    assert bob_rt.state_since == at(115)  # his open segment was restored, not restarted
    cat_rt = restored.agent(cat.id)
    assert (cat_rt.presence, cat_rt.pause_reason, cat_rt.state, cat_rt.offer_id) == (
        Presence.PAUSED, "break", AgentState.PAUSED, None)
    assert restored.offers == {}
    # Today's numbers are replayed from the stored interactions.
    snapshot = restored.queue_snapshot(queue.id, at(120))
    original = center.queue_snapshot(queue.id, at(120))
    for key in ("offered", "answered", "abandoned", "aht_seconds", "asa_seconds"):
        assert snapshot[key] == original[key], key
    # Restoring stored nothing that contradicts the original: saving its changes is fine and
    # a second restore gives the same queue again.
    store.save_changes(world.operator_id, restored.changes())
    again = store.load_router_state(world.operator_id, START.replace(hour=0))
    assert [i.id for i in again["interactions"] if i.state is InteractionState.QUEUED] == [
        ix4.id, chat.id, ix6.id]  # in arrival (seq) order


def test_migration_0005_gives_older_interactions_their_customer_key(store_url: str) -> None:
    """Contacts stored before the screen-pop existed are found as a customer's history too."""
    import json

    from sqlalchemy import create_engine, text

    from alembic import command

    from hearthline.adapters.sql.migrate import alembic_config, upgrade

    engine = create_engine(store_url)
    try:
        upgrade(engine, "0004")
        command.downgrade(alembic_config(engine), "0004")  # a database other tests took to the head: back to 0004
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO operators (id, name, missed_pause_code, created_at) "
                              "VALUES ('o5', 'O', 'missed', '2026-01-01')"))
            conn.execute(text("INSERT INTO tenants (id, operator_id, name, created_at) "
                              "VALUES ('t5', 'o5', 'T', '2026-01-01')"))
            conn.execute(text("INSERT INTO programs (id, operator_id, tenant_id, name, dispositions, created_at) "
                              "VALUES ('p5', 'o5', 't5', 'P', '[]', '2026-01-01')"))
            for n, customer in enumerate([{"email": " Dana@X.org"}, {"phone": "+15125550101", "email": "a@b"},
                                          {"id": "C-1", "phone": "+1"}, {}]):
                conn.execute(text(
                    "INSERT INTO interactions (id, operator_id, tenant_id, program_id, channel, direction, state, "
                    "priority, seq, created_at, customer, attributes, routing) VALUES (:id, 'o5', 't5', 'p5', "
                    "'email', 'inbound', 'completed', 0, :n, '2026-01-01', :customer, '{}', '{}')"),
                    {"id": f"i5-{n}", "n": n, "customer": json.dumps(customer)})
        upgrade(engine)
        with engine.begin() as conn:
            keys = dict(conn.execute(text("SELECT id, customer_key FROM interactions WHERE operator_id = 'o5'")).all())
        assert keys == {"i5-0": "dana@x.org", "i5-1": "+15125550101", "i5-2": "C-1", "i5-3": None}
    finally:
        engine.dispose()
