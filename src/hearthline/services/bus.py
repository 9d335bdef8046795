"""The event bus port and its in-process implementation.

Subscribers are async callables taking a list of events (one committed batch, in order). A failing
subscriber is logged, counted and isolated: it never stops the others, nor the router.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Protocol

from ..domain.events import Event

log = logging.getLogger(__name__)

Subscriber = Callable[[list[Event]], Awaitable[None]]


class EventBus(Protocol):
    async def publish(self, events: list[Event]) -> None: ...

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]: ...


class InProcessEventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.failures = 0

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    async def publish(self, events: list[Event]) -> None:
        if not events:
            return
        for subscriber in list(self._subscribers):
            try:
                await subscriber(events)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                log.exception("event subscriber %r failed; it is skipped for this batch", subscriber)
