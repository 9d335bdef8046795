"""Interactions, their handling commands, their events, and live statistics."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from ....domain.interactions import Customer, Interaction
from .agents import CustomerOut
from .common import In, JsonObject, Out, Ref, Slug, Text

ChannelName = Literal["voice", "chat", "email", "callback", "outbound"]
DirectionName = Literal["inbound", "outbound"]
StateName = Literal["created", "queued", "offered", "accepted", "held", "wrap_up", "completed", "abandoned"]


class CustomerIn(In):
    id: Text(200) | None = None
    name: Text(200) | None = None
    phone: Text(50) | None = None
    email: Text(320) | None = None

    def to_domain(self) -> Customer:
        return Customer(self.id, self.name, self.phone, self.email)


class InteractionIn(In):
    program_id: Ref
    channel: ChannelName
    direction: DirectionName = "inbound"
    customer: CustomerIn = Field(default_factory=CustomerIn)
    attributes: JsonObject = Field(default_factory=dict, description="what workflow filters see")
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    queue_id: Ref | None = Field(None, description="queue it here directly…")
    workflow_id: Ref | None = Field(None, description="…or route it through this workflow "
                                                      "(neither: the program's default workflow)")


class TransferIn(In):
    kind: Literal["queue", "agent", "external"]
    target: Text(200, min_length=1) = Field(description="a queue id, an agent id, or an external number/address")
    note: Text(1000) | None = None


class CompleteIn(In):
    disposition: Slug | None = None
    notes: Text(10_000) | None = None


class InteractionOut(Out):
    id: str
    tenant_id: str
    program_id: str
    channel: ChannelName
    direction: DirectionName
    state: StateName
    queue_id: str | None
    workflow_id: str | None
    route: str | None
    agent_id: str | None
    priority: int
    customer: CustomerOut
    attributes: dict[str, Any]
    created_at: datetime
    enqueued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    completed_at: datetime | None
    abandoned_at: datetime | None
    wrap_up_deadline: datetime | None
    hold_seconds: float
    disposition: str | None
    notes: str | None
    transfer: dict[str, Any] | None
    position: int | None = Field(None, description="place in line (1 is next) while waiting")
    estimated_wait_seconds: float | None = Field(None, description="null while waiting: unknown (nobody staffed)")
    wait_seconds: float | None = None

    @classmethod
    def of(cls, i: Interaction, live: dict[str, Any] | None = None) -> InteractionOut:
        return cls(
            id=i.id, tenant_id=i.tenant_id, program_id=i.program_id, channel=i.channel.value,
            direction=i.direction.value, state=i.state.value, queue_id=i.queue_id, workflow_id=i.workflow_id,
            route=i.route, agent_id=i.agent_id, priority=i.priority, customer=CustomerOut(**i.customer.as_dict()),
            attributes=dict(i.attributes), created_at=i.created_at, enqueued_at=i.enqueued_at,
            answered_at=i.answered_at, ended_at=i.ended_at, completed_at=i.completed_at,
            abandoned_at=i.abandoned_at, wrap_up_deadline=i.wrap_up_deadline, hold_seconds=round(i.hold_seconds, 3),
            disposition=i.disposition, notes=i.notes, transfer=i.transfer, **(live or {}),
        )


class EventOut(Out):
    id: int
    name: str
    at: datetime
    agent_id: str | None
    queue_id: str | None
    data: dict[str, Any]


class QueueStatsOut(Out):
    queue_id: str
    name: str
    tenant_id: str
    waiting: int
    longest_wait_seconds: float
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    service_level: float | None = Field(description="answered within the threshold ÷ (answered + abandoned), "
                                                    "short abandons (< 5 s) excluded")
    service_level_seconds: int
    asa_seconds: float | None
    aht_seconds: float | None
    abandonment_rate: float | None
    staffed_agents: int
    ready_agents: int
    ewt_seconds: float | None
    thresholds: dict[str, float] = Field(description="the queue's targets: service_level, asa_seconds, "
                                                     "abandonment_rate, ewt_seconds")
    levels: dict[str, Literal["ok", "warn", "bad"]] = Field(
        description="each watched figure against its threshold: ok, warn (past it) or bad (well past it)")
