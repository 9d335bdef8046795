"""Domain errors: a stable code, a human message and details — never an HTTP status.

The web layer maps codes to statuses in one table (entrypoints/web/errors.py). Every code raised
anywhere must be listed in ERROR_CODES; a test fails on an undocumented one.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "domain-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details


class NotFound(DomainError):
    """The object does not exist, or exists outside the caller's scope (the two are not told apart)."""

    code = "not-found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"no such {kind}: {ident}", kind=kind, id=str(ident))


class InvalidInput(DomainError):
    code = "invalid-input"

    def __init__(self, field: str, message: str, **details: Any) -> None:
        super().__init__(f"{field}: {message}", field=field, **details)


class InvalidTransition(DomainError):
    """A command that the object's current state does not allow (e.g. accepting a withdrawn offer)."""

    code = "invalid-transition"


class Conflict(DomainError):
    """The command would duplicate or contradict existing data (e.g. a username already taken)."""

    code = "conflict"


class PermissionDenied(DomainError):
    code = "permission-denied"


class AuthenticationFailed(DomainError):
    code = "authentication-failed"


class RateLimited(DomainError):
    code = "rate-limited"


class Unavailable(DomainError):
    """A part this command needs is not installed or not configured on this server (e.g. the
    e-mail transcript of a chat without the e-mail component); nothing was done."""

    code = "unavailable"


# Every code that may reach a client, with its meaning. Documented in docs/ERRORS.md (generated).
ERROR_CODES: dict[str, str] = {
    "not-found": "The object does not exist or belongs to another tenant.",
    "invalid-input": "A field is missing or has a bad value; details name the field.",
    "invalid-expression": "A workflow expression does not parse; details give the position.",
    "invalid-transition": "The object's state does not allow this command now.",
    "conflict": "The command would duplicate or contradict existing data.",
    "permission-denied": "The caller's role does not allow this command.",
    "authentication-failed": "Missing, unknown or expired credentials.",
    "rate-limited": "Too many attempts; retry later.",
    "body-too-large": "The request body exceeds the configured limit.",
    "unavailable": "A part this command needs is not available on this server; nothing was done.",
    "internal-error": "An unexpected failure; it was logged with a reference.",
}
