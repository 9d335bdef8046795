"""Scripts, knowledge articles and canned responses of each program; a contact's script and canned
responses with its fields filled in; one search over knowledge and the referral directory; and a
dry run of a workflow for the admin pages' live validation.

Read: admin, supervisor, agent (a contact's script and canned responses: only her own contacts).
Write: admin. Client viewers: 403. An object of another tenant or operator is 404.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from ....domain.content import (
    MAX_ARTICLE_BODY, MAX_CANNED_BODY, MAX_OPTIONS, MAX_STEP_TEXT, MAX_STEPS, MAX_TAG, MAX_TAGS, CannedResponse,
    KnowledgeArticle, Script, ScriptOption, ScriptStep,
)
from ....domain.organization import Role
from ....domain.workflows import Route, Workflow
from ....services import admin, content
from ..deps import PlatformDep, WatcherDep, WorkerDep
from ..params import IdPath
from ..schemas.common import In, Name, Out, Ref, Slug, Text
from ..schemas.routing import RouteIn, TargetIn

router = APIRouter()
SCRIPTS, KNOWLEDGE, CANNED = "/api/v1/scripts", "/api/v1/knowledge", "/api/v1/canned-responses"


# ---- scripts ------------------------------------------------------------------------------------------
class OptionIn(In):
    label: Text(200, min_length=1)
    next: Slug | None = Field(None, description="the id of the step it leads to; null ends the script")


class StepIn(In):
    id: Slug
    title: Text(200, min_length=1)
    text: Text(MAX_STEP_TEXT) = Field("", description="may hold fields such as {customer.first_name}")
    options: list[OptionIn] = Field(default_factory=list, max_length=MAX_OPTIONS)

    def to_domain(self) -> ScriptStep:
        return ScriptStep(self.id, self.title, self.text, tuple(ScriptOption(o.label, o.next) for o in self.options))


# Out, not In: a step filled in with a contact's fields may be longer than the limits of what is written.
class OptionOut(Out):
    label: str
    next: str | None


class StepOut(Out):
    id: str
    title: str
    text: str
    options: list[OptionOut]

    @classmethod
    def of(cls, s: ScriptStep) -> StepOut:
        return cls(id=s.id, title=s.title, text=s.text,
                   options=[OptionOut(label=o.label, next=o.next) for o in s.options])


class ScriptPut(In):
    name: Name
    queue_id: Ref | None = Field(None, description="a queue of the program; null: the whole program")
    steps: list[StepIn] = Field(min_length=1, max_length=MAX_STEPS, description="the first step is the start")


class ScriptIn(ScriptPut):
    program_id: Ref


class ScriptOut(Out):
    id: str
    program_id: str
    tenant_id: str
    queue_id: str | None
    name: str
    start: str = Field(description="the id of the first step")
    steps: list[StepOut]

    @classmethod
    def of(cls, s: Script) -> ScriptOut:
        return cls(id=s.id, program_id=s.program_id, tenant_id=s.tenant_id, queue_id=s.queue_id, name=s.name,
                   start=s.start, steps=[StepOut.of(x) for x in s.steps])


class ContactScriptOut(ScriptOut):
    fields: dict[str, str] = Field(description="the contact's fields the texts were filled in with")


def _script(body: ScriptPut, script_id: str = "", program_id: str = "") -> Script:
    return Script(script_id, "", "", program_id, body.queue_id, body.name,  # type: ignore[arg-type]
                  tuple(s.to_domain() for s in body.steps))


@router.post(SCRIPTS, status_code=201, response_model=ScriptOut, tags=["scripts"])
async def create_script(body: ScriptIn, caller: WorkerDep, p: PlatformDep) -> ScriptOut:
    """One script per queue, and one for the whole program (409 `conflict` on `queue_id`)."""
    return ScriptOut.of(await content.create_script(p, caller.scope, _script(body, program_id=body.program_id)))


@router.get(SCRIPTS, response_model=list[ScriptOut], tags=["scripts"], summary="A program's scripts, by name")
async def list_scripts(caller: WorkerDep, p: PlatformDep, program_id: Annotated[Ref, Query()]) -> list[ScriptOut]:
    return [ScriptOut.of(s) for s in await content.list_scripts(p, caller.scope, program_id)]


@router.get(SCRIPTS + "/{script_id}", response_model=ScriptOut, tags=["scripts"])
async def get_script(script_id: IdPath, caller: WorkerDep, p: PlatformDep) -> ScriptOut:
    return ScriptOut.of(await content.get_script(p, caller.scope, script_id))


@router.put(SCRIPTS + "/{script_id}", response_model=ScriptOut, tags=["scripts"],
            summary="Replace a script's name, queue and steps")
async def replace_script(script_id: IdPath, body: ScriptPut, caller: WorkerDep, p: PlatformDep) -> ScriptOut:
    return ScriptOut.of(await content.update_script(p, caller.scope, _script(body, script_id)))


@router.delete(SCRIPTS + "/{script_id}", status_code=204, tags=["scripts"])
async def delete_script(script_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Response:
    await content.delete_script(p, caller.scope, script_id)
    return Response(status_code=204)


@router.get("/api/v1/interactions/{interaction_id}/script", response_model=ContactScriptOut, tags=["scripts"],
            summary="The script of a contact's queue (else of its program), filled in with its fields")
async def contact_script(interaction_id: IdPath, caller: WorkerDep, p: PlatformDep) -> ContactScriptOut:
    """404 `not-found` with `details.kind` "script for interaction" when no script applies."""
    script, fields = await content.script_for(p, caller.scope, interaction_id)
    return ContactScriptOut(**dict(ScriptOut.of(script)), fields=fields)


# ---- knowledge articles ---------------------------------------------------------------------------
Tag = Text(MAX_TAG, min_length=1)


class ArticlePut(In):
    title: Name
    body: Text(MAX_ARTICLE_BODY) = ""
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)


class ArticleIn(ArticlePut):
    program_id: Ref


class ArticleOut(Out):
    id: str
    program_id: str
    tenant_id: str
    title: str
    body: str
    tags: list[str]

    @classmethod
    def of(cls, a: KnowledgeArticle) -> ArticleOut:
        return cls(id=a.id, program_id=a.program_id, tenant_id=a.tenant_id, title=a.title, body=a.body,
                   tags=list(a.tags))


def _article(body: ArticlePut, article_id: str = "", program_id: str = "") -> KnowledgeArticle:
    return KnowledgeArticle(article_id, "", "", program_id, body.title, body.body,  # type: ignore[arg-type]
                            tuple(body.tags))


@router.post(KNOWLEDGE, status_code=201, response_model=ArticleOut, tags=["knowledge"])
async def create_article(body: ArticleIn, caller: WorkerDep, p: PlatformDep) -> ArticleOut:
    return ArticleOut.of(await content.create_article(p, caller.scope, _article(body, program_id=body.program_id)))


@router.get(KNOWLEDGE, response_model=list[ArticleOut], tags=["knowledge"], summary="A program's articles, by title")
async def list_articles(caller: WorkerDep, p: PlatformDep, program_id: Annotated[Ref, Query()]) -> list[ArticleOut]:
    return [ArticleOut.of(a) for a in await content.list_articles(p, caller.scope, program_id)]


@router.get(KNOWLEDGE + "/{article_id}", response_model=ArticleOut, tags=["knowledge"])
async def get_article(article_id: IdPath, caller: WorkerDep, p: PlatformDep) -> ArticleOut:
    return ArticleOut.of(await content.get_article(p, caller.scope, article_id))


@router.put(KNOWLEDGE + "/{article_id}", response_model=ArticleOut, tags=["knowledge"])
async def replace_article(article_id: IdPath, body: ArticlePut, caller: WorkerDep, p: PlatformDep) -> ArticleOut:
    return ArticleOut.of(await content.update_article(p, caller.scope, _article(body, article_id)))


@router.delete(KNOWLEDGE + "/{article_id}", status_code=204, tags=["knowledge"])
async def delete_article(article_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Response:
    await content.delete_article(p, caller.scope, article_id)
    return Response(status_code=204)


# ---- canned responses -----------------------------------------------------------------------------
class CannedPut(In):
    name: Name
    body: Text(MAX_CANNED_BODY, min_length=1) = Field(description="may hold fields such as {customer.first_name}")


class CannedIn(CannedPut):
    program_id: Ref


class CannedOut(Out):
    id: str
    program_id: str
    tenant_id: str
    name: str
    body: str

    @classmethod
    def of(cls, c: CannedResponse) -> CannedOut:
        return cls(id=c.id, program_id=c.program_id, tenant_id=c.tenant_id, name=c.name, body=c.body)


def _canned(body: CannedPut, canned_id: str = "", program_id: str = "") -> CannedResponse:
    return CannedResponse(canned_id, "", "", program_id, body.name, body.body)  # type: ignore[arg-type]


@router.post(CANNED, status_code=201, response_model=CannedOut, tags=["canned responses"])
async def create_canned(body: CannedIn, caller: WorkerDep, p: PlatformDep) -> CannedOut:
    return CannedOut.of(await content.create_canned(p, caller.scope, _canned(body, program_id=body.program_id)))


@router.get(CANNED, response_model=list[CannedOut], tags=["canned responses"],
            summary="A program's canned responses, by name, as written (fields not filled in)")
async def list_canned(caller: WorkerDep, p: PlatformDep, program_id: Annotated[Ref, Query()]) -> list[CannedOut]:
    return [CannedOut.of(c) for c in await content.list_canned(p, caller.scope, program_id)]


@router.get(CANNED + "/{canned_id}", response_model=CannedOut, tags=["canned responses"])
async def get_canned(canned_id: IdPath, caller: WorkerDep, p: PlatformDep) -> CannedOut:
    return CannedOut.of(await content.get_canned(p, caller.scope, canned_id))


@router.put(CANNED + "/{canned_id}", response_model=CannedOut, tags=["canned responses"])
async def replace_canned(canned_id: IdPath, body: CannedPut, caller: WorkerDep, p: PlatformDep) -> CannedOut:
    return CannedOut.of(await content.update_canned(p, caller.scope, _canned(body, canned_id)))


@router.delete(CANNED + "/{canned_id}", status_code=204, tags=["canned responses"])
async def delete_canned(canned_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Response:
    await content.delete_canned(p, caller.scope, canned_id)
    return Response(status_code=204)


@router.get("/api/v1/interactions/{interaction_id}/canned-responses", response_model=list[CannedOut],
            tags=["canned responses"], summary="The contact's program's canned responses, filled in with its fields")
async def contact_canned(interaction_id: IdPath, caller: WorkerDep, p: PlatformDep) -> list[CannedOut]:
    return [CannedOut.of(c) for c in await content.canned_for(p, caller.scope, interaction_id)]


# ---- search -------------------------------------------------------------------------------------------
class SearchResultOut(Out):
    kind: Literal["article", "referral"]
    id: str
    title: str = Field(description="the article's title or the referral entry's name")
    snippet: str = Field(description="at most 200 characters around the first match")
    tags: list[str] | None = Field(None, description="an article's tags")
    target: str | None = Field(None, description="where a transfer to a referral entry goes")
    phone: str | None = None
    url: str | None = None


@router.get("/api/v1/search", response_model=list[SearchResultOut], tags=["knowledge"],
            summary="Search a program's knowledge articles and referral directory at once")
async def search(caller: WorkerDep, p: PlatformDep, program_id: Annotated[Ref, Query()],
                 q: Annotated[str, Query(max_length=200, description="every word must occur; empty lists all")] = "",
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[SearchResultOut]:
    """Title (or name) matches first, then tag matches, then the rest; alphabetically within each."""
    found = await content.knowledge_search(p, caller.scope, program_id, q)
    return [SearchResultOut(**r) for r in found[:limit]]


# ---- workflow dry run ---------------------------------------------------------------------------------
class WorkflowDraft(In):
    program_id: Ref
    name: Name | None = Field(None, description="not needed to check the routes")
    routes: list[RouteIn] = Field(default_factory=list, max_length=50)
    default_target: TargetIn


class WorkflowCheckOut(Out):
    valid: Literal[True] = True


@router.post("/api/v1/workflows/validate", response_model=WorkflowCheckOut, tags=["workflows"],
             summary="Check a workflow as saving it would, without saving it")
async def validate_workflow(body: WorkflowDraft, caller: WatcherDep, p: PlatformDep) -> WorkflowCheckOut:
    """200 `{"valid": true}`, or the error that POST /api/v1/workflows would answer: 422
    `invalid-expression` with `details.field` (e.g. `routes[0].filter`) and `details.position`,
    or `invalid-input` naming the field (e.g. an unknown queue). Admin only."""
    await admin.get_program(p, caller.scope, body.program_id)
    caller.require(Role.ADMIN)
    await admin.validate_workflow(p, caller.scope, Workflow(
        "", caller.scope.operator_id, "", body.program_id, body.name or "draft",  # type: ignore[arg-type]
        tuple(Route(r.name, r.filter, tuple(t.to_domain() for t in r.targets)) for r in body.routes),
        body.default_target.to_domain()))
    return WorkflowCheckOut()
