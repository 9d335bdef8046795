"""The app in-process (Starlette's TestClient, lifespan included): quick checks of the web layer."""
from __future__ import annotations

from fastapi import Request, Response

from hearthline.entrypoints.web.deps import clear_session_cookie, optional_user, set_session_cookie
from hearthline.entrypoints.web.routes.auth import local_path

from .support import InProcess


def test_the_lifespan_starts_the_platform_and_the_api_answers(app_client: InProcess) -> None:
    assert app_client.client.get("/healthz").json() == {"status": "ok"}
    admin = app_client.admin()
    tenant = admin.ok("POST", "/tenants", 201, json={"name": "In process"})
    assert admin.ok("GET", f"/tenants/{tenant['id']}")["name"] == "In process"


def test_the_body_limit_comes_from_the_settings(app_client: InProcess) -> None:
    admin = app_client.admin()
    big = admin.post("/tenants", json={"name": "x" * 5000})  # max_body_bytes is 4096 here
    assert big.status_code == 413


def test_cookie_helpers_and_optional_user_serve_the_pages(app_client: InProcess) -> None:
    """What the HTML pages use: a session cookie made with set_session_cookie is recognised by
    optional_user; without it optional_user is None rather than an error."""
    app = app_client.client.app
    token = app_client.admin().token

    async def who(request: Request) -> dict:  # type: ignore[type-arg]
        caller = await optional_user(request)
        return {"user": caller.user.username if caller else None}

    async def issue() -> Response:
        response = Response()
        set_session_cookie(response, token, app_client.settings)  # type: ignore[arg-type]
        return response

    async def drop() -> Response:
        response = Response()
        clear_session_cookie(response)
        return response

    app.add_api_route("/test/who", who)  # type: ignore[attr-defined]
    app.add_api_route("/test/issue", issue)  # type: ignore[attr-defined]
    app.add_api_route("/test/drop", drop)  # type: ignore[attr-defined]
    client = app_client.client
    assert client.get("/test/who").json() == {"user": None}
    issued = client.get("/test/issue")
    assert "httponly" in issued.headers["set-cookie"].lower() and "secure" not in issued.headers["set-cookie"].lower()
    assert client.get("/test/who").json() == {"user": "alpha-admin"}
    client.get("/test/drop")
    assert client.get("/test/who").json() == {"user": None}


def test_only_local_paths_are_redirect_targets() -> None:
    assert local_path("/wallboard?q=1") == "/wallboard?q=1"
    for bad in ("", "wallboard", "//evil.example", "https://evil.example/x", "/\\evil", "/ok\r\nSet-Cookie: x=1",
                None):
        assert local_path(bad) == "/wallboard"


def test_absurdly_deep_json_is_refused_not_a_crash(app_client: InProcess) -> None:
    admin = app_client.admin()
    deep = b'{"name": "x", "attributes": {"a": ' + b"[" * 500 + b"]" * 500 + b"}}"
    response = admin.post("/agents", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["details"]["field"] == "body.attributes"
    nested = b"[" * 2000 + b"]" * 2000  # deeper than Python's recursion limit, within the 4 KiB body limit
    login = app_client.client.post("/api/v1/auth/token", content=nested, headers={"content-type": "application/json"})
    assert login.status_code == 422 and login.json()["error"] == "invalid-input"


def test_a_form_login_with_a_nul_character_is_just_a_failed_login(app_client: InProcess) -> None:
    response = app_client.client.post("/login", data={"username": "alpha-admin\x00", "password": "x"},
                                      follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?error=1"
