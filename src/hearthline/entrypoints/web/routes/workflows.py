"""Workflows: routing as data. Read: admin, supervisor, client viewer (own tenant). Write: admin.

Every expression is compiled when the workflow is saved; a bad one answers 422
`invalid-expression` with `details.field` (e.g. `routes[0].filter`) and `details.position`.
"""
from __future__ import annotations

from fastapi import APIRouter, Response

from ....domain.organization import Role
from ....domain.workflows import Workflow
from ....services import admin
from ..deps import PlatformDep, WatcherDep
from ..params import IdPath, IdQuery
from ..schemas.routing import WorkflowIn, WorkflowOut, WorkflowPut

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])

def _domain(body: WorkflowPut, workflow_id: str, operator_id: str, program_id: str) -> Workflow:
    """The domain workflow; its checks (route names, expressions, queues) run when it is saved."""
    return Workflow(workflow_id, operator_id, "", program_id, body.name.strip(),  # type: ignore[arg-type]
                    body.routes_domain(), body.default_target.to_domain())


@router.post("", status_code=201, response_model=WorkflowOut)
async def create_workflow(body: WorkflowIn, caller: WatcherDep, p: PlatformDep) -> WorkflowOut:
    await admin.get_program(p, caller.scope, body.program_id)
    caller.require(Role.ADMIN)
    workflow = _domain(body, "", caller.scope.operator_id, body.program_id)
    return WorkflowOut.of(await admin.create_workflow(p, caller.scope, workflow))


@router.get("", response_model=list[WorkflowOut])
async def list_workflows(caller: WatcherDep, p: PlatformDep,
                         program_id: IdQuery = None) -> list[WorkflowOut]:
    return [WorkflowOut.of(w) for w in await admin.list_workflows(p, caller.scope, program_id)]


@router.get("/{workflow_id}", response_model=WorkflowOut)
async def get_workflow(workflow_id: IdPath, caller: WatcherDep, p: PlatformDep) -> WorkflowOut:
    return WorkflowOut.of(await admin.get_workflow(p, caller.scope, workflow_id))


@router.put("/{workflow_id}", response_model=WorkflowOut, summary="Replace the workflow's name and routes")
async def replace_workflow(workflow_id: IdPath, body: WorkflowPut, caller: WatcherDep, p: PlatformDep) -> WorkflowOut:
    current = await admin.get_workflow(p, caller.scope, workflow_id)
    caller.require(Role.ADMIN)
    workflow = _domain(body, current.id, current.operator_id, current.program_id)
    return WorkflowOut.of(await admin.update_workflow(p, caller.scope, workflow))


@router.delete("/{workflow_id}", status_code=204)
async def delete_workflow(workflow_id: IdPath, caller: WatcherDep, p: PlatformDep) -> Response:
    await admin.get_workflow(p, caller.scope, workflow_id)
    caller.require(Role.ADMIN)
    await admin.delete_workflow(p, caller.scope, workflow_id)
    return Response(status_code=204)
