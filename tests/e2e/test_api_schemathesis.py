"""Property-based fuzzing of every operation of the OpenAPI document (schemathesis).

Valid and invalid requests, as the operator's admin, against a real server of its own (the fuzzing
fails many logins, which would trip the shared server's login limit). The one property checked is
that nothing answers a 5xx: every bad input must be refused with a 4xx in our error format.

The operations are read from the app's OpenAPI document when the module is collected (pytest
parametrizes before any server runs; schemathesis' fixture-based lazy loader does not work with
this pytest), and a test checks that the live server publishes exactly that document.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from hearthline.bootstrap import build
from hearthline.config import Settings
from hearthline.entrypoints.web.app import create_app

from .support import Api, Server, World, unique

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("fuzz"), {"HEARTHLINE_LOGIN_ATTEMPTS_PER_MINUTE": "1000000"}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fuzz_admin(fuzz_server: Server) -> Iterator[Api]:
    """The admin whose token every generated request carries."""
    with fuzz_server.client() as http:
        yield fuzz_server.admin(http)


class Targets:
    """Real objects for one operation, so that generated requests get past the lookups of their
    ids and exercise the code behind them: each operation gets its own (a DELETE must not take
    the next operation's objects away), with an agent ringing for a waiting contact."""

    def __init__(self, admin: Api) -> None:
        self.admin = admin
        world = World(admin)
        agent_id = world.agent["id"]
        admin.ok("PUT", f"/agents/{agent_id}/state", json={"state": "available"})
        call = admin.ok("POST", "/interactions", 201, json={
            "program_id": world.programs["A"]["id"], "channel": "voice", "queue_id": world.queues["A"]["id"]})
        [offer] = admin.ok("GET", f"/agents/{agent_id}/offers")
        self.ids = {"tenant_id": world.tenants["A"]["id"], "program_id": world.programs["A"]["id"],
                    "queue_id": world.queues["A"]["id"], "workflow_id": world.workflows["A"]["id"],
                    "default_workflow_id": world.workflows["A"]["id"], "agent_id": agent_id,
                    "interaction_id": call["id"], "offer_id": offer["id"]}

    def user_id(self) -> str:
        if "user_id" not in self.ids:  # made only when asked: hashing a password is slow
            self.ids["user_id"] = self.admin.ok("POST", "/users", 201, json={
                "username": unique("fuzzed"), "password": "long-enough-pw", "role": "supervisor"})["id"]
        return self.ids["user_id"]

    def substitute(self, case: Any) -> None:
        for name in list(case.path_parameters or {}):
            if name == "user_id":
                case.path_parameters[name] = self.user_id()
            elif name in self.ids:
                case.path_parameters[name] = self.ids[name]
        case.body = self._replace(case.body)

    def _replace(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.ids[k] if k in self.ids and isinstance(v, str) else self._replace(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self._replace(v) for v in value]
        return value


@pytest.fixture(scope="module")
def targets(fuzz_admin: Api) -> dict[str, Targets]:
    return {}


def _openapi_document() -> dict[str, Any]:
    """The app's document, built without touching any store (nothing connects before the lifespan)."""
    settings = Settings(data_dir=Path(tempfile.gettempdir()) / "hearthline-openapi", secret_key="schema only")
    return create_app(build(settings)).openapi()


DOCUMENT = _openapi_document()
# Revoking the very token the fuzzing uses would only turn the rest into 401s.
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path="/api/v1/auth/token", method="DELETE")


def test_the_server_publishes_this_document(fuzz_server: Server) -> None:
    assert httpx.get(f"{fuzz_server.base_url}/openapi.json").json() == DOCUMENT


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case, fuzz_admin: Api, fuzz_server: Server,  # type: ignore[no-untyped-def]
                                            targets: dict[str, Targets]) -> None:
    label = case.operation.label
    if label not in targets:
        targets[label] = Targets(fuzz_admin)
    targets[label].substitute(case)
    case.call_and_validate(base_url=fuzz_server.base_url, headers={"Authorization": f"Bearer {fuzz_admin.token}"},
                           checks=[not_a_server_error], timeout=30)


def test_the_server_logged_no_internal_error(fuzz_server: Server) -> None:
    """Runs after the fuzzing (same module, later in the file)."""
    log = fuzz_server.log()
    assert "internal error" not in log and "Traceback" not in log, log[-5000:]
