"""Tenants, programs, users, skills and pause reasons."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ....domain.organization import Disposition, PauseReason, Program, SkillDefinition, Tenant, User
from .common import In, Name, Out, Ref, Slug, Text

RoleName = Literal["admin", "supervisor", "agent", "client_viewer"]
Username = Annotated[str, StringConstraints(min_length=3, max_length=100, pattern=r"^[^\x00\s]+$")]
Password = Text(200, min_length=8)


class TenantIn(In):
    name: Name


class TenantOut(Out):
    id: str
    name: str

    @classmethod
    def of(cls, t: Tenant) -> TenantOut:
        return cls(id=t.id, name=t.name)


class ProgramIn(In):
    tenant_id: Ref
    name: Name


class DispositionIO(In):
    code: Slug
    label: Text(100, min_length=1)


class ProgramPatch(In):
    name: Name | None = None
    default_workflow_id: Ref | None = Field(None, description="a workflow of this program; null clears it")
    dispositions: Annotated[list[DispositionIO], Field(max_length=50)] | None = Field(
        None, description="replaces the list; when not empty, completing a contact needs one of these codes")

    def dispositions_domain(self) -> tuple[Disposition, ...] | None:
        if self.dispositions is None:
            return None
        return tuple(Disposition(d.code, d.label) for d in self.dispositions)


class DispositionOut(Out):
    code: str
    label: str


class ProgramOut(Out):
    id: str
    tenant_id: str
    name: str
    default_workflow_id: str | None
    dispositions: list[DispositionOut]

    @classmethod
    def of(cls, p: Program) -> ProgramOut:
        return cls(id=p.id, tenant_id=p.tenant_id, name=p.name, default_workflow_id=p.default_workflow_id,
                   dispositions=[DispositionOut(code=d.code, label=d.label) for d in p.dispositions])


class UserIn(In):
    username: Username
    password: Password
    role: RoleName
    tenant_id: Ref | None = Field(None, description="required for a client_viewer, refused otherwise")
    agent_id: Ref | None = Field(None, description="the agent this user works as (role agent)")
    display_name: Text(200) = ""


class UserPatch(In):
    password: Password | None = None
    display_name: Text(200) | None = None
    active: bool | None = None


class UserOut(Out):
    id: str
    username: str
    role: RoleName
    tenant_id: str | None
    agent_id: str | None
    display_name: str
    active: bool

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(id=u.id, username=u.username, role=u.role.value, tenant_id=u.tenant_id, agent_id=u.agent_id,
                   display_name=u.display_name, active=u.active)


class SkillIn(In):
    description: Text(500) = ""
    requires_certification: Text(100, min_length=1) | None = Field(
        None, description="the skill counts for routing only while the agent holds this certification")


class SkillOut(Out):
    name: str
    description: str
    requires_certification: str | None

    @classmethod
    def of(cls, s: SkillDefinition) -> SkillOut:
        return cls(name=s.name, description=s.description, requires_certification=s.requires_certification)


class PauseReasonIn(In):
    label: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*\S[^\x00]*$")]
    paid: bool


class PauseReasonOut(Out):
    code: str
    label: str
    paid: bool

    @classmethod
    def of(cls, r: PauseReason) -> PauseReasonOut:
        return cls(code=r.code, label=r.label, paid=r.paid)
