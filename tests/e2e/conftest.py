"""Shared fixtures of the API tests: the real server as a subprocess, and the app in-process.

`Server` (tests/e2e/support.py) starts `python -m hearthline.entrypoints.cli serve --port P
--data-dir D` exactly as a user would, on a data directory seeded beforehand through the
services: two operators, alpha and beta, each with an admin. Tests that use it carry
`@pytest.mark.e2e`. `app_client` runs the same app in-process with Starlette's TestClient for
fast checks of the web layer.

Both hand out `Api` clients: a thin httpx wrapper that remembers a bearer token. Every test
builds its own data with unique names, so tests sharing a server do not see each other's objects.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hearthline.bootstrap import build
from hearthline.config import load_settings
from hearthline.entrypoints.web.app import create_app

from .support import CHROMIUM, CHROMIUM_FLAGS, Api, InProcess, Server, World, make_world, seed


def _running(tmp_path_factory: pytest.TempPathFactory, name: str, env: dict[str, str]) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp(name), env).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shared real server. Failed logins are limited per client address, and every test
    comes from 127.0.0.1, so the limit is set high here (a dedicated server tests the limit)."""
    yield from _running(tmp_path_factory, "server", {
        "HEARTHLINE_LOGIN_ATTEMPTS_PER_MINUTE": "1000", "HEARTHLINE_MAX_BODY_BYTES": "65536",
        "HEARTHLINE_OFFER_TIMEOUT_SECONDS": "60"})


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="session")
def alpha(server: Server) -> Iterator[Api]:
    """The admin of operator alpha, on the real server (one login for the session: a test that
    revokes or changes its token logs in on its own)."""
    with server.client() as client:
        yield server.admin(client, "alpha")


@pytest.fixture(scope="session")
def beta(server: Server) -> Iterator[Api]:
    """The admin of operator beta, on the real server."""
    with server.client() as client:
        yield server.admin(client, "beta")


@pytest.fixture
def world(alpha: Api) -> World:
    return make_world(alpha)


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own for the chat tests: every chat here comes from 127.0.0.1, more than the
    default allows, and agents take their time."""
    yield from _running(tmp_path_factory, "chat", {
        "HEARTHLINE_CHAT_SESSIONS_PER_MINUTE": "1000", "HEARTHLINE_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "HEARTHLINE_OFFER_TIMEOUT_SECONDS": "120"})


# ---- the app in-process -----------------------------------------------------------------------
@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[InProcess]:
    """The app run in-process by Starlette's TestClient (lifespan included) on a seeded SQLite
    data directory; a small body limit so that 413 is cheap to provoke."""
    seeded = seed(tmp_path)
    settings = load_settings({"data_dir": tmp_path, "max_body_bytes": 4096}, environ={})
    with TestClient(create_app(build(settings)), base_url="http://testserver") as client:
        yield InProcess(client, seeded, settings)


# ---- Chromium -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright, one per test module (each test opens its own
    contexts or pages). Not one per session: Playwright's sync API keeps an event loop running in
    the main thread while it is open, and later tests run their own with asyncio.run."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make system-deps`")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
