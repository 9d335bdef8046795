"""The router task against the real store: group commit, and recovery when a write fails."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hearthline.adapters.sql.store import SqlStore
from hearthline.domain.agents import Agent, Presence
from hearthline.domain.interactions import Channel
from hearthline.domain.organization import Scope
from hearthline.domain.queues import Queue
from hearthline.services import admin
from hearthline.services import interactions as work
from hearthline.services.bus import InProcessEventBus
from hearthline.services.platform import Platform
from hearthline.services.router import RouterStopped

from .conftest import MiddayClock


class FlakyStore(SqlStore):
    """A real SQLite store whose next `fail` batch writes raise, as a full disk or a lost
    connection would."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.fail = 0

    def save_changes(self, operator_id: str, changes: Any) -> None:
        if self.fail:
            self.fail -= 1
            raise OSError("disk full")
        super().save_changes(operator_id, changes)


@pytest.fixture
def platform(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = FlakyStore(f"sqlite:///{tmp_path}/router.db")
    store.start()
    store.upgrade()
    yield Platform(store, InProcessEventBus(), MiddayClock())
    store.close()


async def _world(p: Platform) -> tuple[Scope, str, str, str]:
    operator = await admin.create_operator(p, "Router test")
    scope = Scope(operator.id)
    tenant = await admin.create_tenant(p, scope, "Client")
    program = await admin.create_program(p, scope, tenant.id, "Program")
    queue = await admin.create_queue(p, scope, Queue("", "", "", program.id, "Queue"))
    agent = await admin.create_agent(p, scope, Agent("", "", "Ann"))
    return scope, program.id, queue.id, agent.id


def test_a_failed_write_is_refused_and_the_router_rebuilds_from_what_is_stored(platform: Platform) -> None:
    async def scenario() -> None:
        scope, program_id, queue_id, _ = await _world(platform)
        kept = await work.create_interaction(platform, scope, work.NewInteraction(program_id, Channel.VOICE,
                                                                                 queue_id=queue_id))
        platform.store.fail = 2  # the next write fails, and so does the first rebuild attempt's
        with pytest.raises(RouterStopped):
            await work.create_interaction(platform, scope, work.NewInteraction(program_id, Channel.VOICE,
                                                                              queue_id=queue_id))
        # the router comes back by itself; the refused contact is nowhere, the stored one is there
        later = await work.create_interaction(platform, scope, work.NewInteraction(program_id, Channel.VOICE,
                                                                                  queue_id=queue_id))
        waiting = await work.list_interactions(platform, scope, queue_id=queue_id)
        assert [i.id for i in waiting] == [kept.id, later.id]
        stats = await work.queue_stats(platform, scope)
        assert stats[0]["waiting"] == 2 and stats[0]["offered"] == 2
        await platform.stop()

    asyncio.run(scenario())


def test_concurrent_commands_are_stored_together_and_answered_in_order(platform: Platform) -> None:
    async def scenario() -> None:
        scope, program_id, queue_id, agent_id = await _world(platform)
        await work.set_agent_state(platform, scope, agent_id, Presence.AVAILABLE, None)
        created = await asyncio.gather(*(
            work.create_interaction(platform, scope, work.NewInteraction(
                program_id, Channel.VOICE, queue_id=queue_id, priority=n % 2)) for n in range(50)))
        stored = await work.list_interactions(platform, scope, queue_id=queue_id, limit=500)
        assert sorted(i.id for i in stored) == sorted(i.id for i in created)
        # arrival order is the order of the calls; the free agent was offered the first to arrive
        assert [i.seq for i in created] == sorted(i.seq for i in created)
        offers = await work.list_offers(platform, scope, agent_id)
        assert [o["interaction_id"] for o in offers] == [created[0].id]
        await platform.stop()

    asyncio.run(scenario())
