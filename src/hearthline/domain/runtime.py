"""The live records a ContactCenter keeps beside the domain objects: offers, each agent's
routing runtime, and the changes of one batch that the router stores and publishes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .agents import Agent, AgentState, Presence, StateSegment
from .events import Event
from .ids import AgentId, InteractionId, OfferId
from .interactions import Interaction
from .routing import RoutingAgent
from .stats import AgentStats


def ts(at: datetime) -> float:
    return at.timestamp()


class OfferStatus:
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    WITHDRAWN = "withdrawn"
    REVERTED = "reverted"


@dataclass(slots=True)
class Offer:
    id: OfferId
    interaction_id: InteractionId
    agent_id: AgentId
    created_at: datetime
    expires_at: datetime
    status: str = OfferStatus.PENDING
    closed_at: datetime | None = None


@dataclass(slots=True)
class AgentRuntime:
    """An agent's profile and live routing state."""

    profile: Agent
    routing: RoutingAgent
    presence: Presence = Presence.OFFLINE
    pause_reason: str | None = None
    state: AgentState = AgentState.OFFLINE
    state_reason: str | None = None
    state_since: datetime | None = None
    segment: StateSegment | None = None
    segment_seq: int = 0
    contacts: set[InteractionId] = field(default_factory=set)
    offer_id: OfferId | None = None
    stats: AgentStats = field(default_factory=AgentStats)

    @property
    def id(self) -> AgentId:
        return self.profile.id


@dataclass(slots=True)
class Changes:
    events: list[Event] = field(default_factory=list)
    interactions: dict[InteractionId, Interaction] = field(default_factory=dict)
    agents: dict[AgentId, AgentRuntime] = field(default_factory=dict)
    segments: list[StateSegment] = field(default_factory=list)
    offers: dict[OfferId, Offer] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.events or self.interactions or self.agents or self.segments or self.offers)
