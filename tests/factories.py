"""Builders for domain objects in tests: unique ids, sensible defaults, time from a fixed start.

Time never comes from a clock: `at(seconds)` is a moment counted from START (UTC), and every
command of the contact center is given one explicitly.
"""
from __future__ import annotations

import copy

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

from hearthline.domain.agents import Agent, Medium, Presence
from hearthline.domain.center import ContactCenter
from hearthline.domain.ids import AgentId, InteractionId, OperatorId, ProgramId, QueueId, TenantId, WorkflowId
from hearthline.domain.interactions import Channel, Customer, Direction, Interaction
from hearthline.domain.organization import DEFAULT_PAUSE_REASONS, Operator, SkillDefinition
from hearthline.domain.queues import Queue
from hearthline.domain.routing import RoutingAgent, WaitingEntry
from hearthline.domain.workflows import Route, Target, Workflow

START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)  # a Monday morning
OPERATOR_ID = OperatorId("op-test")
TENANT_ID = TenantId("tenant-test")
PROGRAM_ID = ProgramId("program-test")

_ids = itertools.count(1)


def at(seconds: float) -> datetime:
    """The moment `seconds` after START."""
    return START + timedelta(seconds=seconds)


def ts(seconds: float) -> float:
    """Epoch seconds of at(seconds), the unit the routing engine works in."""
    return at(seconds).timestamp()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_ids):05d}"


# ---- plain domain objects ---------------------------------------------------------------------

def make_operator(**overrides: Any) -> Operator:
    fields: dict[str, Any] = {"id": OPERATOR_ID, "name": "Test operator"}
    fields.update(overrides)
    return Operator(**fields)


def make_queue(**overrides: Any) -> Queue:
    fields: dict[str, Any] = {
        "id": QueueId(unique("queue")), "operator_id": OPERATOR_ID, "tenant_id": TENANT_ID,
        "program_id": PROGRAM_ID, "name": "Queue",
    }
    fields.update(overrides)
    return Queue(**fields)


def make_agent(name: str = "agent", **overrides: Any) -> Agent:
    fields: dict[str, Any] = {"id": AgentId(unique(f"agent-{name}")), "operator_id": OPERATOR_ID, "name": name}
    fields.update(overrides)
    return Agent(**fields)


def make_interaction(channel: Channel = Channel.VOICE, *, customer_id: str | None = None,
                     created: float = 0.0, **overrides: Any) -> Interaction:
    fields: dict[str, Any] = {
        "id": InteractionId(unique("ix")), "operator_id": OPERATOR_ID, "tenant_id": TENANT_ID,
        "program_id": PROGRAM_ID, "channel": channel, "direction": Direction.INBOUND,
        "created_at": at(created), "customer": Customer(id=customer_id or unique("customer")),
    }
    fields.update(overrides)
    return Interaction(**fields)


def make_workflow(routes: list[Route] | tuple[Route, ...] = (), default: Target | None = None,
                  **overrides: Any) -> Workflow:
    """A workflow of this tenant's program; `default` is its default target."""
    fields: dict[str, Any] = {
        "id": WorkflowId(unique("wf")), "operator_id": OPERATOR_ID, "tenant_id": TENANT_ID,
        "program_id": PROGRAM_ID, "name": "Workflow", "routes": tuple(routes), "default_target": default,
    }
    fields.update(overrides)
    return Workflow(**fields)


# ---- the contact center ---------------------------------------------------------------------

def make_center(*, offer_timeout_seconds: int = 20, skills: list[SkillDefinition] | None = None) -> ContactCenter:
    center = ContactCenter(make_operator(), offer_timeout_seconds=offer_timeout_seconds)
    center.set_pause_reasons(list(DEFAULT_PAUSE_REASONS))
    center.set_skills(skills or [])
    return center


def add_queue(center: ContactCenter, now: float = 0.0, **overrides: Any) -> Queue:
    queue = make_queue(**overrides)
    center.set_queue(queue, at(now))
    return queue


def add_agent(center: ContactCenter, name: str = "agent", *, available_at: float | None = 0.0,
              now: float | None = None, **overrides: Any) -> AgentId:
    """Add an agent at `now` (default: `available_at`, else 0); she becomes available at
    `available_at` (None: she stays offline)."""
    agent = make_agent(name, **overrides)
    center.set_agent(agent, at(now if now is not None else available_at or 0.0))
    if available_at is not None:
        center.set_presence(agent.id, Presence.AVAILABLE, None, at(available_at))
    return agent.id


def arrive(center: ContactCenter, queue: Queue | None, now: float, channel: Channel = Channel.VOICE, *,
           workflow_id: str | None = None, **overrides: Any) -> Interaction:
    """A new contact arrives at `now`, directly in `queue` or through a workflow."""
    interaction = make_interaction(channel, created=now, **overrides)
    return center.create_interaction(interaction, at(now), queue_id=queue.id if queue else None,
                                     workflow_id=workflow_id)


def offer_of(center: ContactCenter, agent_id: str) -> str | None:
    """The id of the agent's outstanding offer, if any."""
    return center.agent(agent_id).offer_id


def offered_interaction(center: ContactCenter, agent_id: str) -> str | None:
    offer_id = offer_of(center, agent_id)
    return center.offers[offer_id].interaction_id if offer_id else None  # type: ignore[index]


def accept(center: ContactCenter, agent_id: str, now: float) -> Interaction:
    """The agent accepts her outstanding offer."""
    offer_id = offer_of(center, agent_id)
    assert offer_id is not None, f"{agent_id} has no offer"
    return center.accept_offer(offer_id, agent_id, at(now))


# ---- routing engine -------------------------------------------------------------------------

def make_routing_agent(*, skills: dict[str, int] | None = None, languages: frozenset[str] = frozenset(),
                       capacity: dict[Medium, int] | None = None, accepting: bool = True,
                       idle_since: float = 0.0, agent_id: str | None = None, **overrides: Any) -> RoutingAgent:
    """A routing agent; `idle_since` is in test seconds (converted to epoch seconds)."""
    return RoutingAgent(
        agent_id=AgentId(agent_id or unique("ragent")), skills=dict(skills or {}), languages=languages,
        capacity=dict(capacity or {Medium.VOICE: 1, Medium.CHAT: 3, Medium.EMAIL: 5}),
        accepting=accepting, idle_since=ts(idle_since), **overrides,
    )


_entry_seq = itertools.count(1)


def make_entry(queue: Queue, *, enqueued: float = 0.0, priority: float = 0.0, medium: Medium = Medium.VOICE,
               **overrides: Any) -> WaitingEntry:
    """A waiting entry; `enqueued` is in test seconds. The base priority includes the queue's."""
    return WaitingEntry(
        interaction_id=InteractionId(unique("entry")), queue_id=queue.id, medium=medium,
        priority=priority + queue.priority, enqueued=ts(enqueued), seq=next(_entry_seq), **overrides,
    )


# ---- restart ----------------------------------------------------------------------------------

class ChangeLog:
    """What a store keeps of a center's changes: the latest version of each object touched."""

    def __init__(self) -> None:
        self.interactions: dict = {}
        self.offers: dict = {}
        self.agents: dict = {}
        self.segments: dict = {}

    def save(self, changes: Any) -> None:
        for interaction in changes.interactions.values():
            self.interactions[interaction.id] = copy.deepcopy(interaction)
        for offer in changes.offers.values():
            self.offers[offer.id] = copy.deepcopy(offer)
        for runtime in changes.agents.values():
            self.agents[runtime.id] = (copy.deepcopy(runtime.profile), runtime.presence, runtime.pause_reason)
        for segment in changes.segments:
            self.segments[(segment.agent_id, segment.seq)] = copy.deepcopy(segment)

    def open_segment(self, agent_id: str) -> Any:
        mine = [s for (a, _), s in sorted(self.segments.items()) if a == agent_id]
        return mine[-1] if mine else None


def restart(store: ChangeLog, queues: Any, now: float, workflows: Any = ()) -> ContactCenter:
    """A new center rebuilt from `store`, as the router does after a restart."""
    new = make_center()
    for queue in queues:
        new.set_queue(copy.deepcopy(queue), at(now))
    for workflow in workflows:
        new.set_workflow(workflow)
    agents = [(profile, presence, reason, store.open_segment(agent_id))
              for agent_id, (profile, presence, reason) in store.agents.items()]
    pending = [o for o in store.offers.values() if o.status == "pending"]
    new.restore(agents=agents, interactions=list(store.interactions.values()), pending_offers=pending,
                now=at(now))
    return new
