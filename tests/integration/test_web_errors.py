"""The web layer's error contract: one status per code, documented, and every failure as JSON."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hearthline.bootstrap import build
from hearthline.config import load_settings
from hearthline.domain import errors as domain_errors
from hearthline.domain.errors import ERROR_CODES
from hearthline.entrypoints.web.app import create_app
from hearthline.entrypoints.web.errors import STATUS_BY_CODE, all_codes, errors_markdown

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_domain_error_code_has_an_http_status() -> None:
    missing = sorted(set(ERROR_CODES) - set(STATUS_BY_CODE))
    assert not missing, f"add these codes to STATUS_BY_CODE in entrypoints/web/errors.py: {missing}"


def test_every_status_in_the_table_belongs_to_a_documented_code() -> None:
    assert set(STATUS_BY_CODE) == set(all_codes())


def test_every_error_class_raises_a_documented_code() -> None:
    classes = [c for c in vars(domain_errors).values()
               if isinstance(c, type) and issubclass(c, domain_errors.DomainError) and c is not domain_errors.DomainError]
    assert classes
    for cls in classes:
        assert cls.code in ERROR_CODES, f"{cls.__name__}.code {cls.code!r} is not in ERROR_CODES"


def test_docs_errors_md_is_generated_from_the_table() -> None:
    docs = (REPO_ROOT / "docs" / "ERRORS.md").read_text(encoding="utf-8")
    assert docs == errors_markdown(), (
        "docs/ERRORS.md is out of date; regenerate it with "
        "`python -m hearthline.entrypoints.web.errors > docs/ERRORS.md`")
    for code, status in STATUS_BY_CODE.items():
        assert f"| `{code}` | {status} |" in docs


# ---- the answers themselves ----------------------------------------------------------------------
@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The real app plus a few routes that fail on purpose."""
    settings = load_settings({"data_dir": tmp_path, "max_body_bytes": 1000}, environ={})
    app = create_app(build(settings))

    async def crash() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    async def rate_limited() -> None:
        raise domain_errors.RateLimited("slow down", retry_after_seconds=17)

    async def conflict() -> None:
        raise domain_errors.Conflict("taken", field="username")

    async def echo(body: dict) -> dict:  # type: ignore[type-arg]
        return body

    app.add_api_route("/test/crash", crash)
    app.add_api_route("/test/rate-limited", rate_limited)
    app.add_api_route("/test/conflict", conflict)
    app.add_api_route("/test/echo", echo, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _is_error(response, code: str, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == code
    return body


def test_an_unexpected_exception_is_a_500_with_a_logged_reference_and_no_traceback(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="hearthline.entrypoints.web.errors"):
        body = _is_error(client.get("/test/crash"), "internal-error", 500)
    reference = body["details"]["reference"]
    assert "hunter2" not in str(body) and "Traceback" not in str(body)
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


def test_rate_limited_carries_retry_after(client: TestClient) -> None:
    response = client.get("/test/rate-limited")
    _is_error(response, "rate-limited", 429)
    assert response.headers["retry-after"] == "17"


def test_domain_details_reach_the_client(client: TestClient) -> None:
    assert _is_error(client.get("/test/conflict"), "conflict", 409)["details"] == {"field": "username"}


def test_missing_credentials_answer_401_with_www_authenticate(client: TestClient) -> None:
    response = client.get("/api/v1/tenants")
    _is_error(response, "authentication-failed", 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_validation_error_names_the_field_with_dots(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": 5})
    body = _is_error(response, "invalid-input", 422)
    assert body["details"]["field"] == "body.password"
    assert body["details"]["errors"][0]["field"] == "body.password"
    assert "5" not in str(body["details"]["errors"][0].get("input", ""))


def test_malformed_json_is_invalid_input(client: TestClient) -> None:
    response = client.post("/test/echo", content=b"{not json", headers={"content-type": "application/json"})
    _is_error(response, "invalid-input", 422)


def test_an_unknown_path_is_a_json_404(client: TestClient) -> None:
    _is_error(client.get("/api/v1/no-such-thing"), "not-found", 404)


def test_a_wrong_method_is_a_json_405(client: TestClient) -> None:
    _is_error(client.delete("/healthz"), "method-not-allowed", 405)


def test_a_declared_body_over_the_limit_is_413(client: TestClient) -> None:
    body = _is_error(client.post("/test/echo", content=b"{" + b" " * 2000 + b"}",
                                 headers={"content-type": "application/json"}), "body-too-large", 413)
    assert body["details"]["max_bytes"] == 1000


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"a": "'
        for _ in range(50):
            yield b"x" * 100
        yield b'"}'

    response = client.post("/test/echo", content=chunks(), headers={"content-type": "application/json"})
    _is_error(response, "body-too-large", 413)


def test_a_chunked_body_under_the_limit_reaches_the_route(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"a": '
        yield b'"small"}'

    response = client.post("/test/echo", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json() == {"a": "small"}
