"""Users of the operator. Read: admin, supervisor. Write: admin. Password hashes never leave."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ....domain.organization import Role
from ....services import admin
from ..deps import AdminDep, PlatformDep, StaffDep, components
from ..params import IdPath
from ..schemas.organization import UserIn, UserOut, UserPatch

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post("", status_code=201, response_model=UserOut)
async def create_user(body: UserIn, caller: AdminDep, p: PlatformDep) -> UserOut:
    role = Role(body.role)  # the domain checks that agents, and only agents, are linked to an agent
    user = await admin.create_user(p, caller.scope, username=body.username, password=body.password, role=role,
                                   tenant_id=body.tenant_id, agent_id=body.agent_id,
                                   display_name=body.display_name)
    return UserOut.of(user)


@router.get("", response_model=list[UserOut])
async def list_users(caller: StaffDep, p: PlatformDep) -> list[UserOut]:
    return [UserOut.of(u) for u in await admin.list_users(p, caller.scope)]


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user_id: IdPath, caller: StaffDep, p: PlatformDep) -> UserOut:
    return UserOut.of(await admin.get_user(p, caller.scope, user_id))


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(user_id: IdPath, body: UserPatch, caller: AdminDep, p: PlatformDep,
                      request: Request) -> UserOut:
    user = await admin.update_user(p, caller.scope, user_id, password=body.password,
                                   display_name=body.display_name, active=body.active)
    components(request).auth.forget(user_id)  # a disabled account stops working at once
    return UserOut.of(user)


@router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: IdPath, caller: AdminDep, p: PlatformDep, request: Request) -> Response:
    await admin.delete_user(p, caller.scope, user_id)
    components(request).auth.forget(user_id)
    return Response(status_code=204)
