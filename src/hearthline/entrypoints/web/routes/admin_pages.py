"""The admin pages: an index and one page per kind of setup (programs, queues, workflows, agents …).

Each page is a template and a small ES module that lists, creates, changes and deletes through the
REST API with the session cookie; the API checks every change again. Admins only: someone not
logged in is sent to log in, anyone else to her own home page (as /wallboard sends agents away).
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from ....domain.organization import Role
from ..deps import optional_user

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


class AdminPage(NamedTuple):
    slug: str  # the path under /admin/ and the name of its module, static/admin-<slug>.js
    title: str
    about: str
    per_program: bool  # the page works on one program at a time (a picker at the top)


PAGES = (
    AdminPage("programs", "Programs", "Client companies, their programs, and each program's dispositions.", False),
    AdminPage("queues", "Queues", "Where contacts wait: strategy, required skills, service level.", True),
    AdminPage("workflows", "Workflows", "Routes with filters, targets and overflow; expressions checked as you type.",
              True),
    AdminPage("agents", "Agents", "People who take contacts: skills (1–5), languages, capacity, login.", False),
    AdminPage("skills", "Skills", "The skills queues require and agents hold.", False),
    AdminPage("pause-reasons", "Pause reasons", "Why an agent is paused, and whether that time is paid.", False),
    AdminPage("dispositions", "Dispositions", "How a contact of a program ended, chosen by the agent at wrap-up.",
              True),
    AdminPage("scripts", "Scripts", "Step-by-step call scripts with branches, per program or queue.", True),
    AdminPage("knowledge", "Knowledge", "Articles agents search from the desk.", True),
    AdminPage("canned-responses", "Canned responses", "Prepared answers for chats and e-mails.", True),
    AdminPage("referrals", "Referral directory", "Other resources agents refer customers to.", True),
)
_BY_SLUG = {page.slug: page for page in PAGES}


async def _admin_or_redirect(request: Request) -> tuple[object, Response | None]:
    who = await optional_user(request)
    if who is None:
        return None, RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    user, _ = who
    if user.role is not Role.ADMIN:
        return None, RedirectResponse("/", status_code=303)
    return user, None


@router.get("/admin", response_class=HTMLResponse)
async def admin_index(request: Request) -> Response:
    user, away = await _admin_or_redirect(request)
    if away is not None:
        return away
    return templates.TemplateResponse(request, "admin.html", {"user": user, "pages": PAGES})


@router.get("/admin/{slug}", response_class=HTMLResponse)
async def admin_page(request: Request, slug: str) -> Response:
    user, away = await _admin_or_redirect(request)
    if away is not None:
        return away
    page = _BY_SLUG.get(slug)
    if page is None:
        raise HTTPException(404)
    return templates.TemplateResponse(request, "admin_page.html", {"user": user, "pages": PAGES, "page": page})
