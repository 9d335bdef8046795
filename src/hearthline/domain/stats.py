"""Real-time statistics per queue and per agent, with the definitions of PRODUCT.md.

Counts cover the current day (UTC) and restart from zero at midnight.
* offered: contacts that entered the queue today.
* answered / abandoned: contacts of the queue that an agent accepted / whose customer left first.
* service level: answered within the queue's threshold T, divided by (answered + abandoned),
  *excluding short abandons* (customer left within 5 s) from both. None until one counts.
* ASA: mean wait of answered contacts. AHT: mean talk + hold + wrap-up of completed contacts.
* estimated wait (EWT) for position p: 0 while a ready agent is free for it; otherwise
  (p − ready) × recent AHT ÷ serving slots, where serving slots are the present members' capacity
  for that medium. None ("unknown") when no member is present — we never invent a number.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

SHORT_ABANDON_SECONDS = 5.0
RECENT_HANDLE_TIMES = 50


@dataclass(slots=True)
class QueueStats:
    offered: int = 0
    answered: int = 0
    answered_within_threshold: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    wait_answered_seconds: float = 0.0
    completed: int = 0
    handle_seconds: float = 0.0
    recent_handle: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_HANDLE_TIMES))

    def record_answer(self, wait: float, threshold: float) -> None:
        self.answered += 1
        self.wait_answered_seconds += wait
        if wait <= threshold:
            self.answered_within_threshold += 1

    def record_abandon(self, wait: float) -> None:
        self.abandoned += 1
        if wait < SHORT_ABANDON_SECONDS:
            self.short_abandoned += 1

    def record_completion(self, handle: float) -> None:
        self.completed += 1
        self.handle_seconds += handle
        self.recent_handle.append(handle)

    @property
    def service_level(self) -> float | None:
        counted = self.answered + self.abandoned - self.short_abandoned
        return self.answered_within_threshold / counted if counted > 0 else None

    @property
    def asa_seconds(self) -> float | None:
        return self.wait_answered_seconds / self.answered if self.answered else None

    @property
    def aht_seconds(self) -> float | None:
        return self.handle_seconds / self.completed if self.completed else None

    @property
    def abandonment_rate(self) -> float | None:
        finished = self.answered + self.abandoned
        return self.abandoned / finished if finished else None

    def recent_aht(self, default: float) -> float:
        return sum(self.recent_handle) / len(self.recent_handle) if self.recent_handle else default


def estimated_wait(position: int, ready: int, serving_slots: int, aht: float) -> float | None:
    """Seconds the contact at `position` (1-based) may expect to wait; see the module docstring."""
    if position <= ready:
        return 0.0
    if serving_slots <= 0:
        return None
    return (position - ready) * aht / serving_slots


@dataclass(slots=True)
class AgentStats:
    contacts: int = 0
    handle_seconds: float = 0.0
