"""The scheduler the transaction timers run on (RFC 3261 §17, Table 4 of Appendix A).

`Scheduler` is the port: `call_later(delay, callback)` returning something with `cancel()`.
`AsyncioScheduler` uses the running event loop; `ManualScheduler` is a clock that moves only
when `advance()` is called, so tests of 32-second timers take no time at all.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

T1 = 0.5  # RTT estimate, seconds (§17.1.1.1)
T2 = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
T4 = 5.0  # maximum duration a message remains in the network


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle: ...

    def time(self) -> float: ...


class AsyncioScheduler:
    """Timers on an asyncio event loop (the running one unless given)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self._get_loop().call_later(delay, callback)

    def time(self) -> float:
        return self._get_loop().time()


@dataclass(order=True)
class _Entry:
    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """A scheduler whose clock moves only through `advance()`; callbacks run in time order."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._queue: list[_Entry] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        entry = _Entry(self._now + max(delay, 0.0), next(self._seq), callback)
        heapq.heappush(self._queue, entry)
        return entry

    def advance(self, seconds: float) -> None:
        """Move the clock forward, running every callback that falls due, in order."""
        target = self._now + seconds
        while self._queue and self._queue[0].when <= target:
            entry = heapq.heappop(self._queue)
            self._now = entry.when
            if not entry.cancelled:
                entry.callback()
        self._now = target

    @property
    def pending(self) -> int:
        return sum(1 for entry in self._queue if not entry.cancelled)
