"""Logging in and out: API tokens, the browser's form login and its signed session cookie."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .support import PASSWORD, Server

pytestmark = pytest.mark.e2e


def test_a_token_from_login_authenticates_the_user(server: Server, http: httpx.Client) -> None:
    username = server.seeded.admins["alpha"]
    response = http.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD, "name": "ci"})
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    assert body["user"]["username"] == username and body["user"]["role"] == "admin"
    assert "password_hash" not in str(body)
    me = http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == username


def test_login_takes_form_data_too(server: Server, http: httpx.Client) -> None:
    response = http.post("/api/v1/auth/token", data={"username": server.seeded.admins["alpha"], "password": PASSWORD})
    assert response.status_code == 201 and response.json()["access_token"]


def test_a_wrong_password_is_401(server: Server, http: httpx.Client) -> None:
    response = http.post("/api/v1/auth/token", json={"username": server.seeded.admins["alpha"], "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"] == "authentication-failed"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic x"}])
def test_requests_without_a_valid_token_are_401(http: httpx.Client, headers: dict[str, str]) -> None:
    response = http.get("/api/v1/tenants", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "authentication-failed"


def test_a_revoked_token_stops_working(server: Server, http: httpx.Client) -> None:
    admin = server.admin(http)
    assert admin.get("/auth/me").status_code == 200
    assert admin.delete("/auth/token").status_code == 204
    assert admin.get("/auth/me").status_code == 401


def test_a_deactivated_user_cannot_use_her_token(world) -> None:  # type: ignore[no-untyped-def]
    supervisor = world.supervisor_api
    world.admin.ok("PATCH", f"/users/{supervisor.user['id']}", json={"active": False})
    assert supervisor.get("/auth/me").status_code == 401


# ---- the login limit, on a server of its own (it counts failures per client address) -----------
@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("strict"), {"HEARTHLINE_LOGIN_ATTEMPTS_PER_MINUTE": "3"}).start()
    try:
        yield server
    finally:
        server.stop()


def test_too_many_failed_logins_are_rate_limited(strict_server: Server) -> None:
    username = strict_server.seeded.admins["alpha"]
    with strict_server.client() as http:
        for _ in range(3):
            assert http.post("/api/v1/auth/token", json={"username": username, "password": "bad"}).status_code == 401
        refused = http.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate-limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 61
        form = http.post("/login", data={"username": username, "password": PASSWORD})
        assert form.status_code == 303 and form.headers["location"] == "/login?error=rate"


# ---- the browser's form login ---------------------------------------------------------------
def _form_login(http: httpx.Client, username: str, password: str = PASSWORD, next_: str | None = None) -> httpx.Response:
    data = {"username": username, "password": password}
    if next_ is not None:
        data["next"] = next_
    return http.post("/login", data=data)


def test_form_login_sets_a_signed_http_only_cookie_and_redirects(server: Server, http: httpx.Client) -> None:
    response = _form_login(http, server.seeded.admins["alpha"])
    assert response.status_code == 303 and response.headers["location"] == "/wallboard"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("hearthline_session=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/", "Max-Age="):
        assert attribute.lower() in cookie.lower()
    me = http.get("/api/v1/auth/me")  # the client keeps the cookie
    assert me.status_code == 200 and me.json()["username"] == server.seeded.admins["alpha"]


@pytest.mark.parametrize("next_, location", [
    ("/agent?x=1", "/agent?x=1"),
    ("https://evil.example/", "/wallboard"),
    ("//evil.example/", "/wallboard"),
    ("/\\evil.example", "/wallboard"),
])
def test_form_login_redirects_only_to_local_paths(server: Server, http: httpx.Client, next_: str,
                                                  location: str) -> None:
    response = _form_login(http, server.seeded.admins["alpha"], next_=next_)
    assert response.status_code == 303 and response.headers["location"] == location


def test_a_failed_form_login_goes_back_to_the_form(server: Server, http: httpx.Client) -> None:
    response = _form_login(http, server.seeded.admins["alpha"], password="wrong")
    assert response.status_code == 303 and response.headers["location"] == "/login?error=1"
    assert "set-cookie" not in response.headers


def test_a_forged_or_tampered_cookie_is_refused(server: Server, http: httpx.Client) -> None:
    _form_login(http, server.seeded.admins["alpha"])
    good = http.cookies["hearthline_session"]
    http.cookies.clear()
    for bad in ("some-token", good[:-2] + ("AA" if not good.endswith("AA") else "BB")):
        response = http.get("/api/v1/auth/me", headers={"Cookie": f"hearthline_session={bad}"})
        assert response.status_code == 401


def test_logout_revokes_the_session_and_clears_the_cookie(server: Server, http: httpx.Client) -> None:
    _form_login(http, server.seeded.admins["alpha"])
    cookie = http.cookies["hearthline_session"]
    response = http.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert 'hearthline_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    http.cookies.clear()
    replay = http.get("/api/v1/auth/me", headers={"Cookie": f"hearthline_session={cookie}"})
    assert replay.status_code == 401  # the token inside was revoked, not just the cookie dropped


def test_a_cookie_cannot_change_anything_from_another_site(server: Server, http: httpx.Client) -> None:
    _form_login(http, server.seeded.admins["alpha"])
    foreign = http.post("/api/v1/tenants", json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    own = http.post("/api/v1/tenants", json={"name": "From our page"}, headers={"Origin": server.base_url})
    assert own.status_code == 201

