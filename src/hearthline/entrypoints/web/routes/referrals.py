"""The referral directory of each program: other resources to refer a customer to.
Read and search: admin, supervisor, agent (from the desk). Write: admin."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import Field

from ....domain.organization import Role
from ....domain.referrals import Referral
from ....services import admin
from ..deps import PlatformDep, WorkerDep
from ..params import IdPath
from ..schemas.common import In, Name, Out, Ref, Text

router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])


class ReferralPut(In):
    name: Name
    phone: Text(40) | None = Field(None, description="where a transfer to this resource goes first")
    url: Text(2000) | None = None
    when_to_use: Text(1000) = ""


class ReferralIn(ReferralPut):
    program_id: Ref


class ReferralOut(Out):
    id: str
    program_id: str
    tenant_id: str
    name: str
    phone: str | None
    url: str | None
    when_to_use: str
    target: str = Field(description="what a transfer to this resource dials or opens")

    @classmethod
    def of(cls, r: Referral) -> ReferralOut:
        return cls(id=r.id, program_id=r.program_id, tenant_id=r.tenant_id, name=r.name, phone=r.phone, url=r.url,
                   when_to_use=r.when_to_use, target=r.target)


@router.post("", status_code=201, response_model=ReferralOut)
async def create_referral(body: ReferralIn, caller: WorkerDep, p: PlatformDep) -> ReferralOut:
    await admin.get_program(p, caller.scope, body.program_id)
    caller.require(Role.ADMIN)
    return ReferralOut.of(await admin.create_referral(p, caller.scope, Referral(
        "", "", "", body.program_id, body.name, body.phone, body.url, body.when_to_use)))


@router.get("", response_model=list[ReferralOut], summary="Search a program's directory")
async def search_referrals(caller: WorkerDep, p: PlatformDep, program_id: Ref,
                           q: Annotated[str, Query(max_length=200, description="words to find in name or guidance")]
                           = "") -> list[ReferralOut]:
    return [ReferralOut.of(r) for r in await admin.search_referrals(p, caller.scope, program_id, q)]


@router.get("/{referral_id}", response_model=ReferralOut)
async def get_referral(referral_id: IdPath, caller: WorkerDep, p: PlatformDep) -> ReferralOut:
    return ReferralOut.of(await admin.get_referral(p, caller.scope, referral_id))


@router.put("/{referral_id}", response_model=ReferralOut)
async def replace_referral(referral_id: IdPath, body: ReferralPut, caller: WorkerDep, p: PlatformDep) -> ReferralOut:
    current = await admin.get_referral(p, caller.scope, referral_id)
    caller.require(Role.ADMIN)
    return ReferralOut.of(await admin.update_referral(p, caller.scope, Referral(
        current.id, "", "", "", body.name, body.phone, body.url, body.when_to_use)))


@router.delete("/{referral_id}", status_code=204)
async def delete_referral(referral_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Response:
    await admin.get_referral(p, caller.scope, referral_id)
    caller.require(Role.ADMIN)
    await admin.delete_referral(p, caller.scope, referral_id)
    return Response(status_code=204)
