"""SIP URIs and addresses (RFC 3261 §19.1, §20.10, §20.20, §20.39; grammar of §25.1).

`parse_uri` reads `sip:` and `sips:` URIs: user (and the deprecated password, kept but never
printed in a repr), host (name, IPv4, or IPv6 in brackets), port, `;params` and `?headers`.
`parse_address` reads name-addr (`"Alice" <sip:a@h>;tag=1`) and addr-spec (`sip:a@h;tag=1`,
where — as §20.10 says — everything after the first ';' is a header parameter, not a URI one).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from hearthline.sip.errors import SipParseError
from hearthline.sip.syntax import (
    LWS_CHARS,
    Params,
    format_host,
    parse_hostport,
    parse_params,
    quote,
    split_outside,
    unquote,
)

_ESCAPED = r"%[0-9A-Fa-f]{2}"
_USER_RE = re.compile(rf"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|{_ESCAPED})+", re.ASCII)
_PASSWORD_RE = re.compile(rf"(?:[A-Za-z0-9\-_.!~*'()&=+$,]|{_ESCAPED})*", re.ASCII)
_PARAMCHARS_RE = re.compile(rf"(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|{_ESCAPED})+", re.ASCII)
_HEADERCHARS_RE = re.compile(rf"(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$]|{_ESCAPED})*", re.ASCII)
_DISPLAY_TOKENS_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~]+)*",
                                re.ASCII)


@dataclass(frozen=True)
class SipUri:
    """A `sip:` or `sips:` URI. IPv6 hosts are held without brackets."""

    host: str
    scheme: str = "sip"
    user: str | None = None
    port: int | None = None
    params: Params = Params()
    headers: tuple[tuple[str, str], ...] = ()
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + (f":{self.password}" if self.password is not None else "") + "@"
        port = f":{self.port}" if self.port is not None else ""
        headers = ""
        if self.headers:
            headers = "?" + "&".join(f"{name}={value}" for name, value in self.headers)
        return f"{self.scheme}:{userinfo}{format_host(self.host)}{port}{self.params}{headers}"

    @property
    def transport(self) -> str | None:
        value = self.params.get("transport")
        return value.lower() if value else None


def parse_uri(text: str) -> SipUri:
    """Parse a SIP or SIPS URI. Other schemes raise SipParseError with status 416."""
    scheme, colon, rest = text.partition(":")
    if not colon:
        raise SipParseError(f"not a URI: {text[:60]!r}")
    scheme = scheme.lower()
    if scheme not in ("sip", "sips"):
        raise SipParseError(f"unsupported URI scheme {scheme[:20]!r}", 416, "Unsupported URI Scheme")
    user = password = None
    if "@" in rest:
        userinfo, _, rest = rest.partition("@")
        user, has_password, password_text = userinfo.partition(":")
        if _USER_RE.fullmatch(user) is None:
            raise SipParseError(f"bad user in URI: {user[:40]!r}")
        if has_password:
            if _PASSWORD_RE.fullmatch(password_text) is None:
                raise SipParseError("bad password in URI")
            password = password_text
    rest, question, header_text = rest.partition("?")
    hostport, _, param_text = rest.partition(";")
    host, port = parse_hostport(hostport)
    params: list[tuple[str, str | None]] = []
    if param_text:
        for raw in param_text.split(";"):
            name, equals, value = raw.partition("=")
            if _PARAMCHARS_RE.fullmatch(name) is None or (equals and _PARAMCHARS_RE.fullmatch(value) is None):
                raise SipParseError(f"bad URI parameter: {raw[:40]!r}")
            params.append((name, value if equals else None))
    headers: list[tuple[str, str]] = []
    if question:
        for raw in header_text.split("&"):
            name, equals, value = raw.partition("=")
            if (not equals or not name or _HEADERCHARS_RE.fullmatch(name) is None
                    or _HEADERCHARS_RE.fullmatch(value) is None):
                raise SipParseError(f"bad URI header: {raw[:40]!r}")
            headers.append((name, value))
    return SipUri(host=host, scheme=scheme, user=user, port=port, params=Params(tuple(params)),
                  headers=tuple(headers), password=password)


@dataclass(frozen=True)
class Address:
    """A name-addr or addr-spec with its header parameters, as in From, To and Contact."""

    uri: SipUri
    display_name: str | None = None
    params: Params = Params()

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> Address:
        return replace(self, params=self.params.with_param("tag", tag))

    def __str__(self) -> str:
        name = f"{quote(self.display_name)} " if self.display_name else ""
        return f"{name}<{self.uri}>{self.params}"


def parse_address(text: str) -> Address:
    """Parse `[display-name] <uri> *(;param)` or `addr-spec *(;param)` (RFC 3261 §20.10)."""
    text = text.strip(LWS_CHARS)
    display_name: str | None = None
    if text.startswith('"'):
        # The display name is the quoted string up to its closing quote.
        i = 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                break
            i += 1
        if i >= len(text):
            raise SipParseError("unterminated display name")
        display_name = unquote(text[:i + 1])
        text = text[i + 1:].lstrip(LWS_CHARS)
        if not text.startswith("<"):
            raise SipParseError("display name not followed by <uri>")
    if "<" in text and not text.startswith("<"):
        before, _, _ = text.partition("<")
        before = before.strip(LWS_CHARS)
        if _DISPLAY_TOKENS_RE.fullmatch(before) is None:
            raise SipParseError(f"bad display name: {before[:40]!r}")
        display_name = before
        text = text[text.index("<"):]
    if text.startswith("<"):
        end = text.find(">")
        if end < 0:
            raise SipParseError("unterminated <uri>")
        uri_text, param_text = text[1:end], text[end + 1:]
    else:
        uri_text, semicolon, param_text = text.partition(";")
        uri_text, param_text = uri_text.rstrip(LWS_CHARS), semicolon + param_text
        if any(char in uri_text for char in ",?" + LWS_CHARS):
            raise SipParseError("an addr-spec with ',', '?' or spaces must be in <>")
    if any(part.strip(LWS_CHARS) == "" for part in split_outside(param_text, ";")[1:]):
        raise SipParseError("empty parameter")
    return Address(uri=parse_uri(uri_text), display_name=display_name or None,
                   params=parse_params(param_text))
