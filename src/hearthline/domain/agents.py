"""Agents: who they are (skills, languages, certifications, capacity) and what they are doing.

An agent's *presence* is what she chose (offline, available, paused with a reason); her *state*
as shown and recorded is derived from presence and load: busy while she holds a live contact,
wrap-up while all she holds is in wrap-up. Every change of state closes one timeline segment and
opens the next; adherence and pay are computed from those segments.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from .errors import InvalidInput
from .ids import AgentId, OperatorId


class AgentKind(enum.StrEnum):
    EMPLOYEE = "employee"
    CONTRACTOR = "contractor"


class Medium(enum.StrEnum):
    """What a contact occupies: a voice line, a chat slot or an email slot."""

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


DEFAULT_CAPACITY: dict[Medium, int] = {Medium.VOICE: 1, Medium.CHAT: 3, Medium.EMAIL: 5}


class Presence(enum.StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    PAUSED = "paused"


class AgentState(enum.StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


@dataclass(slots=True)
class Agent:
    id: AgentId
    operator_id: OperatorId
    name: str
    kind: AgentKind = AgentKind.EMPLOYEE
    skills: dict[str, int] = field(default_factory=dict)  # skill name → proficiency 1..5
    languages: frozenset[str] = frozenset()
    certifications: dict[str, datetime] = field(default_factory=dict)  # name → expiry (UTC)
    home_state: str | None = None
    time_zone: str = "UTC"
    capacity: dict[Medium, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    score: float = 0.0  # for the performance-weighted strategy; higher is better
    attributes: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, level in self.skills.items():
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
                raise InvalidInput(f"skills.{name}", "proficiency must be an integer from 1 to 5")
        for medium, slots in self.capacity.items():
            if not isinstance(slots, int) or isinstance(slots, bool) or not 0 <= slots <= 50:
                raise InvalidInput(f"capacity.{medium}", "capacity must be an integer from 0 to 50")

    def certified(self, certification: str, at: datetime) -> bool:
        expiry = self.certifications.get(certification)
        return expiry is not None and at < expiry

    def effective_skills(self, at: datetime, requirements: dict[str, str]) -> dict[str, int]:
        """The skills that count for routing at `at`: a skill whose definition requires a
        certification (`requirements`: skill → certification) counts only while it is valid."""
        return {
            name: level
            for name, level in self.skills.items()
            if (cert := requirements.get(name)) is None or self.certified(cert, at)
        }

    def next_certification_expiry(self, after: datetime, requirements: dict[str, str]) -> datetime | None:
        """The earliest moment after `after` at which a routing skill stops counting."""
        expiries = [
            self.certifications[cert]
            for name in self.skills
            if (cert := requirements.get(name)) is not None
            and cert in self.certifications
            and self.certifications[cert] > after
        ]
        return min(expiries, default=None)


@dataclass(slots=True)
class StateSegment:
    """One stretch of time in one state. `end` is None while the segment is open."""

    agent_id: AgentId
    state: AgentState
    start: datetime
    reason: str | None = None  # the pause reason code when state is PAUSED
    end: datetime | None = None
    seq: int = 0  # order among an agent's segments; start times may tie


def medium_is_free(load: dict[Medium, int], capacity: dict[Medium, int], medium: Medium) -> bool:
    """Whether one more contact of `medium` fits: a voice call excludes all other work, and
    nothing else is taken while on a call."""
    if load.get(Medium.VOICE, 0) > 0:
        return False
    if medium is Medium.VOICE:
        return capacity.get(Medium.VOICE, 0) > 0 and not any(load.values())
    return load.get(medium, 0) < capacity.get(medium, 0)
