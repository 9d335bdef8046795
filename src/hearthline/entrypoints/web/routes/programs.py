"""Programs (a tenant's lines of business). Read: admin, supervisor, client viewer (own tenant).
Write: admin."""
from __future__ import annotations

from fastapi import APIRouter, Response

from ....domain.organization import Role
from ....services import admin
from ..deps import PlatformDep, WatcherDep, WorkerDep
from ..params import IdPath, IdQuery
from ..schemas.organization import DispositionOut, ProgramIn, ProgramOut, ProgramPatch

router = APIRouter(prefix="/api/v1/programs", tags=["programs"])


@router.post("", status_code=201, response_model=ProgramOut)
async def create_program(body: ProgramIn, caller: WatcherDep, p: PlatformDep) -> ProgramOut:
    await admin.get_tenant(p, caller.scope, body.tenant_id)
    caller.require(Role.ADMIN)
    return ProgramOut.of(await admin.create_program(p, caller.scope, body.tenant_id, body.name))


@router.get("", response_model=list[ProgramOut])
async def list_programs(caller: WatcherDep, p: PlatformDep,
                        tenant_id: IdQuery = None) -> list[ProgramOut]:
    return [ProgramOut.of(x) for x in await admin.list_programs(p, caller.scope, tenant_id)]


@router.get("/{program_id}", response_model=ProgramOut)
async def get_program(program_id: IdPath, caller: WatcherDep, p: PlatformDep) -> ProgramOut:
    return ProgramOut.of(await admin.get_program(p, caller.scope, program_id))


@router.patch("/{program_id}", response_model=ProgramOut)
async def update_program(program_id: IdPath, body: ProgramPatch, caller: WatcherDep, p: PlatformDep) -> ProgramOut:
    await admin.get_program(p, caller.scope, program_id)
    caller.require(Role.ADMIN)
    clear = "default_workflow_id" in body.model_fields_set and body.default_workflow_id is None
    return ProgramOut.of(await admin.update_program(p, caller.scope, program_id, name=body.name,
                                                    default_workflow_id=body.default_workflow_id,
                                                    clear_workflow=clear,
                                                    dispositions=body.dispositions_domain()))


@router.get("/{program_id}/dispositions", response_model=list[DispositionOut],
            summary="The program's dispositions — what an agent chooses from when completing a contact")
async def program_dispositions(program_id: IdPath, caller: WorkerDep, p: PlatformDep) -> list[DispositionOut]:
    program = await admin.get_program(p, caller.scope, program_id)
    return [DispositionOut(code=d.code, label=d.label) for d in program.dispositions]


@router.delete("/{program_id}", status_code=204)
async def delete_program(program_id: IdPath, caller: WatcherDep, p: PlatformDep) -> Response:
    await admin.get_program(p, caller.scope, program_id)
    caller.require(Role.ADMIN)
    await admin.delete_program(p, caller.scope, program_id)
    return Response(status_code=204)
