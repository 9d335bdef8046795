"""The event bus port and its in-process implementation.

Subscribers are async callables taking a list of events (one committed batch, in order). A failing
subscriber is logged, counted and isolated: it never stops the others, nor the router.

A subscriber that cares about one agent only (an agent's desk) subscribes with `agent_id`: it is
called only for batches with events about her, and given only those. A thousand connected agents
then cost one call per event, not a thousand.
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

    def subscribe(self, subscriber: Subscriber, *, agent_id: str | None = None) -> Callable[[], None]: ...


class InProcessEventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._by_agent: dict[str, list[Subscriber]] = {}
        self.failures = 0

    def subscribe(self, subscriber: Subscriber, *, agent_id: str | None = None) -> Callable[[], None]:
        """Add a subscriber (of everything, or of one agent's events); returns a function that
        removes it."""
        where = self._subscribers if agent_id is None else self._by_agent.setdefault(agent_id, [])
        where.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in where:
                where.remove(subscriber)
            if agent_id is not None and not where and self._by_agent.get(agent_id) is where:
                del self._by_agent[agent_id]

        return unsubscribe

    async def publish(self, events: list[Event]) -> None:
        if not events:
            return
        for subscriber in list(self._subscribers):
            await self._call(subscriber, events)
        if self._by_agent:
            mine: dict[str, list[Event]] = {}
            for event in events:
                if event.agent_id is not None and event.agent_id in self._by_agent:
                    mine.setdefault(event.agent_id, []).append(event)
            for agent_id, hers in mine.items():
                for subscriber in list(self._by_agent.get(agent_id, ())):
                    await self._call(subscriber, hers)

    async def _call(self, subscriber: Subscriber, events: list[Event]) -> None:
        try:
            await subscriber(events)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures += 1
            log.exception("event subscriber %r failed; it is skipped for this batch", subscriber)
