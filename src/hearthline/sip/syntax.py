"""Lexical helpers shared by the URI and header parsers (RFC 3261 §25.1 basic rules).

Every function raises `SipParseError` and nothing else on bad input. Digits are matched with
ASCII-only patterns on purpose: `int()` alone would accept "1_000" and non-ASCII digits.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from hearthline.sip.errors import SipParseError

TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_TOKEN_RE = re.compile(TOKEN, re.ASCII)
_DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)
_IPV4_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)
_HOSTNAME_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?",
    re.ASCII)
# A generic-param value: token, host (IPv6 reference included) or quoted-string (§25.1 gen-value).
_GEN_VALUE_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~\[\]:]+", re.ASCII)
LWS_CHARS = " \t"


def is_token(text: str) -> bool:
    return _TOKEN_RE.fullmatch(text) is not None


def parse_int(text: str, what: str, maximum: int) -> int:
    """A non-negative decimal integer of ASCII digits, at most `maximum`."""
    if _DIGITS_RE.fullmatch(text) is None or len(text) > 12:
        raise SipParseError(f"bad {what}: {text[:40]!r}")
    value = int(text)
    if value > maximum:
        raise SipParseError(f"{what} too large: {value}")
    return value


def parse_host(text: str) -> str:
    """A hostname, an IPv4 address, or an IPv6 reference `[...]` (returned without brackets)."""
    if text.startswith("["):
        if not text.endswith("]"):
            raise SipParseError(f"bad IPv6 reference: {text[:60]!r}")
        try:
            return str(ipaddress.IPv6Address(text[1:-1]))
        except ValueError as err:
            raise SipParseError(f"bad IPv6 address: {text[:60]!r}") from err
    if _IPV4_RE.fullmatch(text):
        if any(int(part) > 255 for part in text.split(".")):
            raise SipParseError(f"bad IPv4 address: {text!r}")
        return text
    if _HOSTNAME_RE.fullmatch(text) is None or len(text) > 255:
        raise SipParseError(f"bad host: {text[:60]!r}")
    return text


def parse_hostport(text: str) -> tuple[str, int | None]:
    """`host [":" port]`; the host may be an IPv6 reference."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError(f"bad IPv6 reference: {text[:60]!r}")
        host_text, rest = text[:end + 1], text[end + 1:]
        if rest and not rest.startswith(":"):
            raise SipParseError(f"bad host:port: {text[:60]!r}")
        port_text = rest[1:] if rest else None
    else:
        host_text, colon, port_text_ = text.partition(":")
        port_text = port_text_ if colon else None
    host = parse_host(host_text)
    port = None if port_text is None else parse_int(port_text, "port", 65535)
    return host, port


def format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def unquote(text: str) -> str:
    """The content of a quoted-string (with its quotes), quoted-pairs resolved."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise SipParseError(f"bad quoted string: {text[:60]!r}")
    out: list[str] = []
    i, end = 1, len(text) - 1
    while i < end:
        char = text[i]
        if char == "\\":
            if i + 1 >= end:
                raise SipParseError("bad quoted-pair")
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            raise SipParseError("stray quote in quoted string")
        out.append(char)
        i += 1
    return "".join(out)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_outside(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is not inside a quoted string or `<...>`."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    in_angle = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_quotes:
            current.append(char)
            if char == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
            current.append(char)
        elif char == "<" and not in_angle:
            in_angle = True
            current.append(char)
        elif char == ">" and in_angle:
            in_angle = False
            current.append(char)
        elif char == separator and not in_angle:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if in_quotes:
        raise SipParseError("unterminated quoted string")
    if in_angle:
        raise SipParseError("unterminated <")
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Params:
    """Ordered `;name[=value]` parameters; names compare case-insensitively (RFC 3261 §7.3.1)."""

    items: tuple[tuple[str, str | None], ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        for key, value in self.items:
            if key.lower() == lowered:
                return value
        return default

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lowered = name.lower()
        return any(key.lower() == lowered for key, _ in self.items)

    def with_param(self, name: str, value: str | None) -> Params:
        """These parameters with `name` set (replaced in place, else appended)."""
        lowered = name.lower()
        if name in self:
            return Params(tuple((key, value) if key.lower() == lowered else (key, old)
                                for key, old in self.items))
        return Params(self.items + ((name, value),))

    def without(self, name: str) -> Params:
        lowered = name.lower()
        return Params(tuple(item for item in self.items if item[0].lower() != lowered))

    def __str__(self) -> str:
        return "".join(f";{key}" if value is None else f";{key}={value}" for key, value in self.items)


def parse_params(text: str) -> Params:
    """Generic parameters `;name[=value]...` as in Via, From/To and Contact (§25.1 generic-param).

    `text` is empty or starts with ';'. Quoted values keep their quotes.
    """
    text = text.strip(LWS_CHARS)
    if not text:
        return Params()
    if not text.startswith(";"):
        raise SipParseError(f"expected ';' before parameters: {text[:60]!r}")
    items: list[tuple[str, str | None]] = []
    for raw in split_outside(text[1:], ";"):
        name, equals, value = raw.partition("=")
        name = name.strip(LWS_CHARS)
        if not is_token(name):
            raise SipParseError(f"bad parameter name: {name[:40]!r}")
        if not equals:
            items.append((name, None))
            continue
        value = value.strip(LWS_CHARS)
        if value.startswith('"'):
            unquote(value)
        elif _GEN_VALUE_RE.fullmatch(value) is None:
            raise SipParseError(f"bad value of parameter {name}: {value[:40]!r}")
        items.append((name, value))
    return Params(tuple(items))
