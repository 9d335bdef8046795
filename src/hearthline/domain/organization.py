"""Who is who: the operator, its client companies (tenants), programs, users and roles, pause reasons.

An operator runs the virtual call center. It hosts tenants (client companies); each tenant has
programs (lines of business). Agents, supervisors and admins are the operator's staff and may work
for several tenants; a client viewer belongs to exactly one tenant and sees only its data.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from .errors import InvalidInput
from .ids import OperatorId, ProgramId, TenantId, UserId


class Role(enum.StrEnum):
    ADMIN = "admin"  # operator admin: everything of the operator
    SUPERVISOR = "supervisor"  # watches and steers queues and agents of the operator
    AGENT = "agent"  # handles contacts; sees own offers and contacts
    CLIENT_VIEWER = "client_viewer"  # read-only, own tenant only


STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_slug(field_name: str, value: str) -> str:
    """Codes (pause reasons, skills, dispositions) are lower-case slugs of at most 63 characters."""
    if not _SLUG.match(value):
        raise InvalidInput(field_name, "use lower-case letters, digits, '-' or '_' (1-63 characters)")
    return value


@dataclass(slots=True)
class Operator:
    id: OperatorId
    name: str
    missed_pause_code: str = "missed"  # the pause an agent lands in after an offer times out


@dataclass(slots=True)
class Tenant:
    id: TenantId
    operator_id: OperatorId
    name: str


@dataclass(frozen=True, slots=True)
class Disposition:
    """How a contact ended, as the agent records it (e.g. "resolved", "sale", "referred")."""

    code: str
    label: str


@dataclass(slots=True)
class Program:
    id: ProgramId
    operator_id: OperatorId
    tenant_id: TenantId
    name: str
    default_workflow_id: str | None = None
    # When set, completing a contact of this program requires one of these.
    dispositions: tuple[Disposition, ...] = ()

    def check_disposition(self, code: str | None) -> None:
        """Raise InvalidInput unless `code` is acceptable when completing a contact."""
        if not self.dispositions:
            return
        allowed = [d.code for d in self.dispositions]
        if code is None:
            raise InvalidInput("disposition", "this program needs a disposition to complete", allowed=allowed)
        if code not in allowed:
            raise InvalidInput("disposition", f"not one of this program's dispositions: {code}", allowed=allowed)


def check_dispositions(dispositions: tuple[Disposition, ...]) -> tuple[Disposition, ...]:
    """Codes are slugs, unique within the program; labels are 1-100 characters; at most 50."""
    if len(dispositions) > 50:
        raise InvalidInput("dispositions", "at most 50 per program")
    seen: set[str] = set()
    for i, d in enumerate(dispositions):
        check_slug(f"dispositions[{i}].code", d.code)
        if d.code in seen:
            raise InvalidInput(f"dispositions[{i}].code", f"duplicate code: {d.code}")
        if not 1 <= len(d.label.strip()) <= 100:
            raise InvalidInput(f"dispositions[{i}].label", "must be 1 to 100 characters")
        seen.add(d.code)
    return dispositions


@dataclass(slots=True)
class User:
    id: UserId
    operator_id: OperatorId
    username: str
    role: Role
    password_hash: str
    tenant_id: TenantId | None = None  # set for client viewers only
    agent_id: str | None = None  # set for agents
    display_name: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        check_role_links(self.role, self.tenant_id, self.agent_id)


def check_role_links(role: Role, tenant_id: str | None, agent_id: str | None) -> None:
    """A client viewer belongs to exactly one tenant and an agent user to exactly one agent;
    no other user is bound to either. Raises InvalidInput naming the field."""
    if role is Role.CLIENT_VIEWER and tenant_id is None:
        raise InvalidInput("tenant_id", "a client viewer belongs to exactly one tenant")
    if role is not Role.CLIENT_VIEWER and tenant_id is not None:
        raise InvalidInput("tenant_id", "only client viewers are bound to a tenant")
    if role is Role.AGENT and agent_id is None:
        raise InvalidInput("agent_id", "a user with the agent role works as an agent: give agent_id")
    if role is not Role.AGENT and agent_id is not None:
        raise InvalidInput("agent_id", "only users with the agent role are linked to an agent")


@dataclass(frozen=True, slots=True)
class PauseReason:
    """A reason an agent is not taking contacts; `paid` decides whether pay counts the time."""

    code: str
    label: str
    paid: bool


DEFAULT_PAUSE_REASONS: tuple[PauseReason, ...] = (
    PauseReason("break", "Break", paid=True),
    PauseReason("lunch", "Lunch", paid=False),
    PauseReason("training", "Training", paid=True),
    PauseReason("meeting", "Meeting", paid=True),
    PauseReason("coaching", "Coaching", paid=True),
    PauseReason("technical", "Technical problem", paid=True),
    PauseReason("missed", "Missed an offer", paid=False),
)


@dataclass(frozen=True, slots=True)
class SkillDefinition:
    """A routing skill of the operator. If `requires_certification` is set, an agent's proficiency
    in this skill counts for routing only while she holds that certification unexpired."""

    name: str
    description: str = ""
    requires_certification: str | None = None


@dataclass(slots=True)
class Scope:
    """What a caller may see: one operator, and all its tenants or just some."""

    operator_id: OperatorId
    tenant_ids: frozenset[TenantId] | None = None  # None: every tenant of the operator
    user_id: UserId | None = None
    role: Role = Role.ADMIN
    agent_id: str | None = None

    def sees_tenant(self, tenant_id: str | None) -> bool:
        if self.tenant_ids is None:
            return True
        return tenant_id is not None and tenant_id in self.tenant_ids

    @property
    def read_only(self) -> bool:
        return self.role is Role.CLIENT_VIEWER


