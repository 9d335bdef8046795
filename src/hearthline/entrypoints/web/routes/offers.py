"""Offers: a contact proposed to one agent, who accepts or rejects it (or lets it time out).

List: admin, supervisor, and an agent her own. Accept and reject: the agent herself, or an admin.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ....domain.organization import Role
from ....services import admin
from ....services import interactions as work
from ..deps import PlatformDep, WorkerDep
from ..params import IdPath
from ..schemas.agents import OfferOut
from ..schemas.interactions import InteractionOut
from .agents import own_agent

router = APIRouter(prefix="/api/v1/agents/{agent_id}/offers", tags=["offers"])


@router.get("", response_model=list[OfferOut])
async def list_offers(agent_id: IdPath, caller: WorkerDep, p: PlatformDep) -> list[dict[str, Any]]:
    own_agent(caller, agent_id)
    await admin.get_agent(p, caller.scope, agent_id)  # an unknown agent is not-found, not "no offers"
    return await work.list_offers(p, caller.scope, agent_id)


@router.post("/{offer_id}/accept", response_model=InteractionOut,
             summary="Take the contact; answers the interaction, now accepted")
async def accept_offer(agent_id: IdPath, offer_id: IdPath, caller: WorkerDep, p: PlatformDep) -> InteractionOut:
    own_agent(caller, agent_id)
    caller.require(Role.ADMIN, Role.AGENT)
    return InteractionOut.of(await work.accept_offer(p, caller.scope, agent_id, offer_id))


@router.post("/{offer_id}/reject", status_code=204,
             summary="Decline; the contact goes back to its place and is not offered to this agent again")
async def reject_offer(agent_id: IdPath, offer_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Response:
    own_agent(caller, agent_id)
    caller.require(Role.ADMIN, Role.AGENT)
    await work.reject_offer(p, caller.scope, agent_id, offer_id)
    return Response(status_code=204)
