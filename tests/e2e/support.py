"""Helpers of the API tests: seeding a data directory, the real server as a subprocess, an HTTP
client per user, and a small world of objects built through the API."""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from hearthline.bootstrap import build
from hearthline.config import load_settings
from hearthline.domain.organization import Role, Scope
from hearthline.services import admin

PASSWORD = "correct-horse-battery"

# Debian's chromium, as the browser tests drive it; what they save for people to look at.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def log_in(opener: Any, server: Server, username: str, *, width: int = 1400, height: int = 950) -> Any:
    """A new page (of a Playwright browser or context) logged in as `username` through the login
    form. The page's console errors are printed, so a failing test shows them."""
    page = opener.new_page(viewport={"width": width, "height": height}) if hasattr(opener, "contexts") \
        else opener.new_page()
    page.on("pageerror", lambda e: print("PAGEERROR", e))
    page.goto(f"{server.base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Save what the page shows as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


# ---- seeding ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Seeded:
    """What `seed` made: per operator, its id and its admin's username (password: PASSWORD)."""

    operators: dict[str, str]  # name → id
    admins: dict[str, str]  # operator name → admin username


def seed(data_dir: Path, database_url: str = "") -> Seeded:
    """Create operators "alpha" and "beta", each with an admin, directly through the services."""
    settings = load_settings({"data_dir": data_dir, "database_url": database_url}, environ={})

    async def run() -> Seeded:
        platform = build(settings).platform
        platform.store.start()
        platform.store.upgrade()
        try:
            operators, admins = {}, {}
            for name in ("alpha", "beta"):
                operator = await admin.create_operator(platform, name.title())
                username = f"{name}-admin"
                await admin.create_user(platform, Scope(operator.id), username=username, password=PASSWORD,
                                        role=Role.ADMIN)
                operators[name], admins[name] = operator.id, username
            return Seeded(operators, admins)
        finally:
            await platform.stop()
            platform.store.close()

    # In a thread of its own: a test may already run an event loop here (Playwright's sync API does).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


# ---- clients ----------------------------------------------------------------------------------
@dataclass
class Api:
    """An HTTP client for one user: `api.get("/tenants")` goes to /api/v1/tenants with her token
    (paths outside the API go through `api.http`)."""

    http: httpx.Client | TestClient
    token: str | None = None
    user: dict[str, Any] = field(default_factory=dict)

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**out, **(headers or {})}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith("/api/") else "/api/v1" + path
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        return self.http.request(method, url, **kwargs)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        """The JSON of a request that must answer `status`."""
        response = self.request(method, path, **kw)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def login(self, username: str, password: str = PASSWORD) -> Api:
        """A new client, logged in as `username`."""
        response = self.http.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        body = response.json()
        return Api(self.http, body["access_token"], body["user"])


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class World:
    """One operator's setup, made through the API by its admin: tenants A and B, each with a
    program, a queue (needing `skill`) and a workflow, and an agent who has that skill. The users
    (an agent's login, a supervisor, a client viewer of A) are made on first use: hashing a
    password is deliberately slow."""

    def __init__(self, admin_api: Api) -> None:
        self.admin = admin_api
        self.tenants: dict[str, dict[str, Any]] = {}
        self.programs: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.workflows: dict[str, dict[str, Any]] = {}
        self.skill = unique("skill").lower()
        admin_api.ok("PUT", f"/skills/{self.skill}", json={"description": "test skill"})
        for key in ("A", "B"):
            self.tenants[key] = admin_api.ok("POST", "/tenants", 201, json={"name": unique(f"Tenant {key}")})
            self.programs[key] = admin_api.ok("POST", "/programs", 201,
                                              json={"tenant_id": self.tenants[key]["id"], "name": unique("Program")})
            self.queues[key] = admin_api.ok("POST", "/queues", 201, json={
                "program_id": self.programs[key]["id"], "name": unique("Queue"), "skills": {self.skill: 1}})
            self.workflows[key] = admin_api.ok("POST", "/workflows", 201, json={
                "program_id": self.programs[key]["id"], "name": unique("Workflow"),
                "routes": [{"name": "vip", "filter": 'tier == "gold"',
                            "targets": [{"queue_id": self.queues[key]["id"]}]}],
                "default_target": {"queue_id": self.queues[key]["id"]}})
        self.agent = admin_api.ok("POST", "/agents", 201, json={"name": unique("Agent"), "skills": {self.skill: 3}})

    def user(self, role: str, **extra: Any) -> Api:
        """A new user with `role`, logged in."""
        username = unique(role.replace("_", "-"))
        self.admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD, "role": role, **extra})
        return self.admin.login(username)

    @cached_property
    def agent_api(self) -> Api:
        return self.user("agent", agent_id=self.agent["id"])

    @cached_property
    def supervisor_api(self) -> Api:
        return self.user("supervisor")

    @cached_property
    def viewer_api(self) -> Api:
        """A client viewer of tenant A."""
        return self.user("client_viewer", tenant_id=self.tenants["A"]["id"])


def make_world(admin_api: Api) -> World:
    return World(admin_api)


# ---- the real server --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`hearthline serve` in a subprocess, on a seeded data directory, until `stop()`."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, database_url: str = "") -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        self.seeded = seed(data_dir, database_url)
        # Only what this test asks for: no HEARTHLINE_* leaking in from the developer's shell.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTHLINE_")}
        self.env.update(env or {})
        if database_url:
            self.env["HEARTHLINE_DATABASE_URL"] = database_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        command = [sys.executable, "-m", "hearthline.entrypoints.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--data-dir", str(self.data_dir)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz within 30 s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: uvicorn shuts down gracefully (lifespan shutdown)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def admin(self, http: httpx.Client, operator: str = "alpha") -> Api:
        return Api(http).login(self.seeded.admins[operator])


@dataclass
class InProcess:
    client: TestClient
    seeded: Seeded
    settings: Any

    def admin(self, operator: str = "alpha") -> Api:
        return Api(self.client).login(self.seeded.admins[operator])
