"""Live statistics of the current day (UTC). Queues: admin, supervisor, client viewer (her
tenant's queues). Agents: admin, supervisor."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ....services import interactions as work
from ..deps import PlatformDep, StaffDep, WatcherDep
from ..schemas.agents import AgentStateOut
from ..schemas.interactions import QueueStatsOut

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])


@router.get("/queues", response_model=list[QueueStatsOut])
async def queue_stats(caller: WatcherDep, p: PlatformDep) -> list[dict[str, Any]]:
    return await work.queue_stats(p, caller.scope)


@router.get("/agents", response_model=list[AgentStateOut])
async def agent_stats(caller: StaffDep, p: PlatformDep) -> list[dict[str, Any]]:
    return await work.agent_stats(p, caller.scope)
