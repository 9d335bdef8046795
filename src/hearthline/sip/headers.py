"""The header list of a SIP message and the typed headers the transaction layer reads.

RFC 3261 §7.3: header names are case-insensitive and have compact forms (§7.3.3, the table of
§20); several header fields of one name, or one field with a comma-separated list, are the same
thing for headers whose grammar is a list (§7.3.1). `Headers` keeps one entry per value, under the
full canonical name, in order. Via is §20.42 (with RFC 3581's `rport`), CSeq §20.16.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from hearthline.sip.errors import SipParseError
from hearthline.sip.syntax import (
    LWS_CHARS,
    Params,
    format_host,
    is_token,
    parse_host,
    parse_hostport,
    parse_int,
    parse_params,
)

COMPACT_FORMS = {
    "v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact", "l": "Content-Length",
    "c": "Content-Type", "k": "Supported", "s": "Subject", "e": "Content-Encoding",
    "o": "Event", "r": "Refer-To", "u": "Allow-Events", "b": "Referred-By", "x": "Session-Expires",
}

_CANONICAL = {name.lower(): name for name in (
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
    "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "In-Reply-To",
    "Max-Forwards", "MIME-Version", "Min-Expires", "Organization", "Path", "Priority",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck", "Record-Route",
    "Refer-To", "Referred-By", "Reply-To", "Require", "Retry-After", "Route", "RSeq", "Server",
    "Session-Expires", "Subject", "Subscription-State", "Supported", "Timestamp", "To",
    "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
)}

# Headers whose grammar is a comma-separated list. Not the authentication headers (their
# parameters are separated by commas) nor Date, Server, User-Agent, Subject (free text).
LIST_HEADERS = frozenset(name.lower() for name in (
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
    "Call-Info", "Contact", "Content-Encoding", "Content-Language", "Error-Info", "In-Reply-To",
    "Path", "Proxy-Require", "Record-Route", "Require", "Route", "Supported", "Unsupported",
    "Via", "Warning",
))


def canonical_name(name: str) -> str:
    """The full, conventionally capitalised name of a header (compact forms expanded)."""
    lowered = name.lower()
    if lowered in COMPACT_FORMS:
        return COMPACT_FORMS[lowered]
    return _CANONICAL.get(lowered, name)


class Headers:
    """An ordered, case-insensitive multi-map of header names to values."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(name), value) for name, value in items]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def copy(self) -> Headers:
        return Headers(self._items)

    def get(self, name: str) -> str | None:
        """The first value of `name`, or None."""
        lowered = canonical_name(name).lower()
        for key, value in self._items:
            if key.lower() == lowered:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        lowered = canonical_name(name).lower()
        return [value for key, value in self._items if key.lower() == lowered]

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_name(name), value))

    def remove(self, name: str) -> None:
        lowered = canonical_name(name).lower()
        self._items = [(key, value) for key, value in self._items if key.lower() != lowered]

    def set(self, name: str, value: str) -> None:
        """Replace every value of `name` by one value, where the first one was (else append)."""
        canonical = canonical_name(name)
        lowered = canonical.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for key, old in self._items:
            if key.lower() != lowered:
                out.append((key, old))
            elif not placed:
                out.append((canonical, value))
                placed = True
        if not placed:
            out.append((canonical, value))
        self._items = out

    def replace_first(self, name: str, value: str) -> None:
        """Replace only the first value of `name` (the top Via, for instance)."""
        lowered = canonical_name(name).lower()
        for index, (key, _) in enumerate(self._items):
            if key.lower() == lowered:
                self._items[index] = (key, value)
                return
        self._items.append((canonical_name(name), value))


_VIA_RE = re.compile(r"([^/ \t]+)[ \t]*/[ \t]*([^/ \t]+)[ \t]*/[ \t]*([^ \t;]+)[ \t]+(.+)",
                     re.ASCII | re.DOTALL)


@dataclass(frozen=True)
class Via:
    """One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;received=...;rport`."""

    transport: str
    host: str
    port: int | None = None
    params: Params = Params()

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def rport(self) -> int | None:
        """The rport value filled in by a server, or None (absent, or asked for but not filled)."""
        value = self.params.get("rport")
        return int(value) if value else None

    @property
    def wants_rport(self) -> bool:
        return "rport" in self.params

    def with_param(self, name: str, value: str | None) -> Via:
        return replace(self, params=self.params.with_param(name, value))

    @property
    def sent_by(self) -> str:
        return format_host(self.host) + (f":{self.port}" if self.port is not None else "")

    def __str__(self) -> str:
        return f"SIP/2.0/{self.transport} {self.sent_by}{self.params}"


def parse_via(text: str) -> Via:
    match = _VIA_RE.fullmatch(text.strip(LWS_CHARS))
    if match is None:
        raise SipParseError(f"bad Via: {text[:60]!r}")
    name, version, transport, rest = match.groups()
    if name.upper() != "SIP" or version != "2.0":
        raise SipParseError(f"unsupported Via protocol {name[:10]}/{version[:10]}")
    if not is_token(transport):
        raise SipParseError(f"bad Via transport: {transport[:20]!r}")
    sent_by, semicolon, param_text = rest.partition(";")
    host, port = parse_hostport(sent_by.strip(LWS_CHARS).replace(" ", "").replace("\t", ""))
    params = parse_params(semicolon + param_text)
    for key, value in params.items:
        lowered = key.lower()
        if lowered == "branch" and not value:
            raise SipParseError("empty Via branch")
        if lowered in ("received", "maddr") and (value is None or value.startswith('"')):
            raise SipParseError(f"bad Via {lowered}")
        if lowered in ("received", "maddr") and value is not None:
            parse_host(f"[{value}]" if ":" in value and not value.startswith("[") else value)
        if lowered == "rport" and value is not None:
            parse_int(value, "Via rport", 65535)
        if lowered == "ttl":
            parse_int(value or "", "Via ttl", 255)
    return Via(transport=transport.upper(), host=host, port=port, params=params)


MAX_CSEQ = 2**31 - 1
_CSEQ_RE = re.compile(r"([^ \t]+)[ \t]+([^ \t]+)", re.ASCII)


@dataclass(frozen=True)
class CSeq:
    """The CSeq header: a sequence number below 2**31 and a method (RFC 3261 §8.1.1.5, §20.16)."""

    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


def parse_cseq(text: str) -> CSeq:
    match = _CSEQ_RE.fullmatch(text.strip(LWS_CHARS))
    if match is None or not is_token(match.group(2)):
        raise SipParseError(f"bad CSeq: {text[:60]!r}")
    return CSeq(parse_int(match.group(1), "CSeq number", MAX_CSEQ), match.group(2))
