"""Server-rendered pages: login, the supervisor wallboard and the agent's minimal desk.

The pages are thin: they render a template for the logged-in user; live data arrives over the
WebSocket and the REST API, authenticated by the same session cookie.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ....domain.organization import Role
from ....domain.errors import DomainError
from ....services import admin, chat
from ..deps import optional_user

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@router.get("/")
async def home(request: Request) -> Response:
    who = await optional_user(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    user, _ = who
    return RedirectResponse("/agent" if user.role is Role.AGENT else "/wallboard", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, error: str | None = None, next: str = "/") -> Response:
    safe_next = next if next.startswith("/") and not next.startswith("//") else "/"
    return templates.TemplateResponse(request, "login.html", {"user": None, "error": error, "next": safe_next})


@router.get("/wallboard", response_class=HTMLResponse)
async def wallboard(request: Request) -> Response:
    who = await optional_user(request)
    if who is None:
        return _to_login(request)
    user, _ = who
    if user.role is Role.AGENT:
        return RedirectResponse("/agent", status_code=303)
    return templates.TemplateResponse(request, "wallboard.html", {"user": user})


@router.get("/agent", response_class=HTMLResponse)
async def agent_desk(request: Request) -> Response:
    who = await optional_user(request)
    if who is None:
        return _to_login(request)
    user, scope = who
    if user.agent_id is None:
        return RedirectResponse("/wallboard", status_code=303)
    platform = request.app.state.components.platform
    reasons = [r for r in await admin.list_pause_reasons(platform, scope) if r.code != "missed"]
    return templates.TemplateResponse(request, "agent.html", {"user": user, "pause_reasons": reasons})


@router.get("/try-chat/{program_id}", response_class=HTMLResponse)
async def try_chat(request: Request, program_id: str) -> Response:
    """A stand-in for a client's website with the program's chat widget on it — to try the chat
    as a customer would (the demo prints its address). Public, like the widget itself; it shows
    only the program's name."""
    try:
        program = await chat.public_program(request.app.state.components.platform, program_id)
    except DomainError:
        return HTMLResponse("<h1>No such program</h1>", status_code=404)
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return templates.TemplateResponse(request, "try_chat.html", {"program": program, "origin": origin})
