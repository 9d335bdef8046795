"""Outgoing e-mail as the services hand it to the mailer (the SMTP relay adapter)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    from_address: str | None = None  # None: the configured default sender
    from_name: str | None = None
    html: str | None = None
    message_id: str | None = None  # None: the mailer makes one
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Auto-Submitted


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> str:
        """Send it; returns the Message-ID it went out with. Raises on failure."""
        ...
