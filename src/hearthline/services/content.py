"""What agents read while they work: scripts, knowledge articles, canned responses, and the
search over knowledge and the referral directory.

Each function takes the caller's Scope; an object outside it is NotFound. Client viewers see
none of this (PermissionDenied); admins write, supervisors and agents read. A write first looks
the object (or its program) up in the scope, so a caller learns nothing from a 403 about an
object she cannot see. An agent gets the script and canned responses of her own contacts only
(services.interactions.get_interaction decides which those are).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any


from ..adapters.sql import tables as t
from ..domain.content import (
    CannedResponse, KnowledgeArticle, Script, check_article, check_canned, check_script, fields_for, render,
    render_steps, search, steps_from_json, steps_to_json,
)
from ..domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..domain.ids import new_id
from ..domain.interactions import Interaction
from ..domain.organization import Role, Scope
from . import admin
from .customers import find_record
from .interactions import get_interaction
from .platform import Platform


def _may_read(scope: Scope) -> None:
    if scope.role is Role.CLIENT_VIEWER:
        raise PermissionDenied("the client_viewer role may not do this", role=scope.role.value,
                               allowed=["admin", "agent", "supervisor"])


def _may_write(scope: Scope) -> None:
    if scope.role is not Role.ADMIN:
        raise PermissionDenied(f"the {scope.role.value} role may not do this", role=scope.role.value,
                               allowed=["admin"])


# ---- scripts ------------------------------------------------------------------------------------------
def _script_row(s: Script) -> dict[str, Any]:
    return {"id": s.id, "operator_id": s.operator_id, "tenant_id": s.tenant_id, "program_id": s.program_id,
            "queue_id": s.queue_id, "name": s.name, "steps": steps_to_json(s.steps)}


def _script(row: dict[str, Any]) -> Script:
    return Script(row["id"], row["operator_id"], row["tenant_id"], row["program_id"], row["queue_id"], row["name"],
                  steps_from_json(row["steps"]))


async def _check_script_queue(p: Platform, scope: Scope, script: Script) -> None:
    """The queue, if any, belongs to the script's program, and no other script of the program
    has the same queue (or, without a queue, is also the program's general script)."""
    if script.queue_id is not None:
        try:
            queue = await admin.get_queue(p, scope, script.queue_id)
        except NotFound as err:
            raise InvalidInput("queue_id", f"no such queue: {script.queue_id}") from err
        if queue.program_id != script.program_id:
            raise InvalidInput("queue_id", "the queue belongs to another program")
    for other in await list_scripts(p, scope, script.program_id):
        if other.id != script.id and other.queue_id == script.queue_id:
            where = "this queue" if script.queue_id else "the whole program"
            raise Conflict(f"script {other.name!r} already covers {where}; change or delete it first",
                           field="queue_id", script_id=other.id)


async def create_script(p: Platform, scope: Scope, script: Script) -> Script:
    """Store a new script for `script.program_id` (its id, operator and tenant are filled in).
    At most one script per program and queue, and one for the whole program (Conflict)."""
    program = await admin.get_program(p, scope, script.program_id)
    _may_write(scope)
    script = check_script(replace(script, id=new_id(), operator_id=scope.operator_id, tenant_id=program.tenant_id))
    await _check_script_queue(p, scope, script)
    await p.run(p.store.insert_row, t.scripts, _script_row(script) | {"created_at": p.clock.now()})
    return script


async def get_script(p: Platform, scope: Scope, script_id: str) -> Script:
    _may_read(scope)
    return _script(await p.run(p.store.get_row, t.scripts, "script", script_id, scope))


async def list_scripts(p: Platform, scope: Scope, program_id: str) -> list[Script]:
    """The program's scripts, by name."""
    await admin.get_program(p, scope, program_id)
    _may_read(scope)
    rows = await p.run(p.store.list_rows, t.scripts, scope, program_id=program_id, order_by="name", limit=10_000)
    return [_script(r) for r in rows]


async def update_script(p: Platform, scope: Scope, script: Script) -> Script:
    """Replace a script's name, queue and steps; its program stays."""
    old = await get_script(p, scope, script.id)
    _may_write(scope)
    script = check_script(replace(script, operator_id=old.operator_id, tenant_id=old.tenant_id,
                                  program_id=old.program_id))
    await _check_script_queue(p, scope, script)
    row = _script_row(script)
    await p.run(p.store.update_row, t.scripts, "script", script.id, scope,
                {k: row[k] for k in ("queue_id", "name", "steps")})
    return script


async def delete_script(p: Platform, scope: Scope, script_id: str) -> None:
    await get_script(p, scope, script_id)
    _may_write(scope)
    await p.run(p.store.delete_row, t.scripts, "script", script_id, scope)


# ---- knowledge articles ---------------------------------------------------------------------------
def _article_row(a: KnowledgeArticle) -> dict[str, Any]:
    return {"id": a.id, "operator_id": a.operator_id, "tenant_id": a.tenant_id, "program_id": a.program_id,
            "title": a.title, "body": a.body, "tags": list(a.tags)}


def _article(row: dict[str, Any]) -> KnowledgeArticle:
    return KnowledgeArticle(row["id"], row["operator_id"], row["tenant_id"], row["program_id"], row["title"],
                            row["body"], tuple(row["tags"]))


async def create_article(p: Platform, scope: Scope, article: KnowledgeArticle) -> KnowledgeArticle:
    program = await admin.get_program(p, scope, article.program_id)
    _may_write(scope)
    article = check_article(replace(article, id=new_id(), operator_id=scope.operator_id,
                                    tenant_id=program.tenant_id))
    await p.run(p.store.insert_row, t.knowledge_articles, _article_row(article) | {"created_at": p.clock.now()})
    return article


async def get_article(p: Platform, scope: Scope, article_id: str) -> KnowledgeArticle:
    _may_read(scope)
    return _article(await p.run(p.store.get_row, t.knowledge_articles, "knowledge article", article_id, scope))


async def list_articles(p: Platform, scope: Scope, program_id: str) -> list[KnowledgeArticle]:
    """The program's articles, by title."""
    await admin.get_program(p, scope, program_id)
    _may_read(scope)
    rows = await p.run(p.store.list_rows, t.knowledge_articles, scope, program_id=program_id, order_by="title",
                       limit=10_000)
    return [_article(r) for r in rows]


async def update_article(p: Platform, scope: Scope, article: KnowledgeArticle) -> KnowledgeArticle:
    old = await get_article(p, scope, article.id)
    _may_write(scope)
    article = check_article(replace(article, operator_id=old.operator_id, tenant_id=old.tenant_id,
                                    program_id=old.program_id))
    row = _article_row(article)
    await p.run(p.store.update_row, t.knowledge_articles, "knowledge article", article.id, scope,
                {k: row[k] for k in ("title", "body", "tags")})
    return article


async def delete_article(p: Platform, scope: Scope, article_id: str) -> None:
    await get_article(p, scope, article_id)
    _may_write(scope)
    await p.run(p.store.delete_row, t.knowledge_articles, "knowledge article", article_id, scope)


# ---- canned responses -----------------------------------------------------------------------------
def _canned_row(c: CannedResponse) -> dict[str, Any]:
    return {"id": c.id, "operator_id": c.operator_id, "tenant_id": c.tenant_id, "program_id": c.program_id,
            "name": c.name, "body": c.body}


def _canned(row: dict[str, Any]) -> CannedResponse:
    return CannedResponse(row["id"], row["operator_id"], row["tenant_id"], row["program_id"], row["name"],
                          row["body"])


async def create_canned(p: Platform, scope: Scope, canned: CannedResponse) -> CannedResponse:
    program = await admin.get_program(p, scope, canned.program_id)
    _may_write(scope)
    canned = check_canned(replace(canned, id=new_id(), operator_id=scope.operator_id, tenant_id=program.tenant_id))
    await p.run(p.store.insert_row, t.canned_responses, _canned_row(canned) | {"created_at": p.clock.now()})
    return canned


async def get_canned(p: Platform, scope: Scope, canned_id: str) -> CannedResponse:
    _may_read(scope)
    return _canned(await p.run(p.store.get_row, t.canned_responses, "canned response", canned_id, scope))


async def list_canned(p: Platform, scope: Scope, program_id: str) -> list[CannedResponse]:
    """The program's canned responses, by name."""
    await admin.get_program(p, scope, program_id)
    _may_read(scope)
    rows = await p.run(p.store.list_rows, t.canned_responses, scope, program_id=program_id, order_by="name",
                       limit=10_000)
    return [_canned(r) for r in rows]


async def update_canned(p: Platform, scope: Scope, canned: CannedResponse) -> CannedResponse:
    old = await get_canned(p, scope, canned.id)
    _may_write(scope)
    canned = check_canned(replace(canned, operator_id=old.operator_id, tenant_id=old.tenant_id,
                                  program_id=old.program_id))
    await p.run(p.store.update_row, t.canned_responses, "canned response", canned.id, scope,
                {"name": canned.name, "body": canned.body})
    return canned


async def delete_canned(p: Platform, scope: Scope, canned_id: str) -> None:
    await get_canned(p, scope, canned_id)
    _may_write(scope)
    await p.run(p.store.delete_row, t.canned_responses, "canned response", canned_id, scope)


# ---- for one contact ------------------------------------------------------------------------------
async def fields_of(p: Platform, scope: Scope, interaction: Interaction) -> dict[str, str]:
    """The fields of a contact (see domain.content.fields_for): its customer record, the name of
    the agent who has it (or is asking, for an offer not yet taken) and its program's name."""
    record = await p.run(find_record, p, interaction.tenant_id, interaction.customer.as_dict())
    agent_id = interaction.agent_id or scope.agent_id
    agent_name = (await admin.get_agent(p, scope, agent_id)).name if agent_id is not None else None
    program = await admin.get_program(p, scope, interaction.program_id)
    view = {"id": interaction.id, "channel": interaction.channel.value, "customer": interaction.customer.as_dict(),
            "attributes": interaction.attributes}
    return fields_for(view, record, agent_name, program.name)


async def script_for(p: Platform, scope: Scope, interaction_id: str) -> tuple[Script, dict[str, str]]:
    """The script that applies to the contact — the one of its current queue, else its
    program's general one — rendered with the contact's fields, and those fields. Raises
    NotFound for a contact outside the caller's sight, and NotFound (kind `script for
    interaction`) when neither script exists."""
    _may_read(scope)
    interaction, _ = await get_interaction(p, scope, interaction_id)
    scripts = await list_scripts(p, scope, interaction.program_id)
    chosen = next((s for s in scripts if interaction.queue_id and s.queue_id == interaction.queue_id), None) \
        or next((s for s in scripts if s.queue_id is None), None)
    if chosen is None:
        raise NotFound("script for interaction", interaction_id)
    fields = await fields_of(p, scope, interaction)
    return replace(chosen, steps=render_steps(chosen.steps, fields)), fields


async def canned_for(p: Platform, scope: Scope, interaction_id: str) -> list[CannedResponse]:
    """The contact's program's canned responses, by name, their bodies rendered with its fields."""
    _may_read(scope)
    interaction, _ = await get_interaction(p, scope, interaction_id)
    canned = await list_canned(p, scope, interaction.program_id)
    fields = await fields_of(p, scope, interaction)
    return [replace(c, body=render(c.body, fields)) for c in canned]


async def knowledge_search(p: Platform, scope: Scope, program_id: str, query: str) -> list[dict[str, Any]]:
    """The program's knowledge articles and referral entries that contain every word of `query`,
    ranked (see domain.content.search)."""
    await admin.get_program(p, scope, program_id)
    _may_read(scope)
    articles = await p.run(p.store.list_rows, t.knowledge_articles, scope, program_id=program_id, limit=10_000)
    directory = await admin.search_referrals(p, scope, program_id)  # the whole directory; search ranks it
    return search([_article(r) for r in articles], directory, query)
