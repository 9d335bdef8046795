"""Limits and protocol errors on the real server: body size, unknown paths, wrong methods."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .support import Api, Server

pytestmark = pytest.mark.e2e
LIMIT = 65_536  # HEARTHLINE_MAX_BODY_BYTES of the shared server


def test_a_body_declared_bigger_than_the_limit_is_413(alpha: Api) -> None:
    response = alpha.post("/tenants", content=b"{" + b" " * LIMIT + b"}", headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"error": "body-too-large", "message": f"the request body exceeds {LIMIT} bytes",
                               "details": {"max_bytes": LIMIT}}


def test_a_chunked_body_bigger_than_the_limit_is_413(alpha: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    response = alpha.post("/tenants", content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413 and response.json()["error"] == "body-too-large"


def test_a_chunked_body_within_the_limit_is_served(alpha: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"Chunked Co"}'

    response = alpha.post("/tenants", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 201 and response.json()["name"] == "Chunked Co"


def test_unknown_paths_and_wrong_methods_answer_json(server: Server, alpha: Api) -> None:
    missing = alpha.get("/no-such-resource")
    assert missing.status_code == 404 and missing.json()["error"] == "not-found"
    wrong = alpha.request("PUT", "/tenants")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method-not-allowed"
    assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}


def test_the_api_is_documented(server: Server) -> None:
    document = httpx.get(f"{server.base_url}/openapi.json").json()
    assert document["info"]["title"] == "Hearthline"
    paths = document["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/tenants", "/api/v1/interactions/{interaction_id}/transfer",
                 "/api/v1/agents/{agent_id}/offers/{offer_id}/accept", "/api/v1/stats/queues"):
        assert path in paths
    assert {"HTTPBearer", "APIKeyCookie"} <= set(document["components"]["securitySchemes"])
    assert httpx.get(f"{server.base_url}/docs").status_code == 200
