"""Agents' profiles and live state. There is no delete: an agent's history (contacts, state
timeline, pay) keeps pointing at her.

Profiles — read: admin, supervisor, and an agent her own; write: admin.
State — read and change: admin, supervisor, and an agent her own. Another agent's id is
`not-found` to an agent; client viewers see no agents (403).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime

from ....domain.agents import Agent, AgentKind, Medium, Presence
from ....domain.errors import NotFound
from ....domain.organization import Role
from ....services import admin
from ....services import interactions as work
from ..deps import AdminDep, Caller, PlatformDep, WorkerDep
from ..params import IdPath
from ..schemas.agents import AgentIn, AgentOut, AgentPatch, AgentStateIn, AgentStateOut, SegmentOut

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])

# Fields of AgentPatch for which null means "clear it" rather than "leave it".
_NULLABLE = frozenset({"home_state"})


def own_agent(caller: Caller, agent_id: str) -> None:
    """An agent sees only herself; any other id is not-found to her."""
    if caller.role is Role.AGENT and caller.scope.agent_id != agent_id:
        raise NotFound("agent", agent_id)


def _profile(values: dict[str, Any]) -> dict[str, Any]:
    """Request fields (as dumped by pydantic) → Agent fields."""
    out = dict(values)
    if "kind" in out:
        out["kind"] = AgentKind(out["kind"])
    if "languages" in out:
        out["languages"] = frozenset(out["languages"])
    if "capacity" in out:
        out["capacity"] = {Medium(k): v for k, v in out["capacity"].items()}
    return out


@router.post("", status_code=201, response_model=AgentOut)
async def create_agent(body: AgentIn, caller: AdminDep, p: PlatformDep) -> AgentOut:
    agent = Agent(id="", operator_id=caller.scope.operator_id, **_profile(body.model_dump()))  # type: ignore[arg-type]
    return AgentOut.of(await admin.create_agent(p, caller.scope, agent))


@router.get("", response_model=list[AgentOut])
async def list_agents(caller: WorkerDep, p: PlatformDep) -> list[AgentOut]:
    if caller.role is Role.AGENT:
        return [AgentOut.of(await admin.get_agent(p, caller.scope, caller.scope.agent_id))] \
            if caller.scope.agent_id else []
    return [AgentOut.of(a) for a in await admin.list_agents(p, caller.scope)]


@router.get("/{agent_id}", response_model=AgentOut)
async def get_agent(agent_id: IdPath, caller: WorkerDep, p: PlatformDep) -> AgentOut:
    own_agent(caller, agent_id)
    return AgentOut.of(await admin.get_agent(p, caller.scope, agent_id))


@router.patch("/{agent_id}", response_model=AgentOut)
async def update_agent(agent_id: IdPath, body: AgentPatch, caller: WorkerDep, p: PlatformDep) -> AgentOut:
    own_agent(caller, agent_id)
    current = await admin.get_agent(p, caller.scope, agent_id)
    caller.require(Role.ADMIN)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k in _NULLABLE}
    agent = replace(current, **_profile(changes))
    return AgentOut.of(await admin.update_agent(p, caller.scope, agent))


@router.get("/{agent_id}/state", response_model=AgentStateOut)
async def get_agent_state(agent_id: IdPath, caller: WorkerDep, p: PlatformDep) -> dict[str, Any]:
    return await work.agent_state(p, caller.scope, agent_id)


@router.put("/{agent_id}/state", response_model=AgentStateOut)
async def set_agent_state(agent_id: IdPath, body: AgentStateIn, caller: WorkerDep, p: PlatformDep) -> dict[str, Any]:
    return await work.set_agent_state(p, caller.scope, agent_id, Presence(body.state), body.reason)


@router.get("/{agent_id}/timeline", response_model=list[SegmentOut],
            summary="The agent's state segments overlapping [start, end) — the input of adherence and pay")
async def get_agent_timeline(agent_id: IdPath, caller: WorkerDep, p: PlatformDep,
                             start: AwareDatetime, end: AwareDatetime | None = None) -> list[dict[str, Any]]:
    return await work.agent_timeline(p, caller.scope, agent_id, start, end or p.clock.now())
