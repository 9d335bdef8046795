"""Everyday setup: tenants, programs, users, agents, skills, pause reasons, queues, workflows.

Each function takes the caller's Scope; an object outside it is NotFound. Changes that routing
depends on are applied to the operator's router right after they are stored, so a new queue or a
changed skill takes effect for the next decision.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..adapters.sql import mapping as m
from ..adapters.sql import tables as t
from ..domain.agents import Agent
from ..domain.errors import Conflict, InvalidInput
from ..domain.ids import new_id
from ..domain.organization import (
    DEFAULT_PAUSE_REASONS, Disposition, Operator, PauseReason, Program, Role, Scope, SkillDefinition, Tenant, User,
    check_dispositions, check_role_links, check_slug,
)
from ..domain.queues import Queue
from ..domain.referrals import Referral, check_referral, search
from ..domain.workflows import Workflow, compile_workflow
from .auth import hash_password
from .platform import Platform


# ---- operators (CLI and demo only: the API works inside one operator) -------------------------
async def create_operator(p: Platform, name: str, *, operator_id: str | None = None) -> Operator:
    operator = Operator(operator_id or new_id(), name)
    now = p.clock.now()
    await p.run(p.store.insert_row, t.operators, {"id": operator.id, "name": name,
                                                  "missed_pause_code": operator.missed_pause_code,
                                                  "created_at": now})
    for reason in DEFAULT_PAUSE_REASONS:
        await p.run(p.store.upsert_keyed, t.pause_reasons, "code",
                    {"operator_id": operator.id, "code": reason.code, "label": reason.label, "paid": reason.paid})
    await p.router(operator.id)
    return operator


async def get_operator(p: Platform, scope: Scope) -> Operator:
    return m.operator_from_row(await p.run(p.store.get_row, t.operators, "operator", scope.operator_id,
                                           Scope(scope.operator_id)))


async def update_operator(p: Platform, scope: Scope, *, name: str | None = None,
                          missed_pause_code: str | None = None) -> Operator:
    """Rename the operator or choose the pause an agent lands in after a missed offer (it must
    be one of the operator's pause reasons)."""
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _name(name)
    if missed_pause_code is not None:
        if missed_pause_code not in {r.code for r in await list_pause_reasons(p, scope)}:
            raise InvalidInput("missed_pause_code", f"no such pause reason: {missed_pause_code}")
        values["missed_pause_code"] = missed_pause_code
    if values:
        await p.run(p.store.update_row, t.operators, "operator", scope.operator_id, Scope(scope.operator_id),
                    values)
    operator = await get_operator(p, scope)

    def apply(center: Any, now: Any) -> None:
        center.operator.name, center.operator.missed_pause_code = operator.name, operator.missed_pause_code

    await p.in_router(scope, apply)
    return operator


# ---- tenants and programs -------------------------------------------------------------------
async def create_tenant(p: Platform, scope: Scope, name: str) -> Tenant:
    tenant = Tenant(new_id(), scope.operator_id, _name(name))
    await p.run(p.store.insert_row, t.tenants, {"id": tenant.id, "operator_id": tenant.operator_id,
                                                "name": tenant.name, "created_at": p.clock.now()})
    return tenant


async def get_tenant(p: Platform, scope: Scope, tenant_id: str) -> Tenant:
    return m.tenant_from_row(await p.run(p.store.get_row, t.tenants, "tenant", tenant_id, scope))


async def list_tenants(p: Platform, scope: Scope) -> list[Tenant]:
    return [m.tenant_from_row(r) for r in await p.run(p.store.list_rows, t.tenants, scope)]


async def update_tenant(p: Platform, scope: Scope, tenant_id: str, name: str) -> Tenant:
    await p.run(p.store.update_row, t.tenants, "tenant", tenant_id, scope, {"name": _name(name)})
    return await get_tenant(p, scope, tenant_id)


async def delete_tenant(p: Platform, scope: Scope, tenant_id: str) -> None:
    await p.run(p.store.delete_row, t.tenants, "tenant", tenant_id, scope)


def _name(value: str, field: str = "name") -> str:
    value = value.strip()
    if not 1 <= len(value) <= 200:
        raise InvalidInput(field, "must be 1 to 200 characters")
    return value


async def create_program(p: Platform, scope: Scope, tenant_id: str, name: str) -> Program:
    await get_tenant(p, scope, tenant_id)
    program = Program(new_id(), scope.operator_id, tenant_id, _name(name))
    await p.run(p.store.insert_row, t.programs, {
        "id": program.id, "operator_id": program.operator_id, "tenant_id": tenant_id, "name": program.name,
        "default_workflow_id": None, "created_at": p.clock.now()})
    await p.in_router(scope, lambda c, now: c.set_program(program))
    return program


async def get_program(p: Platform, scope: Scope, program_id: str) -> Program:
    return m.program_from_row(await p.run(p.store.get_row, t.programs, "program", program_id, scope))


async def list_programs(p: Platform, scope: Scope, tenant_id: str | None = None) -> list[Program]:
    return [m.program_from_row(r) for r in await p.run(p.store.list_rows, t.programs, scope, tenant_id=tenant_id)]


async def update_program(p: Platform, scope: Scope, program_id: str, *, name: str | None = None,
                         default_workflow_id: str | None = None, clear_workflow: bool = False,
                         dispositions: tuple[Disposition, ...] | None = None) -> Program:
    """Change a program. `dispositions`, when given, replaces the list an agent must choose
    from to complete a contact of this program (empty: no disposition required)."""
    program = await get_program(p, scope, program_id)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _name(name)
    if dispositions is not None:
        values["dispositions"] = m.dispositions_row(check_dispositions(dispositions))
    if default_workflow_id is not None:
        workflow = await get_workflow(p, scope, default_workflow_id)
        if workflow.program_id != program.id:
            raise InvalidInput("default_workflow_id", "the workflow belongs to another program")
        values["default_workflow_id"] = workflow.id
    elif clear_workflow:
        values["default_workflow_id"] = None
    if values:
        await p.run(p.store.update_row, t.programs, "program", program_id, scope, values)
    program = await get_program(p, scope, program_id)
    await p.in_router(scope, lambda c, now: c.set_program(program))
    return program


async def delete_program(p: Platform, scope: Scope, program_id: str) -> None:
    await p.run(p.store.delete_row, t.programs, "program", program_id, scope)
    await p.in_router(scope, lambda c, now: c.remove_program(program_id))


# ---- users ----------------------------------------------------------------------------------
def _password(password: str) -> str:
    if not 8 <= len(password) <= 200:
        raise InvalidInput("password", "must be 8 to 200 characters")
    return hash_password(password)


async def create_user(p: Platform, scope: Scope, *, username: str, password: str, role: Role,
                      tenant_id: str | None = None, agent_id: str | None = None, display_name: str = "") -> User:
    username = username.strip()
    if not 3 <= len(username) <= 100:
        raise InvalidInput("username", "must be 3 to 100 characters")
    check_role_links(role, tenant_id, agent_id)
    if tenant_id is not None:
        await get_tenant(p, scope, tenant_id)
    if agent_id is not None:
        await get_agent(p, scope, agent_id)
    user = User(new_id(), scope.operator_id, username, role, await p.run(_password, password), tenant_id, agent_id,
                display_name)
    try:
        await p.run(p.store.insert_row, t.users, {
            "id": user.id, "operator_id": user.operator_id, "username": username, "role": str(role),
            "password_hash": user.password_hash, "tenant_id": tenant_id, "agent_id": agent_id,
            "display_name": display_name, "active": True, "created_at": p.clock.now()})
    except Conflict as err:
        raise Conflict(f"username {username!r} is taken", field="username") from err
    return user


async def get_user(p: Platform, scope: Scope, user_id: str) -> User:
    return m.user_from_row(await p.run(p.store.get_row, t.users, "user", user_id, scope))


async def list_users(p: Platform, scope: Scope) -> list[User]:
    return [m.user_from_row(r) for r in await p.run(p.store.list_rows, t.users, scope)]


async def update_user(p: Platform, scope: Scope, user_id: str, *, password: str | None = None,
                      display_name: str | None = None, active: bool | None = None) -> User:
    values: dict[str, Any] = {}
    if password is not None:
        values["password_hash"] = await p.run(_password, password)
    if display_name is not None:
        values["display_name"] = display_name
    if active is not None:
        values["active"] = active
    await p.run(p.store.update_row, t.users, "user", user_id, scope, values or {"active": (await get_user(
        p, scope, user_id)).active})
    return await get_user(p, scope, user_id)


async def delete_user(p: Platform, scope: Scope, user_id: str) -> None:
    if user_id == scope.user_id:
        raise InvalidInput("user_id", "you cannot delete yourself")

    def _delete() -> None:
        p.store.get_row(t.users, "user", user_id, scope)
        with p.store.begin() as conn:
            conn.execute(t.api_tokens.delete().where(t.api_tokens.c.user_id == user_id))
            conn.execute(t.users.delete().where(t.users.c.id == user_id))

    await p.run(_delete)


# ---- skills and pause reasons ---------------------------------------------------------------
async def list_skills(p: Platform, scope: Scope) -> list[SkillDefinition]:
    return [m.skill_from_row(r) for r in await p.run(p.store.list_rows, t.skills, scope, order_by="name")]


async def put_skill(p: Platform, scope: Scope, skill: SkillDefinition) -> SkillDefinition:
    check_slug("name", skill.name)
    await p.run(p.store.upsert_keyed, t.skills, "name", {
        "operator_id": scope.operator_id, "name": skill.name, "description": skill.description,
        "requires_certification": skill.requires_certification})
    skills = await list_skills(p, scope)
    await p.in_router(scope, lambda c, now: _reapply_skills(c, skills, now))
    return skill


def _reapply_skills(center: Any, skills: list[SkillDefinition], now: Any) -> None:
    center.set_skills(skills)
    for runtime in list(center.agents.values()):
        center.set_agent(runtime.profile, now)


async def delete_skill(p: Platform, scope: Scope, name: str) -> None:
    await p.run(p.store.delete_keyed, t.skills, "skill", "name", name, scope.operator_id)
    skills = await list_skills(p, scope)
    await p.in_router(scope, lambda c, now: _reapply_skills(c, skills, now))


async def list_pause_reasons(p: Platform, scope: Scope) -> list[PauseReason]:
    rows = await p.run(p.store.list_rows, t.pause_reasons, scope, order_by="code")
    return [m.pause_reason_from_row(r) for r in rows]


async def put_pause_reason(p: Platform, scope: Scope, reason: PauseReason) -> PauseReason:
    check_slug("code", reason.code)
    _name(reason.label, "label")
    await p.run(p.store.upsert_keyed, t.pause_reasons, "code", {
        "operator_id": scope.operator_id, "code": reason.code, "label": reason.label, "paid": reason.paid})
    reasons = await list_pause_reasons(p, scope)
    await p.in_router(scope, lambda c, now: c.set_pause_reasons(reasons))
    return reason


async def delete_pause_reason(p: Platform, scope: Scope, code: str) -> None:
    if code == (await get_operator(p, scope)).missed_pause_code:
        raise InvalidInput("code", "this pause is where routing puts agents who miss an offer; choose another "
                           "missed_pause_code for the operator first")
    await p.run(p.store.delete_keyed, t.pause_reasons, "pause reason", "code", code, scope.operator_id)
    reasons = await list_pause_reasons(p, scope)
    await p.in_router(scope, lambda c, now: c.set_pause_reasons(reasons))


# ---- agents ---------------------------------------------------------------------------------
async def create_agent(p: Platform, scope: Scope, agent: Agent) -> Agent:
    agent = replace(agent, id=agent.id or new_id(), operator_id=scope.operator_id)
    _name(agent.name)
    row = m.agent_row(agent) | {"presence": "offline", "pause_reason": None, "created_at": p.clock.now()}
    await p.run(p.store.insert_row, t.agents, row)
    await p.in_router(scope, lambda c, now: c.set_agent(agent, now))
    return agent


async def get_agent(p: Platform, scope: Scope, agent_id: str) -> Agent:
    return await p.run(p.store.agent, agent_id, scope)


async def list_agents(p: Platform, scope: Scope) -> list[Agent]:
    return [m.agent_from_row(r) for r in await p.run(p.store.list_rows, t.agents, scope, limit=100_000)]


async def update_agent(p: Platform, scope: Scope, agent: Agent) -> Agent:
    await get_agent(p, scope, agent.id)
    _name(agent.name)
    row = m.agent_row(agent)
    row.pop("id"), row.pop("operator_id")
    await p.run(p.store.update_row, t.agents, "agent", agent.id, scope, row)
    await p.in_router(scope, lambda c, now: c.set_agent(agent, now))
    return agent


# ---- queues ---------------------------------------------------------------------------------
async def create_queue(p: Platform, scope: Scope, queue: Queue) -> Queue:
    program = await get_program(p, scope, queue.program_id)
    queue = replace(queue, id=queue.id or new_id(), operator_id=scope.operator_id, tenant_id=program.tenant_id)
    _name(queue.name)
    await p.run(p.store.insert_row, t.queues, m.queue_row(queue) | {"created_at": p.clock.now()})
    await p.in_router(scope, lambda c, now: c.set_queue(queue, now))
    return queue


async def get_queue(p: Platform, scope: Scope, queue_id: str) -> Queue:
    return m.queue_from_row(await p.run(p.store.get_row, t.queues, "queue", queue_id, scope))


async def list_queues(p: Platform, scope: Scope, program_id: str | None = None) -> list[Queue]:
    rows = await p.run(p.store.list_rows, t.queues, scope, program_id=program_id)
    return [m.queue_from_row(r) for r in rows]


async def update_queue(p: Platform, scope: Scope, queue: Queue) -> Queue:
    old = await get_queue(p, scope, queue.id)
    queue = replace(queue, operator_id=old.operator_id, tenant_id=old.tenant_id, program_id=old.program_id)
    _name(queue.name)
    row = m.queue_row(queue)
    await p.run(p.store.update_row, t.queues, "queue", queue.id, scope, {"name": row["name"],
                                                                         "settings": row["settings"]})
    await p.in_router(scope, lambda c, now: c.set_queue(queue, now))
    return queue


async def delete_queue(p: Platform, scope: Scope, queue_id: str) -> None:
    queue = await get_queue(p, scope, queue_id)
    for workflow in await list_workflows(p, scope):
        targets = [workflow.default_target, *(t for r in workflow.routes for t in r.targets)]
        if any(target is not None and target.queue_id == queue.id for target in targets):
            raise Conflict(f"workflow {workflow.name!r} sends contacts to this queue; change it first",
                           field="queue_id", workflow_id=workflow.id)
    await p.in_router(scope, lambda c, now: c.remove_queue(queue_id))
    try:
        await p.run(p.store.delete_row, t.queues, "queue", queue_id, scope)
    except Conflict:
        await p.reload_router(scope.operator_id)
        raise


# ---- workflows ------------------------------------------------------------------------------
async def _check_workflow(p: Platform, scope: Scope, workflow: Workflow) -> None:
    queues = await list_queues(p, scope)
    ids = {q.id for q in queues if q.tenant_id == workflow.tenant_id}
    compile_workflow(workflow, ids)


async def validate_workflow(p: Platform, scope: Scope, workflow: Workflow) -> None:
    """Check a draft as saving it would (expressions, queues of the same client), saving nothing."""
    program = await get_program(p, scope, workflow.program_id)
    await _check_workflow(p, scope, replace(workflow, operator_id=scope.operator_id, tenant_id=program.tenant_id))


async def create_workflow(p: Platform, scope: Scope, workflow: Workflow) -> Workflow:
    program = await get_program(p, scope, workflow.program_id)
    workflow = replace(workflow, id=workflow.id or new_id(), operator_id=scope.operator_id,
                       tenant_id=program.tenant_id)
    _name(workflow.name)
    await _check_workflow(p, scope, workflow)
    await p.run(p.store.insert_row, t.workflows, m.workflow_row(workflow) | {"created_at": p.clock.now()})
    await p.in_router(scope, lambda c, now: c.set_workflow(workflow))
    return workflow


async def get_workflow(p: Platform, scope: Scope, workflow_id: str) -> Workflow:
    return m.workflow_from_row(await p.run(p.store.get_row, t.workflows, "workflow", workflow_id, scope))


async def list_workflows(p: Platform, scope: Scope, program_id: str | None = None) -> list[Workflow]:
    rows = await p.run(p.store.list_rows, t.workflows, scope, program_id=program_id)
    return [m.workflow_from_row(r) for r in rows]


async def update_workflow(p: Platform, scope: Scope, workflow: Workflow) -> Workflow:
    old = await get_workflow(p, scope, workflow.id)
    workflow = replace(workflow, operator_id=old.operator_id, tenant_id=old.tenant_id, program_id=old.program_id)
    _name(workflow.name)
    await _check_workflow(p, scope, workflow)
    row = m.workflow_row(workflow)
    await p.run(p.store.update_row, t.workflows, "workflow", workflow.id, scope,
                {"name": row["name"], "definition": row["definition"]})
    await p.in_router(scope, lambda c, now: c.set_workflow(workflow))
    return workflow


async def delete_workflow(p: Platform, scope: Scope, workflow_id: str) -> None:
    workflow = await get_workflow(p, scope, workflow_id)
    if any(pr.default_workflow_id == workflow.id for pr in await list_programs(p, scope, workflow.tenant_id)):
        raise Conflict("the workflow is a program's default; choose another default first",
                       field="workflow_id")
    await p.run(p.store.delete_row, t.workflows, "workflow", workflow_id, scope)
    await p.in_router(scope, lambda c, now: c.remove_workflow(workflow_id))



# ---- referral directory ---------------------------------------------------------------------
def _referral_row(r: Referral) -> dict[str, Any]:
    return {"id": r.id, "operator_id": r.operator_id, "tenant_id": r.tenant_id, "program_id": r.program_id,
            "name": r.name.strip(), "phone": r.phone, "url": r.url, "when_to_use": r.when_to_use}


def _referral(row: dict[str, Any]) -> Referral:
    return Referral(row["id"], row["operator_id"], row["tenant_id"], row["program_id"], row["name"], row["phone"],
                    row["url"], row["when_to_use"])


async def create_referral(p: Platform, scope: Scope, referral: Referral) -> Referral:
    program = await get_program(p, scope, referral.program_id)
    referral = check_referral(replace(referral, id=new_id(), operator_id=scope.operator_id,
                                      tenant_id=program.tenant_id))
    await p.run(p.store.insert_row, t.referrals, _referral_row(referral) | {"created_at": p.clock.now()})
    return referral


async def get_referral(p: Platform, scope: Scope, referral_id: str) -> Referral:
    return _referral(await p.run(p.store.get_row, t.referrals, "referral", referral_id, scope))


async def search_referrals(p: Platform, scope: Scope, program_id: str, query: str = "") -> list[Referral]:
    """The program's directory, filtered by `query` (see domain.referrals.search)."""
    await get_program(p, scope, program_id)
    rows = await p.run(p.store.list_rows, t.referrals, scope, program_id=program_id, limit=10_000)
    return search([_referral(r) for r in rows], query)


async def update_referral(p: Platform, scope: Scope, referral: Referral) -> Referral:
    old = await get_referral(p, scope, referral.id)
    referral = check_referral(replace(referral, operator_id=old.operator_id, tenant_id=old.tenant_id,
                                      program_id=old.program_id))
    row = _referral_row(referral)
    await p.run(p.store.update_row, t.referrals, "referral", referral.id, scope,
                {k: row[k] for k in ("name", "phone", "url", "when_to_use")})
    return referral


async def delete_referral(p: Platform, scope: Scope, referral_id: str) -> None:
    await p.run(p.store.delete_row, t.referrals, "referral", referral_id, scope)
