"""Queues. Read: admin, supervisor, client viewer (own tenant). Write: admin."""
from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Response

from ....domain.organization import Role
from ....domain.queues import Queue, Strategy
from ....services import admin
from ..deps import PlatformDep, WatcherDep
from ..params import IdPath, IdQuery
from ..schemas.routing import QUEUE_NULLABLE, QueueIn, QueueOut, QueuePatch

router = APIRouter(prefix="/api/v1/queues", tags=["queues"])


@router.post("", status_code=201, response_model=QueueOut)
async def create_queue(body: QueueIn, caller: WatcherDep, p: PlatformDep) -> QueueOut:
    await admin.get_program(p, caller.scope, body.program_id)
    caller.require(Role.ADMIN)
    settings = body.model_dump(exclude={"program_id", "name"})
    settings["strategy"] = Strategy(settings["strategy"])
    queue = Queue("", caller.scope.operator_id, "", body.program_id, body.name.strip(), **settings)  # type: ignore[arg-type]
    return QueueOut.of(await admin.create_queue(p, caller.scope, queue))


@router.get("", response_model=list[QueueOut])
async def list_queues(caller: WatcherDep, p: PlatformDep,
                      program_id: IdQuery = None) -> list[QueueOut]:
    return [QueueOut.of(q) for q in await admin.list_queues(p, caller.scope, program_id)]


@router.get("/{queue_id}", response_model=QueueOut)
async def get_queue(queue_id: IdPath, caller: WatcherDep, p: PlatformDep) -> QueueOut:
    return QueueOut.of(await admin.get_queue(p, caller.scope, queue_id))


@router.patch("/{queue_id}", response_model=QueueOut)
async def update_queue(queue_id: IdPath, body: QueuePatch, caller: WatcherDep, p: PlatformDep) -> QueueOut:
    current = await admin.get_queue(p, caller.scope, queue_id)
    caller.require(Role.ADMIN)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k in QUEUE_NULLABLE}
    if "strategy" in changes:
        changes["strategy"] = Strategy(changes["strategy"])
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    return QueueOut.of(await admin.update_queue(p, caller.scope, replace(current, **changes)))


@router.delete("/{queue_id}", status_code=204)
async def delete_queue(queue_id: IdPath, caller: WatcherDep, p: PlatformDep) -> Response:
    await admin.get_queue(p, caller.scope, queue_id)
    caller.require(Role.ADMIN)
    await admin.delete_queue(p, caller.scope, queue_id)
    return Response(status_code=204)
