"""Queues and their agent-selection strategies.

A queue belongs to a program. Agents are members of a queue when their effective skills meet the
queue's required skills (each at a minimum proficiency) and they speak the queue's language, if set.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

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
    # Thresholds the console colours against (amber past the threshold, red well past it) and
    # raises alerts on: service level under target, ASA, abandonment rate and estimated wait over.
    target_service_level: float = 0.8
    max_asa_seconds: int = 30
    max_abandonment_rate: float = 0.05
    max_ewt_seconds: int = 120

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
        for name in ("target_service_level", "max_abandonment_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise InvalidInput(name, "must be a fraction from 0 to 1")
        for name in ("max_asa_seconds", "max_ewt_seconds"):
            if getattr(self, name) < 0:
                raise InvalidInput(name, "must not be negative")

    def admits(self, skills: dict[str, int], languages: frozenset[str]) -> bool:
        """Whether an agent with these effective skills and languages is a member."""
        if self.language is not None and self.language not in languages:
            return False
        return all(skills.get(name, 0) >= level for name, level in self.skills.items())

    @property
    def main_skill(self) -> str | None:
        return next(iter(self.skills), None)


OK, WARN, BAD = "ok", "warn", "bad"
_RANK = {OK: 0, WARN: 1, BAD: 2}


def threshold_levels(queue: Queue, live: dict[str, Any]) -> dict[str, str]:
    """How each watched figure of a queue's live snapshot stands against the queue's thresholds:
    "ok", "warn" (past the threshold) or "bad" (well past: service level 10 points under target,
    ASA or estimated wait 1.5×/2× over, abandonment twice the limit). A figure with no data yet
    (no contact answered today) is "ok"; contacts waiting with nobody staffed is "bad"."""
    levels: dict[str, str] = {}
    sl = live.get("service_level")
    if sl is None or sl >= queue.target_service_level:
        levels["service_level"] = OK
    else:
        levels["service_level"] = WARN if sl >= queue.target_service_level - 0.1 else BAD
    levels["asa"] = _over(live.get("asa_seconds"), queue.max_asa_seconds, 1.5)
    levels["abandonment"] = _over(live.get("abandonment_rate"), queue.max_abandonment_rate, 2.0)
    ewt = live.get("ewt_seconds")
    if live.get("waiting", 0) and ewt is None:
        levels["ewt"] = BAD if not live.get("staffed_agents") else WARN  # nobody to answer, or no estimate yet
    else:
        wait = max(ewt or 0.0, live.get("longest_wait_seconds") or 0.0)
        levels["ewt"] = _over(wait if live.get("waiting", 0) or ewt is not None else None, queue.max_ewt_seconds, 2.0)
    return levels


def _over(value: float | None, limit: float, far: float) -> str:
    if value is None or value <= limit:
        return OK
    return WARN if value <= limit * far else BAD


def worst(levels: dict[str, str]) -> str:
    return max(levels.values(), key=_RANK.__getitem__, default=OK)
