"""The one exception the SIP parser raises for any malformed input."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hearthline.sip.message import Request


class SipParseError(ValueError):
    """A SIP message, URI or header could not be parsed.

    `status` and `reason` are what a UAS should answer with (400 Bad Request unless a more precise
    code applies: 416, 505, 513). `request` is set when the start line and the headers a response
    needs (Via, From, To, Call-ID, CSeq) were readable, so the caller can answer with
    `make_response(err.request, err.status, err.reason)`; otherwise the message can only be dropped.
    """

    def __init__(self, message: str, status: int = 400, reason: str = "Bad Request",
                 request: Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.request = request

    def __repr__(self) -> str:
        return f"SipParseError({self.message!r}, status={self.status}, reason={self.reason!r})"
