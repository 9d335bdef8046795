"""The caller's operator: its name and which pause a missed offer puts an agent in.
Read: admin, supervisor. Write: admin."""
from __future__ import annotations

from fastapi import APIRouter

from ....domain.organization import Operator
from ....services import admin
from ..deps import AdminDep, PlatformDep, StaffDep
from ..schemas.common import In, Name, Out, Slug

router = APIRouter(prefix="/api/v1/operator", tags=["operator"])


class OperatorIn(In):
    name: Name | None = None
    missed_pause_code: Slug | None = None


class OperatorOut(Out):
    id: str
    name: str
    missed_pause_code: str

    @classmethod
    def of(cls, o: Operator) -> OperatorOut:
        return cls(id=o.id, name=o.name, missed_pause_code=o.missed_pause_code)


@router.get("", response_model=OperatorOut)
async def get_operator(caller: StaffDep, p: PlatformDep) -> OperatorOut:
    return OperatorOut.of(await admin.get_operator(p, caller.scope))


@router.patch("", response_model=OperatorOut)
async def update_operator(body: OperatorIn, caller: AdminDep, p: PlatformDep) -> OperatorOut:
    return OperatorOut.of(await admin.update_operator(p, caller.scope, name=body.name,
                                                      missed_pause_code=body.missed_pause_code))
