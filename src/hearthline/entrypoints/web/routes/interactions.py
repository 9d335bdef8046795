"""Interactions: create, read, and handle.

Read: everyone in scope — an agent only the contacts offered to her or handled by her, a client
viewer only her tenant's. Create and abandon: admin, supervisor. Transfer, hold, resume, end,
complete: admin, supervisor, and the agent who holds the contact.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ....domain.interactions import Channel, Direction, TransferKind
from ....domain.organization import Role
from ....services import admin
from ....services import interactions as work
from ..deps import STAFF, Caller, CallerDep, PlatformDep
from ..params import IdPath, IdQuery
from ..schemas.interactions import (
    ChannelName, CompleteIn, EventOut, InteractionIn, InteractionOut, StateName, TransferIn,
)

router = APIRouter(prefix="/api/v1/interactions", tags=["interactions"])
HANDLERS = (*STAFF, Role.AGENT)


async def _view(p: Any, caller: Caller, interaction_id: str) -> InteractionOut:
    interaction, live = await work.get_interaction(p, caller.scope, interaction_id)
    return InteractionOut.of(interaction, live)


@router.post("", status_code=201, response_model=InteractionOut)
async def create_interaction(body: InteractionIn, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    if caller.role not in STAFF:  # 404 for a program out of sight comes before 403
        await admin.get_program(p, caller.scope, body.program_id)
        caller.require(*STAFF)
    new = work.NewInteraction(
        program_id=body.program_id, channel=Channel(body.channel), direction=Direction(body.direction),
        customer=body.customer.to_domain(), attributes=body.attributes, priority=body.priority,
        queue_id=body.queue_id, workflow_id=body.workflow_id)
    return InteractionOut.of(*await work.create_and_view(p, caller.scope, new))


@router.get("", response_model=list[InteractionOut])
async def list_interactions(
    caller: CallerDep, p: PlatformDep,
    state: StateName | None = None, channel: ChannelName | None = None,
    queue_id: IdQuery = None, agent_id: IdQuery = None, tenant_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[InteractionOut]:
    """Oldest first. An agent gets her own contacts whatever `agent_id` says."""
    found = await work.list_interactions(p, caller.scope, state=state, queue_id=queue_id, channel=channel,
                                         agent_id=agent_id, tenant_id=tenant_id, limit=limit, offset=offset)
    return [InteractionOut.of(i) for i in found]


@router.get("/{interaction_id}", response_model=InteractionOut,
            summary="One interaction, with its live position and estimated wait while it waits")
async def get_interaction(interaction_id: IdPath, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    return await _view(p, caller, interaction_id)


@router.get("/{interaction_id}/events", response_model=list[EventOut])
async def interaction_events(interaction_id: IdPath, caller: CallerDep, p: PlatformDep) -> list[dict[str, Any]]:
    return await work.interaction_events(p, caller.scope, interaction_id)


async def _command(p: Any, caller: Caller, interaction_id: str, roles: tuple[Role, ...]) -> None:
    """Not-found outside the caller's scope first, then 403 if her role may not do this."""
    await work.get_interaction(p, caller.scope, interaction_id)
    caller.require(*roles)


@router.post("/{interaction_id}/transfer", response_model=InteractionOut,
             summary="To a queue (waits there), an agent (waits for her 30 s, then for anyone), or external "
                     "(completed, referral recorded)")
async def transfer(interaction_id: IdPath, body: TransferIn, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    await _command(p, caller, interaction_id, HANDLERS)
    return InteractionOut.of(await work.transfer(p, caller.scope, interaction_id, TransferKind(body.kind),
                                                 body.target, body.note))


@router.post("/{interaction_id}/complete", response_model=InteractionOut)
async def complete(interaction_id: IdPath, body: CompleteIn, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    await _command(p, caller, interaction_id, HANDLERS)
    return InteractionOut.of(await work.complete(p, caller.scope, interaction_id, disposition=body.disposition,
                                                 notes=body.notes))


@router.post("/{interaction_id}/end", response_model=InteractionOut,
             summary="The conversation is over: wrap-up starts (a contact still waiting is abandoned)")
async def end(interaction_id: IdPath, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    await _command(p, caller, interaction_id, HANDLERS)
    return InteractionOut.of(await work.end(p, caller.scope, interaction_id))


@router.post("/{interaction_id}/hold", response_model=InteractionOut)
async def hold(interaction_id: IdPath, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    await _command(p, caller, interaction_id, HANDLERS)
    return InteractionOut.of(await work.hold(p, caller.scope, interaction_id))


@router.post("/{interaction_id}/resume", response_model=InteractionOut)
async def resume(interaction_id: IdPath, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    await _command(p, caller, interaction_id, HANDLERS)
    return InteractionOut.of(await work.resume(p, caller.scope, interaction_id))


@router.post("/{interaction_id}/abandon", response_model=InteractionOut,
             summary="The customer left before an agent answered")
async def abandon(interaction_id: IdPath, caller: CallerDep, p: PlatformDep) -> InteractionOut:
    await _command(p, caller, interaction_id, STAFF)
    return InteractionOut.of(await work.abandon(p, caller.scope, interaction_id))
