"""Interactions (contacts): one call, chat, email, callback or outbound attempt, and its lifecycle.

    created → queued → offered → accepted ⇄ held → wrap_up → completed
                 ↑        │
                 └────────┘ (offer rejected, timed out or reverted: back in its original place)
    queued / offered → abandoned (the customer left before an answer)

Transfers: to a queue (queued again there), to an agent (queued for that agent only, falling back
to the queue after a time-out), or to an external resource (completed, with the referral recorded).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .agents import Medium
from .errors import InvalidTransition
from .ids import AgentId, InteractionId, OperatorId, ProgramId, QueueId, TenantId


class Channel(enum.StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"
    OUTBOUND = "outbound"

    @property
    def medium(self) -> Medium:
        return _MEDIUM[self]


_MEDIUM = {
    Channel.VOICE: Medium.VOICE,
    Channel.CALLBACK: Medium.VOICE,
    Channel.OUTBOUND: Medium.VOICE,
    Channel.CHAT: Medium.CHAT,
    Channel.EMAIL: Medium.EMAIL,
}


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InteractionState(enum.StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    HELD = "held"
    WRAP_UP = "wrap_up"
    COMPLETED = "completed"
    ABANDONED = "abandoned"

    @property
    def terminal(self) -> bool:
        return self in (InteractionState.COMPLETED, InteractionState.ABANDONED)

    @property
    def waiting(self) -> bool:
        return self in (InteractionState.QUEUED, InteractionState.OFFERED)

    @property
    def with_agent(self) -> bool:
        return self in (InteractionState.ACCEPTED, InteractionState.HELD, InteractionState.WRAP_UP)


class TransferKind(enum.StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    EXTERNAL = "external"


@dataclass(slots=True)
class Customer:
    id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "phone": self.phone, "email": self.email}

    @property
    def key(self) -> str | None:
        """What ties this customer's contacts together: the id, else the phone, else the e-mail."""
        if self.id:
            return self.id
        if self.phone:
            return self.phone
        return self.email.strip().lower() if self.email else None


@dataclass(slots=True)
class Interaction:
    id: InteractionId
    operator_id: OperatorId
    tenant_id: TenantId
    program_id: ProgramId
    channel: Channel
    direction: Direction
    created_at: datetime
    customer: Customer = field(default_factory=Customer)
    attributes: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    state: InteractionState = InteractionState.CREATED
    queue_id: QueueId | None = None
    workflow_id: str | None = None
    target_index: int = 0  # which target of the workflow's chosen route it is on
    route: str | None = None  # name of the matched workflow filter, or "default"
    agent_filter: str | None = None  # the current target's agent expression (source text)
    only_agent_id: AgentId | None = None  # set while reserved for one agent (preferred, transfer)
    only_agent_until: datetime | None = None
    target_deadline: datetime | None = None  # when the current workflow target overflows
    excluded_agents: frozenset[AgentId] = frozenset()  # agents who rejected it
    visited_queues: tuple[QueueId, ...] = ()  # every entry into a queue (each counts as offered there)
    answers: tuple[tuple[QueueId, float], ...] = ()  # (queue, seconds waited) of each answer
    seq: int = 0  # arrival order; ties on enqueue time are broken by it
    enqueued_at: datetime | None = None  # first entry into a queue; kept across overflow and re-offers
    answered_at: datetime | None = None
    ended_at: datetime | None = None  # conversation over, wrap-up started
    completed_at: datetime | None = None
    abandoned_at: datetime | None = None
    agent_id: AgentId | None = None
    wrap_up_deadline: datetime | None = None
    hold_started_at: datetime | None = None
    hold_seconds: float = 0.0
    disposition: str | None = None
    notes: str | None = None
    transfer: dict[str, Any] | None = None  # the last transfer: kind, target, note

    @property
    def medium(self) -> Medium:
        return self.channel.medium

    def require(self, *states: InteractionState) -> None:
        if self.state not in states:
            allowed = ", ".join(s.value for s in states)
            raise InvalidTransition(
                f"interaction {self.id} is {self.state.value}; this needs {allowed}",
                interaction_id=self.id,
                state=self.state.value,
            )

    def wait_seconds(self, now: datetime) -> float:
        """Seconds waited from first enqueue to answer, abandonment or now."""
        if self.enqueued_at is None:
            return 0.0
        end = self.answered_at or self.abandoned_at or now
        return max(0.0, (end - self.enqueued_at).total_seconds())

    def handle_seconds(self) -> float | None:
        """Talk + hold + wrap-up, once completed after an answer."""
        if self.answered_at is None or self.completed_at is None:
            return None
        return max(0.0, (self.completed_at - self.answered_at).total_seconds())
