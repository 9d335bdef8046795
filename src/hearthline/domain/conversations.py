"""Conversations: the written messages of a chat or an e-mail thread, one interaction each.

A message has a sender (the customer, the agent, or the system — acknowledgements, "agent
joined"), a plain-text body, and for e-mail the sanitized HTML and the headers that thread it.
Messages are numbered 1, 2, … within their interaction; the number orders the transcript and is
what read receipts point at ("read up to 7").

Customer messages carry a tone score (−1 angry … +1 pleased); see domain/tone.py.
"""
from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import InvalidInput

MAX_CHAT_CHARS = 4_000
MAX_EMAIL_CHARS = 100_000


class Sender(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: str
    filename: str
    content_type: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass(slots=True)
class Message:
    id: str
    operator_id: str
    tenant_id: str
    interaction_id: str
    seq: int
    sender: Sender
    body: str
    created_at: datetime
    agent_id: str | None = None
    html: str | None = None
    sentiment: float | None = None
    client_ref: str | None = None
    email: dict[str, Any] | None = None
    attachments: tuple[AttachmentInfo, ...] = field(default_factory=tuple)

    def as_dict(self, *, with_html: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "interaction_id": self.interaction_id, "seq": self.seq, "sender": str(self.sender),
            "agent_id": self.agent_id, "body": self.body, "sentiment": self.sentiment,
            "client_ref": self.client_ref, "created_at": self.created_at.isoformat(),
            "attachments": [a.as_dict() for a in self.attachments],
        }
        if self.email is not None:
            out["email"] = self.email
        if with_html and self.html is not None:
            out["html"] = self.html
        return out


def clean_text(text: str, field_name: str, max_chars: int) -> str:
    """A message body as it will be stored: Unicode-normalised (NFC), control characters other
    than newline and tab removed, line ends unified, outer blank space trimmed. Raises InvalidInput
    if nothing is left or it is longer than `max_chars`."""
    if not isinstance(text, str):
        raise InvalidInput(field_name, "must be text")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co"))
    text = text.strip()
    if not text:
        raise InvalidInput(field_name, "must not be empty")
    if len(text) > max_chars:
        raise InvalidInput(field_name, f"at most {max_chars:,} characters", max_chars=max_chars)
    return text
