"""Agents' profiles, their live state, and offers."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from ....domain.agents import Agent, Medium
from .common import In, JsonObject, Language, Name, Out, Slug, TimeZone

Level = Annotated[int, Field(ge=1, le=5)]
Slots = Annotated[int, Field(ge=0, le=50)]
HomeState = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Certification = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
Expiry = Annotated[AwareDatetime, Field(strict=False, description="ISO 8601 with a time zone")]
Score = Annotated[float, Field(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)]
Kind = Literal["employee", "contractor"]


class CapacityIn(In):
    """Contacts of each medium an agent may hold at once (a call excludes everything else)."""

    voice: Slots = 1
    chat: Slots = 3
    email: Slots = 5


class _AgentFields(In):
    kind: Kind = "employee"
    skills: dict[Slug, Level] = Field(default_factory=dict, max_length=100,
                                      description="skill name → proficiency 1..5")
    languages: list[Language] = Field(default_factory=list, max_length=20)
    certifications: dict[Certification, Expiry] = Field(default_factory=dict, max_length=50,
                                                        description="certification → expiry")
    home_state: HomeState | None = Field(None, description="US state code, e.g. TX")
    time_zone: TimeZone = "UTC"
    capacity: CapacityIn = Field(default_factory=CapacityIn)
    score: Score = 0.0
    attributes: JsonObject = Field(default_factory=dict)


class AgentIn(_AgentFields):
    name: Name


class AgentPatch(In):
    name: Name | None = None
    kind: Kind | None = None
    skills: dict[Slug, Level] | None = Field(None, max_length=100)
    languages: list[Language] | None = Field(None, max_length=20)
    certifications: dict[Certification, Expiry] | None = Field(None, max_length=50)
    home_state: HomeState | None = None
    time_zone: TimeZone | None = None
    capacity: CapacityIn | None = None
    score: Score | None = None
    attributes: JsonObject | None = None


class AgentOut(Out):
    id: str
    name: str
    kind: Kind
    skills: dict[str, int]
    languages: list[str]
    certifications: dict[str, datetime]
    home_state: str | None
    time_zone: str
    capacity: dict[str, int]
    score: float
    attributes: dict[str, Any]

    @classmethod
    def of(cls, a: Agent) -> AgentOut:
        return cls(id=a.id, name=a.name, kind=a.kind.value, skills=dict(a.skills), languages=sorted(a.languages),
                   certifications=dict(a.certifications), home_state=a.home_state, time_zone=a.time_zone,
                   capacity={m.value: a.capacity.get(m, 0) for m in Medium}, score=a.score,
                   attributes=dict(a.attributes))


class AgentStateIn(In):
    state: Literal["available", "paused", "offline"]
    reason: Slug | None = Field(None, description="the pause reason code; required to pause")


class AgentStateOut(Out):
    agent_id: str
    name: str
    state: Literal["offline", "available", "busy", "wrap_up", "paused"]
    reason: str | None
    presence: Literal["offline", "available", "paused"]
    seconds_in_state: float
    contacts: int
    handle_seconds: float
    active_contacts: list[str]
    offer_id: str | None
    queues: list[str]


class SegmentOut(Out):
    seq: int
    state: Literal["offline", "available", "busy", "wrap_up", "paused"]
    reason: str | None
    start: datetime
    end: datetime | None = Field(None, description="null while the segment is still open")


class CustomerOut(Out):
    id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class OfferOut(Out):
    id: str
    interaction_id: str
    agent_id: str
    created_at: datetime
    expires_at: datetime
    channel: str
    queue_id: str | None
    queue_name: str | None
    customer: CustomerOut
    wait_seconds: float
