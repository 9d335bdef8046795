"""Errors on the wire: one table from error code to HTTP status, and the handlers that answer
every failure as JSON `{"error": code, "message": str, "details": {...}}`.

Domain errors carry a code and never a status; this module is the one place that decides the
status. The same table generates docs/ERRORS.md (`python -m hearthline.entrypoints.web.errors`),
and a test fails if a code is missing from it or from the docs.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...domain.errors import ERROR_CODES, DomainError

log = logging.getLogger(__name__)

# Codes that only the HTTP layer produces (the protocol itself, not a use case).
HTTP_ERROR_CODES: dict[str, str] = {
    "method-not-allowed": "The path exists but does not accept this HTTP method.",
}

STATUS_BY_CODE: dict[str, int] = {
    "not-found": 404,
    "invalid-input": 422,
    "invalid-expression": 422,
    "invalid-transition": 409,
    "conflict": 409,
    "permission-denied": 403,
    "authentication-failed": 401,
    "rate-limited": 429,
    "body-too-large": 413,
    "unavailable": 503,
    "internal-error": 500,
    "method-not-allowed": 405,
}

# Starlette raises HTTPException for protocol-level failures; give each a code of the table.
_CODE_BY_STATUS = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large", 401: "authentication-failed",
                   403: "permission-denied", 429: "rate-limited"}


def all_codes() -> dict[str, str]:
    """Every code a client may receive, with its meaning."""
    return {**ERROR_CODES, **HTTP_ERROR_CODES}


def status_of(code: str) -> int:
    return STATUS_BY_CODE.get(code, 500)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": code, "message": message, "details": details or {}}


def error_response(code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status_of(code), headers=headers)


def _headers_for(code: str, details: dict[str, Any]) -> dict[str, str] | None:
    if code == "authentication-failed":
        return {"WWW-Authenticate": "Bearer"}
    if code == "rate-limited":
        return {"Retry-After": str(int(details.get("retry_after_seconds", 60)))}
    return None


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    """Details come from domain code; keep only what JSON can carry."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if value is None or isinstance(value, (str, int, float, bool)):
            out[key] = value
        elif isinstance(value, (list, tuple, set, frozenset)):
            out[key] = [v if isinstance(v, (str, int, float, bool)) or v is None else str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def domain_error_response(err: DomainError) -> JSONResponse:
    details = _jsonable(err.details)
    if err.code == "internal-error":
        reference = uuid.uuid4().hex[:12]
        log.error("internal error %s: %s", reference, err.message)
        return error_response("internal-error", "an internal error occurred; quote the reference",
                              {"reference": reference})
    return error_response(err.code, err.message, details, _headers_for(err.code, details))


def _field_name(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_details(errors: Sequence[Any]) -> dict[str, Any]:
    """`{"field": first field, "errors": [{"field", "message", "type"}...]}` — never the input
    values (they may be passwords) nor pydantic's context objects."""
    items = [{"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", "")), "type": str(e.get("type", ""))}
             for e in errors]
    return {"field": items[0]["field"] if items else "", "errors": items[:50]}


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return domain_error_response(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc.errors())
    message = f"{details['field']}: {details['errors'][0]['message']}" if details["errors"] else "invalid input"
    return error_response("invalid-input", message, details)


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code)
    if code is None:
        code = "invalid-input" if 400 <= exc.status_code < 500 else "internal-error"
    message = {"not-found": "no such path", "method-not-allowed": "method not allowed"}.get(code, str(exc.detail))
    # The table decides the status: a malformed multipart body (Starlette's 400) is invalid-input, 422.
    return JSONResponse(error_body(code, message), status_code=status_of(code), headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    response = JSONResponse(body, status_code=status, headers=headers)
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class CatchAllMiddleware:
    """An unexpected exception becomes a 500 `internal-error` with a reference that is logged
    with the traceback; the client never sees the traceback. (Starlette's own handler would
    re-raise after answering, so the server logs it a second time.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("internal error %s on %s %s", reference, scope.get("method"), scope.get("path"))
            if not started:
                await _send_json(send, 500, error_body(
                    "internal-error", "an internal error occurred; quote the reference", {"reference": reference}))


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413 `body-too-large`: at once from the
    Content-Length header, or — for a chunked body, whose size is known only by reading it —
    after buffering at most `max_bytes` of it (the rest is never read)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> dict[str, Any]:
        return error_body("body-too-large", f"the request body exceeds {self.max_bytes} bytes",
                          {"max_bytes": self.max_bytes})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _send_json(send, 400, error_body("invalid-input", "bad Content-Length header",
                                                       {"field": "header.content-length"}))
                return
            if declared > self.max_bytes:
                await _send_json(send, 413, self._too_large())
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_json(send, 413, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def errors_markdown() -> str:
    """docs/ERRORS.md: every error code, its HTTP status and meaning."""
    lines = [
        "# Errors",
        "",
        "<!-- Generated by `python -m hearthline.entrypoints.web.errors > docs/ERRORS.md`;"
        " do not edit by hand. -->",
        "",
        "Every error answer of the HTTP API is a JSON object:",
        "",
        "```json",
        '{"error": "not-found", "message": "no such queue: 5f1c…", "details": {"kind": "queue", "id": "5f1c…"}}',
        "```",
        "",
        "`error` is a stable code from the table below; `message` is for people and may change;",
        "`details` depends on the code (for `invalid-input`, `field` names the field, as the path",
        "of the value joined with dots, e.g. `body.routes.0.filter`; for `invalid-expression`,",
        "`position` is the 0-based offset of the problem and `field` the expression's field).",
        "An object of another tenant or operator is reported exactly like a missing one (`not-found`).",
        "",
        "| Code | HTTP status | Meaning |",
        "| --- | --- | --- |",
    ]
    for code, meaning in all_codes().items():
        lines.append(f"| `{code}` | {status_of(code)} | {meaning} |")
    lines += [
        "",
        "`authentication-failed` answers carry `WWW-Authenticate: Bearer`; `rate-limited` answers",
        "carry `Retry-After` (seconds). An `internal-error` carries a `reference` that is logged",
        "with the failure.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(errors_markdown(), end="")
