"""Logging in and out: API tokens (`/api/v1/auth/token`) and the browser's form login
(`POST /login`, `POST /logout`), whose session token travels in a signed cookie.

Anyone may ask for a token; failed attempts are limited per username and per client address
(`rate-limited`, 429 with Retry-After).
"""
from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from ....domain.errors import AuthenticationFailed, RateLimited
from ..deps import CallerDep, SESSION_COOKIE, clear_session_cookie, components, cookie_token, set_session_cookie
from ..schemas.auth import LoginIn, TokenOut
from ..schemas.organization import UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
forms = APIRouter(include_in_schema=False)

_LOGIN_BODY = {"required": True, "content": {
    "application/json": {"schema": LoginIn.model_json_schema()},
    "application/x-www-form-urlencoded": {"schema": LoginIn.model_json_schema()},
}}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _login_body(request: Request) -> LoginIn:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            data: Any = {k: v for k, v in form.items() if isinstance(v, str)}
        else:
            data = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # RecursionError: absurdly deep JSON
        raise RequestValidationError([{"loc": ("body",), "msg": "the body is not valid JSON or form data",
                                       "type": "json_invalid"}]) from err
    try:
        return LoginIn.model_validate(data)
    except ValidationError as err:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in err.errors()]) from err


@router.post("/token", status_code=201, response_model=TokenOut, openapi_extra={"requestBody": _LOGIN_BODY},
             summary="Log in and get an API token (JSON or form)")
async def issue_token(request: Request) -> TokenOut:
    body = await _login_body(request)
    user, token = await components(request).auth.login(
        body.username, body.password, client_address(request), kind="api", name=body.name)
    return TokenOut(access_token=token, token_type="bearer", user=UserOut.of(user))


@router.delete("/token", status_code=204, summary="Revoke the token (or session) this request presents")
async def revoke_token(request: Request, _caller: CallerDep) -> Response:
    await components(request).auth.revoke(request.state.token)
    response = Response(status_code=204)
    if request.cookies.get(SESSION_COOKIE):
        clear_session_cookie(response)
    return response


@router.get("/me", response_model=UserOut, summary="The user this request is authenticated as")
async def me(caller: CallerDep) -> UserOut:
    return UserOut.of(caller.user)


# ---- the browser's form login ----------------------------------------------------------------
def local_path(target: str | None, default: str = "/wallboard") -> str:
    """`target` if it is a path on this site ("/queues?x=1"), else `default` — never an open
    redirect to another host ("//evil.example", "https://…", "/\\evil")."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


@forms.post("/login")
async def login_form(request: Request, username: Annotated[str, Form()] = "",
                     password: Annotated[str, Form()] = "",
                     next: Annotated[str, Form()] = "") -> RedirectResponse:  # noqa: A002
    c = components(request)
    if not username or len(username) > 100 or len(password) > 200 or "\x00" in username + password:
        return RedirectResponse("/login?error=1", status_code=303)
    try:
        _user, token = await c.auth.login(username, password, client_address(request), kind="session")
    except RateLimited:
        return RedirectResponse("/login?error=rate", status_code=303)
    except AuthenticationFailed:
        return RedirectResponse("/login?error=1", status_code=303)
    response = RedirectResponse(local_path(next), status_code=303)
    set_session_cookie(response, token, c.settings)
    return response


@forms.post("/logout")
async def logout_form(request: Request) -> RedirectResponse:
    token = cookie_token(request, request.cookies.get(SESSION_COOKIE))
    if token is not None:
        await components(request).auth.revoke(token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response

