"""Parse and serialise SIP requests and responses (RFC 3261 §7, grammar §25).

`parse_message(data, stream=...)` turns the bytes of one message into a `Request` or `Response`
and raises `SipParseError` — and nothing else — for any malformed input:

- start line: `Method SP Request-URI SP SIP/2.0` or `SIP/2.0 SP code SP reason` (§7.1, §7.2); a
  different version of a request is answered 505, a non-SIP Request-URI 416 (§8.2.2.1);
- CRLFs before the start line are ignored (§7.5); every line ends in CRLF and the header section
  in an empty line; obsolete line folding (a line starting with SP or HTAB continues the previous
  header, §7.3.1) is accepted; header names are tokens, compact forms are expanded (§7.3.3);
- list headers split on commas outside quotes and <> (§7.3.1);
- the body is Content-Length bytes. Over a stream (TCP) Content-Length is required (§18.3); over
  UDP a missing one means "to the end of the datagram", extra bytes after it are discarded, and a
  Content-Length larger than what arrived is an error;
- mandatory headers are checked and parsed: Via, From, To, Call-ID, CSeq (number ≤ 2**31−1 and,
  in a request, the request's method — §8.1.1.5), Max-Forwards 0–255 (§20.22) when present;
- limits (`ParseLimits`): message size (513 Message Too Large), header count and line length.

`make_response` builds a response to a request as §8.2.6 says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from hearthline.sip.errors import SipParseError
from hearthline.sip.headers import (
    LIST_HEADERS,
    CSeq,
    Headers,
    Via,
    canonical_name,
    parse_cseq,
    parse_via,
)
from hearthline.sip.syntax import is_token, parse_int, split_outside
from hearthline.sip.uri import Address, SipUri, parse_address, parse_uri

SIP_VERSION = "SIP/2.0"

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 413: "Request Entity Too Large",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    421: "Extension Required", 423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
    501: "Not Implemented", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large", 600: "Busy Everywhere",
    603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}

_STATUS_LINE_RE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9]) ([^\x00-\x08\x0a-\x1f\x7f]*)", re.ASCII)
_CALL_ID_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+)?",
                         re.ASCII)
_PLACEHOLDER_URI = SipUri(host="invalid")


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep a hostile peer from making the parser work or hold memory without end."""

    max_message_size: int = 65535
    max_headers: int = 128
    max_line_length: int = 8192


DEFAULT_LIMITS = ParseLimits()


class _Accessors:
    """Typed views of the headers every message has; the parser has validated them."""

    headers: Headers

    @property
    def vias(self) -> list[Via]:
        return [parse_via(value) for value in self.headers.get_all("Via")]

    @property
    def top_via(self) -> Via:
        value = self.headers.get("Via")
        if value is None:
            raise SipParseError("no Via header")
        return parse_via(value)

    @property
    def from_(self) -> Address:
        return parse_address(self._required("From"))

    @property
    def to(self) -> Address:
        return parse_address(self._required("To"))

    @property
    def call_id(self) -> str:
        return self._required("Call-ID")

    @property
    def cseq(self) -> CSeq:
        return parse_cseq(self._required("CSeq"))

    @property
    def max_forwards(self) -> int | None:
        value = self.headers.get("Max-Forwards")
        return None if value is None else parse_int(value.strip(), "Max-Forwards", 255)

    def _required(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise SipParseError(f"no {name} header")
        return value


def _serialise(start_line: str, headers: Headers, body: bytes) -> bytes:
    lines = [start_line]
    for name, value in headers:
        if name == "Content-Length":
            continue
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r} would break the message framing")
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


@dataclass(eq=True)
class Request(_Accessors):
    """A SIP request. `to_bytes()` writes Content-Length from the body."""

    method: str
    uri: SipUri
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def to_bytes(self) -> bytes:
        return _serialise(f"{self.method} {self.uri} {SIP_VERSION}", self.headers, self.body)


@dataclass(eq=True)
class Response(_Accessors):
    """A SIP response. `to_bytes()` writes Content-Length from the body."""

    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def to_bytes(self) -> bytes:
        return _serialise(f"{SIP_VERSION} {self.status} {self.reason}", self.headers, self.body)


Message = Request | Response


def header_section_end(data: bytes) -> int:
    """Index just past the empty line ending the header section (leading CRLFs skipped), or -1."""
    end = data.find(b"\r\n\r\n", _leading_crlf(data))
    return -1 if end < 0 else end + 4


def _leading_crlf(data: bytes) -> int:
    start = 0
    while data.startswith(b"\r\n", start):
        start += 2
    return start


def parse_message(data: bytes, *, stream: bool = False,
                  limits: ParseLimits = DEFAULT_LIMITS) -> Request | Response:
    """Parse one SIP message. `stream` is True for TCP (Content-Length required, no extra bytes).

    Raises SipParseError (with `.request` set when a response could still be built) for any
    malformed input, and for nothing else.
    """
    try:
        data = bytes(data)
    except (TypeError, ValueError) as err:
        raise SipParseError("not bytes") from err
    if len(data) > limits.max_message_size:
        raise _too_large(data, limits)
    start = _leading_crlf(data)
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        raise SipParseError("no empty line after the headers")
    head, rest = data[start:end], data[end + 4:]
    if b"\x00" in head:
        raise SipParseError("NUL byte in the header section")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SipParseError("header section is not UTF-8") from err
    lines = text.split("\r\n")
    for line in lines:
        if "\r" in line or "\n" in line:
            raise SipParseError("bare CR or LF in the header section")
        if len(line) > limits.max_line_length:
            raise SipParseError(f"line longer than {limits.max_line_length} characters")
    start_line, fields = lines[0], _unfold(lines[1:])
    if len(fields) > limits.max_headers:
        raise SipParseError(f"more than {limits.max_headers} header fields")
    headers = _parse_fields(fields)

    if start_line.startswith("SIP/"):
        match = _STATUS_LINE_RE.fullmatch(start_line)
        if match is None:
            raise SipParseError(f"bad status line: {start_line[:80]!r}")
        response = Response(int(match.group(1)), match.group(2), headers)
        _check_common(response)
        response.body = _body(headers, rest, stream, limits)
        return response

    parts = start_line.split(" ")
    if len(parts) != 3 or not is_token(parts[0]):
        raise SipParseError(f"bad request line: {start_line[:80]!r}")
    method, uri_text, version = parts
    partial = _partial_request(method, headers)
    try:
        if version != SIP_VERSION:
            if version.upper().startswith("SIP/"):
                raise SipParseError(f"unsupported version {version[:20]!r}", 505, "Version Not Supported")
            raise SipParseError(f"bad request line: {start_line[:80]!r}")
        request = Request(method, parse_uri(uri_text), headers)
        _check_common(request)
        if request.cseq.method != method:
            raise SipParseError("CSeq method does not match the request method")
        request.max_forwards  # noqa: B018 — parsed to validate it
        request.body = _body(headers, rest, stream, limits)
    except SipParseError as err:
        err.request = partial
        raise
    return request


def _too_large(data: bytes, limits: ParseLimits) -> SipParseError:
    """513 Message Too Large (§18.1.1), answerable if the header section alone is readable."""
    error = SipParseError(f"message of {len(data)} bytes is too large", 513, "Message Too Large")
    end = data.find(b"\r\n\r\n", 0, limits.max_message_size)
    if end >= 0:
        try:
            head = parse_message(data[:end + 4], limits=limits)
        except SipParseError as err:
            error.request = err.request
        else:
            error.request = head if isinstance(head, Request) else None
    return error


def _unfold(lines: list[str]) -> list[str]:
    fields: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not fields:
                raise SipParseError("continuation line before the first header")
            fields[-1] = fields[-1].rstrip(" \t") + " " + line.strip(" \t")
        else:
            fields.append(line)
    return fields


def _parse_fields(fields: list[str]) -> Headers:
    headers = Headers()
    for line in fields:
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not is_token(name):
            raise SipParseError(f"bad header line: {line[:80]!r}")
        value = value.strip(" \t")
        if canonical_name(name).lower() in LIST_HEADERS and value:
            for item in split_outside(value, ","):
                item = item.strip(" \t")
                if not item:
                    raise SipParseError(f"empty element in {canonical_name(name)}")
                headers.add(name, item)
        else:
            headers.add(name, value)
    return headers


def _check_common(message: Request | Response) -> None:
    headers = message.headers
    if not headers.get_all("Via"):
        raise SipParseError("no Via header")
    message.vias  # noqa: B018 — parsed to validate them
    for name in ("From", "To", "Call-ID", "CSeq"):
        count = len(headers.get_all(name))
        if count != 1:
            raise SipParseError(f"{'no' if count == 0 else 'more than one'} {name} header")
    message.from_  # noqa: B018
    message.to  # noqa: B018
    message.cseq  # noqa: B018
    if _CALL_ID_RE.fullmatch(message.call_id) is None:
        raise SipParseError("bad Call-ID")
    if len(headers.get_all("Max-Forwards")) > 1:
        raise SipParseError("more than one Max-Forwards header")


def _body(headers: Headers, rest: bytes, stream: bool, limits: ParseLimits) -> bytes:
    values = {value.strip() for value in headers.get_all("Content-Length")}
    if len(values) > 1:
        raise SipParseError("conflicting Content-Length headers")
    if not values:
        if stream:
            raise SipParseError("Content-Length is required over a stream transport")
        return rest
    length = parse_int(values.pop(), "Content-Length", limits.max_message_size)
    if length > len(rest):
        raise SipParseError(f"body shorter ({len(rest)} bytes) than Content-Length {length}")
    if stream and length < len(rest):
        raise SipParseError("bytes after the body of a stream message")
    return rest[:length]


def _partial_request(method: str, headers: Headers) -> Request | None:
    """A request good enough to answer with an error, if the headers a response copies are there."""
    try:
        parse_via(headers.get("Via") or "")
    except SipParseError:
        return None
    if any(len(headers.get_all(name)) != 1 for name in ("From", "To", "Call-ID", "CSeq")):
        return None
    return Request(method, _PLACEHOLDER_URI, headers)


def make_response(request: Request, status: int, reason: str | None = None, *,
                  headers: list[tuple[str, str]] | None = None, to_tag: str | None = None,
                  body: bytes = b"") -> Response:
    """A response to `request` as RFC 3261 §8.2.6.2 says.

    Copies every Via (in order), From, Call-ID and CSeq, and To — adding `to_tag` when the
    request's To has no tag and the status is not 100 (§8.2.6.2). `headers` are appended;
    Content-Length is written when serialised. Works on the partial request of a SipParseError,
    whose To may not parse: the tag is then appended to the raw value.
    """
    out = Headers()
    for value in request.headers.get_all("Via"):
        out.add("Via", value)
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = request.headers.get(name)
        if value is None:
            continue
        if name == "To" and to_tag is not None and status != 100:
            value = _with_tag(value, to_tag)
        out.add(name, value)
    for name, value in headers or []:
        out.add(name, value)
    return Response(status, reason or REASONS.get(status, "Unknown"), out, body)


def _with_tag(to_value: str, tag: str) -> str:
    try:
        address = parse_address(to_value)
    except SipParseError:
        return to_value if ";tag=" in to_value.lower() else f"{to_value};tag={tag}"
    return to_value if address.tag else str(address.with_tag(tag))
