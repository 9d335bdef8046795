"""Who is calling: bearer tokens and session cookies, roles, and the request's services.

A caller is resolved from `Authorization: Bearer <token>` or, for the browser, from the
`hearthline_session` cookie, which holds the same kind of token signed with the secret key
(itsdangerous), so a forged or stale cookie is refused before the store is asked.

Role rules are checked on every route (see docs in each routes module). An object outside the
caller's scope is `not-found` whatever the role: routes that change an object look it up in the
caller's scope first and check the role second, so a client viewer learns nothing about another
tenant from a 403.
"""
from __future__ import annotations

from typing import Annotated, NamedTuple
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from starlette.requests import HTTPConnection
from fastapi.security import APIKeyCookie, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ...bootstrap import Components
from ...config import Settings
from ...domain.errors import AuthenticationFailed, PermissionDenied
from ...domain.organization import Role, Scope, User
from ...services.platform import Platform

SESSION_COOKIE = "hearthline_session"
_SALT = "hearthline-session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

STAFF = (Role.ADMIN, Role.SUPERVISOR)
WATCHERS = (Role.ADMIN, Role.SUPERVISOR, Role.CLIENT_VIEWER)
EVERYONE = tuple(Role)


class Caller(NamedTuple):
    """The authenticated user and what she may see; unpacks as `(user, scope)`."""

    user: User
    scope: Scope

    @property
    def role(self) -> Role:
        return self.scope.role

    def require(self, *roles: Role) -> None:
        """PermissionDenied unless the caller has one of `roles`."""
        require_role(self.scope, *roles)


def require_role(scope: Scope, *roles: Role) -> None:
    if scope.role not in roles:
        raise PermissionDenied(f"the {scope.role.value} role may not do this",
                               role=scope.role.value, allowed=sorted(r.value for r in roles))


def components(connection: HTTPConnection) -> Components:
    return connection.app.state.components


def platform(request: Request) -> Platform:
    return request.app.state.components.platform


PlatformDep = Annotated[Platform, Depends(platform)]


# ---- session cookies --------------------------------------------------------------------------
def session_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.resolve_secret_key(), salt=_SALT)


def _serializer(connection: HTTPConnection) -> URLSafeTimedSerializer:
    serializer = getattr(connection.app.state, "session_serializer", None)
    if serializer is None:
        serializer = connection.app.state.session_serializer = session_serializer(components(connection).settings)
    return serializer


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """Put the session token, signed, in an HttpOnly, SameSite=Lax cookie for the whole site
    (Secure when the public URL is https)."""
    response.set_cookie(
        SESSION_COOKIE, session_serializer(settings).dumps(token), max_age=settings.session_max_age_seconds,
        path="/", httponly=True, samesite="lax", secure=settings.effective_public_url().startswith("https://"),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def cookie_token(connection: HTTPConnection, cookie: str | None) -> str | None:
    """The token inside a session cookie, or None if it is missing, forged or too old."""
    if not cookie:
        return None
    max_age = components(connection).settings.session_max_age_seconds
    try:
        token = _serializer(connection).loads(cookie, max_age=max_age)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def presented_token(request: Request) -> tuple[str | None, bool]:
    """(token, from_cookie): the bearer token if given, else the session cookie's."""
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        return token, False
    return cookie_token(request, request.cookies.get(SESSION_COOKIE)), True


def same_origin(connection: HTTPConnection) -> bool:
    """False if an `Origin` header names another site than the one asked (`Host`) or the
    configured public URL (behind a proxy that rewrites Host)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    netloc = urlsplit(origin).netloc
    public = urlsplit(components(connection).settings.effective_public_url()).netloc
    return netloc in (connection.headers.get("host", ""), public)


# ---- dependencies -----------------------------------------------------------------------------
async def current_user(request: Request) -> Caller:
    """The caller, from the bearer token or the session cookie. Raises AuthenticationFailed.

    A change made with the cookie must come from our own pages: a browser sends the cookie on
    same-site requests only (SameSite=Lax), and a cross-origin `Origin` header is refused too."""
    cached = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    token, from_cookie = presented_token(request)
    if token is None:
        raise AuthenticationFailed("authentication required: send a bearer token or log in")
    if from_cookie and request.method not in _SAFE_METHODS and not same_origin(request):
        raise PermissionDenied("cross-origin request with a session cookie")
    user, scope = await components(request).auth.authenticate(token)
    caller = Caller(user, scope)
    request.state.caller = caller
    request.state.token = token
    return caller


async def optional_user(request: Request) -> Caller | None:
    """The caller, or None if the request carries no valid credentials (for HTML pages)."""
    try:
        return await current_user(request)
    except (AuthenticationFailed, PermissionDenied):
        return None


# These only describe the two ways in for the OpenAPI document; current_user reads the request.
_bearer_scheme = HTTPBearer(auto_error=False, description="an API token from POST /api/v1/auth/token")
_cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="the browser session")


async def authenticated(request: Request, _bearer: Annotated[object, Depends(_bearer_scheme)],
                        _cookie: Annotated[object, Depends(_cookie_scheme)]) -> Caller:
    return await current_user(request)


def require_roles(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency: the caller, if her role is one of `roles`; else 403 permission-denied."""

    async def dependency(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        caller.require(*roles)
        return caller

    return dependency


CallerDep = Annotated[Caller, Depends(authenticated)]
AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]
StaffDep = Annotated[Caller, Depends(require_roles(*STAFF))]
WatcherDep = Annotated[Caller, Depends(require_roles(*WATCHERS))]
WorkerDep = Annotated[Caller, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR, Role.AGENT))]
