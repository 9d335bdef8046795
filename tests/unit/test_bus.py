"""The in-process bus: every subscriber gets each batch in order; one agent's subscriber gets only
her events; a failing subscriber is skipped, never the others."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from hearthline.domain.events import Event, EventName
from hearthline.services.bus import InProcessEventBus

AT = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def _event(agent_id: str | None, n: int) -> Event:
    return Event(EventName.AGENT_STATE_CHANGED, AT, "op", agent_id=agent_id, data={"n": n})


def test_agent_subscribers_get_only_their_agents_events_and_everyone_else_all() -> None:
    async def scenario() -> None:
        bus = InProcessEventBus()
        seen: dict[str, list[int]] = {"all": [], "ann": [], "ben": []}

        def record(key: str):  # type: ignore[no-untyped-def]
            async def take(events: list[Event]) -> None:
                seen[key].extend(e.data["n"] for e in events)
            return take

        bus.subscribe(record("all"))
        bus.subscribe(record("ann"), agent_id="ann")
        stop_ben = bus.subscribe(record("ben"), agent_id="ben")

        async def broken(events: list[Event]) -> None:
            raise RuntimeError("a subscriber that fails")

        bus.subscribe(broken, agent_id="ann")
        await bus.publish([_event("ann", 1), _event(None, 2), _event("ben", 3), _event("ann", 4)])
        stop_ben()
        await bus.publish([_event("ben", 5)])
        assert seen == {"all": [1, 2, 3, 4, 5], "ann": [1, 4], "ben": [3]}
        assert bus.failures == 1

    asyncio.run(scenario())
