"""The referral directory: other resources an agent can send a customer to.

Agents "refer customers to other resources" when they cannot solve a concern themselves: a
utility's emergency line, a payment-assistance charity, the client's own back office. Each program
keeps its directory — name, phone and/or web address, and when to use it — searchable from the
desk, and a referral is made as a transfer to that external resource.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidInput

_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{2,30}$")
_URL = re.compile(r"^https?://[^\s]{1,2000}$")


@dataclass(slots=True)
class Referral:
    id: str
    operator_id: str
    tenant_id: str
    program_id: str
    name: str
    phone: str | None = None
    url: str | None = None
    when_to_use: str = ""

    @property
    def target(self) -> str:
        """Where a transfer to this resource goes: the phone number, else the web address."""
        return self.phone or self.url or ""


def check_referral(referral: Referral) -> Referral:
    """A name (1-200 characters), a phone number or an http(s) address (or both), and at most
    1,000 characters of guidance. Raises InvalidInput naming the field."""
    if not 1 <= len(referral.name.strip()) <= 200:
        raise InvalidInput("name", "must be 1 to 200 characters")
    if referral.phone is None and referral.url is None:
        raise InvalidInput("phone", "give a phone number or a url (or both)")
    if referral.phone is not None and not _PHONE.match(referral.phone):
        raise InvalidInput("phone", "digits, spaces and + ( ) . - only, 3 to 31 characters")
    if referral.url is not None and not _URL.match(referral.url):
        raise InvalidInput("url", "an http:// or https:// address")
    if len(referral.when_to_use) > 1000:
        raise InvalidInput("when_to_use", "at most 1,000 characters")
    return referral


def search(referrals: list[Referral], query: str) -> list[Referral]:
    """Entries whose name or guidance contains every word of `query` (case-insensitive); those
    matching in the name first, then by name. An empty query lists all, by name."""
    words = query.lower().split()

    def text(r: Referral) -> str:
        return f"{r.name} {r.when_to_use}".lower()

    found = [r for r in referrals if all(w in text(r) for w in words)]
    return sorted(found, key=lambda r: (not all(w in r.name.lower() for w in words), r.name.lower()))
