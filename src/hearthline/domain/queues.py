"""Queues and their agent-selection strategies.

A queue belongs to a program. Agents are members of a queue when their effective skills meet the
queue's required skills (each at a minimum proficiency) and they speak the queue's language, if set.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .errors import InvalidInput
from .ids import OperatorId, ProgramId, QueueId, TenantId


class Strategy(enum.StrEnum):
    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"  # highest proficiency in the queue's first skill, then idle time
    ROUND_ROBIN = "round_robin"  # the member offered from this queue longest ago
    FEWEST_CONTACTS = "fewest_contacts"  # fewest contacts handled today, then idle time
    RING_ALL = "ring_all"  # offered to every ready member; the first to accept wins
    PERFORMANCE = "performance"  # highest performance score, then idle time
    PREFERRED_AGENT = "preferred_agent"  # the customer's last agent, then longest idle


@dataclass(slots=True)
class Queue:
    id: QueueId
    operator_id: OperatorId
    tenant_id: TenantId
    program_id: ProgramId
    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: dict[str, int] = field(default_factory=dict)  # required skill → minimum proficiency
    language: str | None = None
    priority: int = 0  # added to each contact's own priority
    ageing_per_minute: float = 0.0  # priority points gained per minute of waiting
    service_level_seconds: int = 20  # the threshold T of the service level
    wrap_up_seconds: int = 60  # time limit of wrap-up; the contact completes when it runs out
    offer_timeout_seconds: int | None = None  # None: the operator's default
    preferred_agent_seconds: int = 30  # how long a contact waits for its preferred agent
    default_handle_seconds: float = 180.0  # handle-time estimate before any contact was handled

    def __post_init__(self) -> None:
        for name, level in self.skills.items():
            if not isinstance(level, int) or not 1 <= level <= 5:
                raise InvalidInput(f"skills.{name}", "minimum proficiency must be 1 to 5")
        if self.ageing_per_minute < 0:
            raise InvalidInput("ageing_per_minute", "must not be negative")
        for name in ("service_level_seconds", "wrap_up_seconds", "preferred_agent_seconds"):
            if getattr(self, name) < 0:
                raise InvalidInput(name, "must not be negative")
        if self.offer_timeout_seconds is not None and not 1 <= self.offer_timeout_seconds <= 600:
            raise InvalidInput("offer_timeout_seconds", "must be 1 to 600 seconds")

    def admits(self, skills: dict[str, int], languages: frozenset[str]) -> bool:
        """Whether an agent with these effective skills and languages is a member."""
        if self.language is not None and self.language not in languages:
            return False
        return all(skills.get(name, 0) >= level for name, level in self.skills.items())

    @property
    def main_skill(self) -> str | None:
        return next(iter(self.skills), None)
