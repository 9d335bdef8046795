"""Routing skills of the operator, keyed by name. Read: admin, supervisor. Write: admin."""
from __future__ import annotations

from fastapi import APIRouter, Response

from ....domain.organization import SkillDefinition
from ....services import admin
from ..deps import AdminDep, PlatformDep, StaffDep
from ..params import SlugPath
from ..schemas.organization import SkillIn, SkillOut

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])


@router.get("", response_model=list[SkillOut])
async def list_skills(caller: StaffDep, p: PlatformDep) -> list[SkillOut]:
    return [SkillOut.of(s) for s in await admin.list_skills(p, caller.scope)]


@router.put("/{name}", response_model=SkillOut, summary="Create or replace a skill (idempotent)")
async def put_skill(name: SlugPath, body: SkillIn, caller: AdminDep, p: PlatformDep) -> SkillOut:
    skill = SkillDefinition(name, body.description, body.requires_certification)
    return SkillOut.of(await admin.put_skill(p, caller.scope, skill))


@router.delete("/{name}", status_code=204)
async def delete_skill(name: SlugPath, caller: AdminDep, p: PlatformDep) -> Response:
    await admin.delete_skill(p, caller.scope, name)
    return Response(status_code=204)
