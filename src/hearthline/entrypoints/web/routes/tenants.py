"""Tenants (client companies). Read: admin, supervisor, client viewer (her own tenant only).
Write: admin."""
from __future__ import annotations

from fastapi import APIRouter, Response

from ....domain.organization import Role
from ....services import admin
from ..deps import AdminDep, PlatformDep, WatcherDep
from ..params import IdPath
from ..schemas.organization import TenantIn, TenantOut

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])


@router.post("", status_code=201, response_model=TenantOut)
async def create_tenant(body: TenantIn, caller: AdminDep, p: PlatformDep) -> TenantOut:
    return TenantOut.of(await admin.create_tenant(p, caller.scope, body.name))


@router.get("", response_model=list[TenantOut])
async def list_tenants(caller: WatcherDep, p: PlatformDep) -> list[TenantOut]:
    return [TenantOut.of(t) for t in await admin.list_tenants(p, caller.scope)]


@router.get("/{tenant_id}", response_model=TenantOut)
async def get_tenant(tenant_id: IdPath, caller: WatcherDep, p: PlatformDep) -> TenantOut:
    return TenantOut.of(await admin.get_tenant(p, caller.scope, tenant_id))


@router.patch("/{tenant_id}", response_model=TenantOut)
async def update_tenant(tenant_id: IdPath, body: TenantIn, caller: WatcherDep, p: PlatformDep) -> TenantOut:
    await admin.get_tenant(p, caller.scope, tenant_id)
    caller.require(Role.ADMIN)
    return TenantOut.of(await admin.update_tenant(p, caller.scope, tenant_id, body.name))


@router.delete("/{tenant_id}", status_code=204)
async def delete_tenant(tenant_id: IdPath, caller: WatcherDep, p: PlatformDep) -> Response:
    await admin.get_tenant(p, caller.scope, tenant_id)
    caller.require(Role.ADMIN)
    await admin.delete_tenant(p, caller.scope, tenant_id)
    return Response(status_code=204)
