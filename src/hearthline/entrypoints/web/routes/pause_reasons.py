"""Pause reasons of the operator, keyed by code. Read: admin, supervisor, agent (she picks one to
pause). Write: admin. The `missed` pause is used by routing and cannot be deleted."""
from __future__ import annotations

from fastapi import APIRouter, Response

from ....domain.organization import PauseReason
from ....services import admin
from ..deps import AdminDep, PlatformDep, WorkerDep
from ..params import SlugPath
from ..schemas.organization import PauseReasonIn, PauseReasonOut

router = APIRouter(prefix="/api/v1/pause-reasons", tags=["pause reasons"])


@router.get("", response_model=list[PauseReasonOut])
async def list_pause_reasons(caller: WorkerDep, p: PlatformDep) -> list[PauseReasonOut]:
    return [PauseReasonOut.of(r) for r in await admin.list_pause_reasons(p, caller.scope)]


@router.put("/{code}", response_model=PauseReasonOut, summary="Create or replace a pause reason (idempotent)")
async def put_pause_reason(code: SlugPath, body: PauseReasonIn, caller: AdminDep, p: PlatformDep) -> PauseReasonOut:
    reason = PauseReason(code, body.label.strip(), body.paid)
    return PauseReasonOut.of(await admin.put_pause_reason(p, caller.scope, reason))


@router.delete("/{code}", status_code=204)
async def delete_pause_reason(code: SlugPath, caller: AdminDep, p: PlatformDep) -> Response:
    await admin.delete_pause_reason(p, caller.scope, code)
    return Response(status_code=204)
