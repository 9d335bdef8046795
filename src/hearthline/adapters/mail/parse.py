"""Inbound e-mail: the raw bytes of a message (an SMTP DATA, an IMAP FETCH) → InboundMail.

The MIME structure is read by the standard library (`email`, policy.default). Real mail is often
broken — undeclared or unknown charsets, 8-bit bytes in headers, multipart bodies whose boundary
never comes, encoded words that do not decode, UTF-8 characters split across two encoded words,
no Date or Message-ID — and policy.default's header classes raise or guess on some of it. So the
headers are read here from their raw form and decoded defensively, and the parts are walked by
what they actually hold rather than by what they declare. Whatever is still an e-mail becomes an
InboundMail with what could be read; ParseError is raised only for input that is not an e-mail
(no header section at all) or that names nobody to answer (no sender address anywhere).

HTML is sanitized with nh3 before anyone sees it; see `sanitize_html` for what is kept.
"""
from __future__ import annotations

import binascii
import hashlib
import html as htmllib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

import nh3

MAX_PARTS = 500  # MIME parts looked at; a message with more keeps the first ones
MAX_DEPTH = 30  # multipart nesting
MAX_IDS = 50  # References kept (the most recent)
MAX_HEADER_CHARS = 2_000  # a decoded subject or name
MAX_ADDRESSES = 100  # per To or Cc header
MAX_HTML_CHARS = 2_000_000  # a larger HTML part is not kept (its text is)
MAX_FILENAME_CHARS = 255


class ParseError(ValueError):
    """The bytes are not an e-mail that can be taken in. `reason` says why, for the sender's
    bounce and the log; `internal` marks a failure of the parser itself (a bug to fix)."""

    def __init__(self, reason: str, *, internal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.internal = internal


@dataclass(frozen=True, slots=True)
class Address:
    address: str  # as written (compare lower-cased)
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "name": self.name}


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class DroppedAttachment:
    filename: str
    content_type: str
    size: int  # bytes (estimated from the encoded size when it was not even decoded)
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size,
                "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Limits:
    max_attachment_bytes: int = 10 * 1024 * 1024  # one attachment, decoded
    max_attachments_bytes: int = 10 * 1024 * 1024  # all attachments of one message, decoded


@dataclass(frozen=True, slots=True)
class InboundMail:
    sender: Address  # From (else Sender, else the envelope sender)
    subject: str
    message_id: str | None  # "<id@host>", None if the message has none usable
    in_reply_to: str | None
    references: tuple[str, ...]  # oldest first, at most MAX_IDS
    date: datetime | None
    text: str  # the plain text (from text/plain, else converted from the HTML); may be ""
    html: str | None  # sanitized, safe to show
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    auto_submitted: str | None = None  # lower case, e.g. "auto-replied"; "no" for a person
    precedence: str | None = None  # lower case: bulk, list, junk …
    list_id: str | None = None
    list_unsubscribe: str | None = None
    auto_reply_headers: tuple[str, ...] = ()  # other markers of machine mail that were present
    return_path: str | None = None  # the Return-Path a delivering server added; "" for <> (a bounce)
    attachments: tuple[Attachment, ...] = ()
    dropped: tuple[DroppedAttachment, ...] = ()
    notes: tuple[str, ...] = ()  # for the reader: what was left out and why
    remote_images_blocked: int = 0
    digest: str = ""  # SHA-256 of the raw bytes
    defects: tuple[str, ...] = field(default=())  # what was wrong with it, for the log

    @property
    def thread_ids(self) -> list[str]:
        """The Message-IDs this one answers, the most likely parent first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [r for r in reversed(self.references) if r != self.in_reply_to]
        return ids


# ---- entry point --------------------------------------------------------------------------------
def parse_message(raw: bytes, limits: Limits = Limits(), *, fallback_sender: str | None = None) -> InboundMail:
    """Parse one message. `fallback_sender` (the SMTP envelope sender) is used when the headers
    name no sender. Raises ParseError and nothing else."""
    if not isinstance(raw, (bytes, bytearray)):
        raise ParseError("not bytes")
    if not raw.strip():
        raise ParseError("the message is empty")
    try:
        return _parse(bytes(raw), limits, fallback_sender)
    except ParseError:
        raise
    except RecursionError as err:
        raise ParseError("the message is nested too deeply") from err
    except Exception as err:  # the stdlib parser on input nobody foresaw: refuse the message, never crash
        raise ParseError(f"the message could not be read ({type(err).__name__})", internal=True) from err


def _parse(raw: bytes, limits: Limits, fallback_sender: str | None) -> InboundMail:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    headers = _raw_headers(msg)
    if not headers:
        raise ParseError("no header fields: this is not an e-mail")
    sender = _first_address(headers, "from") or _first_address(headers, "sender")
    if sender is None and fallback_sender:
        sender = _address_of(fallback_sender)
    if sender is None:
        raise ParseError("no sender address (From)")
    collected = _Collected(limits)
    _visit(msg, 0, collected)
    text = "\n\n".join(t for t in collected.texts if t.strip())
    html: str | None = None
    blocked = 0
    raw_html = "\n".join(collected.htmls)
    if raw_html.strip():
        if len(raw_html) > MAX_HTML_CHARS:
            collected.notes.append("The HTML version of this e-mail was too large to keep; its text is kept.")
        else:
            html, blocked = sanitize_html(raw_html)
        if not text.strip():
            text = html_to_text(raw_html)
    defects = [type(d).__name__ for d in getattr(msg, "defects", [])][:20] + collected.defects
    return InboundMail(
        sender=sender, subject=_header_text(headers, "subject"),
        message_id=_first(_ids(headers, "message-id")), in_reply_to=_first(_ids(headers, "in-reply-to")),
        references=tuple(_unique(_ids(headers, "references"))[-MAX_IDS:]), date=_date(headers),
        text=text, html=html, to=_addresses(headers, "to"), cc=_addresses(headers, "cc"),
        reply_to=_addresses(headers, "reply-to"),
        auto_submitted=_token(headers, "auto-submitted"), precedence=_token(headers, "precedence"),
        list_id=_header_text(headers, "list-id") or None,
        list_unsubscribe=_header_text(headers, "list-unsubscribe") or None,
        auto_reply_headers=tuple(n for n in _AUTO_REPLY_MARKERS if _auto_marker(headers, n)),
        return_path=_return_path(headers),
        attachments=tuple(collected.attachments), dropped=tuple(collected.dropped), notes=tuple(collected.notes),
        remote_images_blocked=blocked, digest=hashlib.sha256(raw).hexdigest(), defects=tuple(defects),
    )


# ---- headers ------------------------------------------------------------------------------------
# Set by autoresponders that do not send Auto-Submitted (Microsoft, various vacation scripts).
_AUTO_REPLY_MARKERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress", "x-autogenerated")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")
_MSG_ID = re.compile(r"<([\x21-\x3b\x3d\x3f-\x7e]{1,900})>")  # printable ASCII but < and >
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*=*$")
_BARE_ID = re.compile(r"^[\x21-\x3b\x3d\x3f-\x7e]{1,900}$")


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    """Header name (lower case) → raw values, 8-bit bytes decoded, unfolded, encoded words not
    yet decoded (addresses must be split before their names are decoded)."""
    found: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        if isinstance(name, str) and isinstance(value, str):
            found.setdefault(name.strip().lower(), []).append(_unfold(_undo_8bit(value)))
    return found


def _undo_8bit(value: str) -> str:
    """The parser keeps 8-bit header bytes as surrogate escapes: decode them as UTF-8 (RFC 6532),
    else Windows-1252 (what senders without a declared charset mostly mean)."""
    if value.isascii():
        return value
    try:
        data = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return scrub(value)
    return decode_bytes(data, None)


def _unfold(value: str) -> str:
    return value.replace("\r\n", "").replace("\n", "").replace("\r", "")


def _clean(value: str, limit: int = MAX_HEADER_CHARS) -> str:
    return _SPACES.sub(" ", _CONTROL.sub(" ", scrub(value))).strip()[:limit]


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words. Adjacent words in the same charset are joined before
    decoding (senders split UTF-8 characters across words); white space between encoded words
    is dropped (RFC 2047 §6.2); a word that does not decode is kept as written."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: tuple[str, bytearray] | None = None  # charset, bytes of adjacent words
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position:match.start()]
        charset = match.group(1).split("*", 1)[0].lower()
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:  # not decodable: keep the text as it is
            if pending is not None:
                out.append(decode_bytes(bytes(pending[1]), pending[0]))
                pending = None
            out.append(between + match.group(0))
        elif pending is not None and not between.strip() and pending[0] == charset:
            pending[1].extend(data)
        else:
            if pending is not None:
                out.append(decode_bytes(bytes(pending[1]), pending[0]))
                if between.strip():
                    out.append(between)
            else:
                out.append(between)
            pending = (charset, bytearray(data))
        position = match.end()
    if pending is not None:
        out.append(decode_bytes(bytes(pending[1]), pending[0]))
    out.append(value[position:])
    return "".join(out)


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "bB":
            if not _BASE64.match(text):
                return None
            return binascii.a2b_base64(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
        return binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def _header_text(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return _clean(decode_words(values[0])) if values else ""


def _token(headers: dict[str, list[str]], name: str) -> str | None:
    """The first word of a header such as Auto-Submitted: "auto-replied; owner-email=…" → "auto-replied"."""
    word = _header_text(headers, name).split(";", 1)[0].strip().lower()[:100]
    return word or None


def _auto_marker(headers: dict[str, list[str]], name: str) -> bool:
    values = headers.get(name)
    if not values:
        return False
    if name == "x-auto-response-suppress":  # Microsoft: set on mail that must not be answered
        words = {w.strip().lower() for w in _clean(values[0]).split(",")}
        return bool(words & {"all", "autoreply", "oof"})
    return True


def _return_path(headers: dict[str, list[str]]) -> str | None:
    values = headers.get("return-path")
    if not values:
        return None
    value = _clean(values[0])  # the topmost: added by the server that delivered it to us
    if value.replace(" ", "") in ("<>", ""):
        return ""
    found = _address_of(value)
    return found.address if found else None


def _address_of(text: str) -> Address | None:
    found = _parse_addresses([text])
    return found[0] if found else None


def _first_address(headers: dict[str, list[str]], name: str) -> Address | None:
    found = _parse_addresses(headers.get(name, [])[:1])
    return found[0] if found else None


def _addresses(headers: dict[str, list[str]], name: str) -> tuple[Address, ...]:
    return tuple(_parse_addresses(headers.get(name, [])[:5])[:MAX_ADDRESSES])


def valid_address(address: str) -> bool:
    """A plausible addr-spec: local@domain, at most 320 characters, no spaces or controls."""
    if not 3 <= len(address) <= 320 or address.count("@") < 1:
        return False
    local, _, domain = address.rpartition("@")
    if not local or not domain or "." not in domain.strip(".") and domain != "localhost":
        return False
    return not any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>(),;:"[]\\' for c in domain) and not any(
        c.isspace() or ord(c) < 32 or ord(c) == 127 or c in "<>" for c in local)


def _parse_addresses(values: list[str]) -> list[Address]:
    out: list[Address] = []
    try:
        pairs = getaddresses([v[:20_000] for v in values])
    except Exception:  # the stdlib address parser on garbage: no addresses rather than a crash
        return out
    for name, address in pairs:
        address = scrub(address).strip()
        if not valid_address(address):
            continue
        display = _clean(decode_words(name)) or None
        out.append(Address(address, display))
    return out


def _ids(headers: dict[str, list[str]], name: str) -> list[str]:
    values = headers.get(name)
    if not values:
        return []
    value = values[0]
    found = [f"<{m}>" for m in _MSG_ID.findall(value)]
    if not found:  # some mailers leave out the angle brackets
        token = value.strip()
        if "@" in token and _BARE_ID.match(token):
            found = [f"<{token}>"]
    return found


def _first(items: list[str]) -> str | None:
    return items[0] if items else None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _date(headers: dict[str, list[str]]) -> datetime | None:
    values = headers.get("date")
    if not values:
        return None
    try:
        when = parsedate_to_datetime(_clean(values[0]))
    except Exception:  # TypeError/ValueError/IndexError/OverflowError on the many broken date formats
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


# ---- text ---------------------------------------------------------------------------------------
_CHARSET_ALIASES = {"iso-8859-8-i": "iso-8859-8", "iso-8859-6-i": "iso-8859-6", "x-sjis": "shift_jis",
                    "utf8mb4": "utf-8", "ks_c_5601-1987": "cp949", "windows-874": "cp874"}
_NO_CHARSET = frozenset({"unknown-8bit", "x-unknown", "unknown", "default", "x-user-defined", ""})


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in a declared charset that may be wrong or unknown: the declared one if
    it decodes cleanly, else UTF-8 if that does, else Windows-1252 with replacement characters.
    Never raises; the result has no NUL and no lone surrogates."""
    candidates: list[str] = []
    if charset:
        name = charset.strip().strip('"').strip("'").lower()
        name = _CHARSET_ALIASES.get(name, name)
        if name not in _NO_CHARSET:
            candidates.append(name)
    candidates.append("utf-8")
    for name in candidates:
        try:
            return scrub(data.decode(name))
        except Exception:  # LookupError, UnicodeError, and whatever an exotic codec raises
            continue
    return scrub(data.decode("cp1252", "replace"))


def scrub(text: str) -> str:
    """No NUL (PostgreSQL cannot store it) and no lone surrogates (they cannot be encoded)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


# ---- the parts ----------------------------------------------------------------------------------
@dataclass
class _Collected:
    limits: Limits
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    dropped: list[DroppedAttachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts: int = 0
    kept_bytes: int = 0
    cut: bool = False


def _visit(part: Message, depth: int, c: _Collected) -> None:
    c.parts += 1
    if c.parts > MAX_PARTS or depth > MAX_DEPTH:
        if not c.cut:
            c.cut = True
            c.defects.append("TooManyParts")
            c.notes.append(f"This e-mail has more than {MAX_PARTS} parts or is nested more than {MAX_DEPTH} "
                           "deep; the parts beyond that were not read.")
        return
    ctype = _content_type(part)
    if part.is_multipart():
        payload = part.get_payload()
        if ctype.startswith("message/"):  # a forwarded e-mail: kept whole, as an .eml attachment
            _forwarded(part, payload, c)
            return
        for sub in payload if isinstance(payload, list) else ():
            if isinstance(sub, Message):
                _visit(sub, depth + 1, c)
        return
    disposition = _disposition(part)
    filename = _filename(part)
    if ctype.startswith("multipart/"):
        # Declared multipart but the boundary never came: the parser left it as one text. Keep it
        # as the body rather than lose it (the reader sees the raw MIME).
        c.texts.append(_text_of(part))
        return
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        (c.texts if ctype == "text/plain" else c.htmls).append(_text_of(part))
        return
    _attachment(part, ctype, filename, c)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()[:255]
    except Exception:  # a Content-Type header the stdlib cannot read
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    for getter in (part.get_filename, lambda: part.get_param("name")):
        try:
            name = getter()
        except Exception:
            continue
        if isinstance(name, tuple):  # an RFC 2231 value not collapsed
            name = name[2] if len(name) == 3 and isinstance(name[2], str) else None
        if isinstance(name, str) and name.strip():
            return _safe_filename(decode_words(_undo_8bit(name)))
    return None


def _safe_filename(name: str) -> str:
    """The last path component, without controls, at most 255 characters (keeping the extension)."""
    name = _clean(name.replace("\\", "/").rsplit("/", 1)[-1], 10_000).strip(". ")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[:MAX_FILENAME_CHARS - len(ext) - 1] + ("." + ext if ext else "")
    return name


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # an RFC 2231 charset parameter in an unknown charset, and the like
        return None


def _text_of(part: Message) -> str:
    return decode_bytes(_payload_bytes(part), _charset(part))


def _estimated_size(part: Message) -> int:
    raw = part.get_payload()
    if not isinstance(raw, str):
        return 0
    try:
        encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    except Exception:
        encoding = ""
    if encoding == "base64":
        return (len(raw) - raw.count("\n") - raw.count("\r")) * 3 // 4
    return len(raw)


def _attachment(part: Message, ctype: str, filename: str | None, c: _Collected) -> None:
    name = filename or f"attachment-{len(c.attachments) + len(c.dropped) + 1}{_extension(ctype)}"
    estimate = _estimated_size(part)
    if estimate > c.limits.max_attachment_bytes * 1.05:  # do not even decode it
        _drop(c, name, ctype, estimate, "per attachment")
        return
    data = _payload_bytes(part)
    _keep(c, name, ctype, data)


def _forwarded(part: Message, payload: Any, c: _Collected) -> None:
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    subject = ""
    data = b""
    if inner is not None:
        try:
            subject = _clean(decode_words(_undo_8bit(str(inner.get("subject", "") or ""))), 100)
        except Exception:
            subject = ""
        try:
            data = inner.as_bytes(policy=policy.compat32.clone(max_line_length=0))
        except Exception:  # the generator cannot write some malformed headers back
            c.notes.append("A forwarded e-mail in this message could not be extracted and was not kept.")
            c.defects.append("ForwardedNotExtracted")
            return
    name = _safe_filename((subject or "forwarded message") + ".eml")
    _keep(c, name, "message/rfc822", data)


def _keep(c: _Collected, name: str, ctype: str, data: bytes) -> None:
    if len(data) > c.limits.max_attachment_bytes:
        _drop(c, name, ctype, len(data), "per attachment")
    elif c.kept_bytes + len(data) > c.limits.max_attachments_bytes:
        _drop(c, name, ctype, len(data), "for all attachments of one e-mail")
    else:
        c.kept_bytes += len(data)
        c.attachments.append(Attachment(name, ctype, data))


def _drop(c: _Collected, name: str, ctype: str, size: int, which: str) -> None:
    limit = c.limits.max_attachment_bytes if which == "per attachment" else c.limits.max_attachments_bytes
    reason = f"larger than the limit of {_size(limit)} {which}"
    c.dropped.append(DroppedAttachment(name, ctype, size, reason))
    c.notes.append(f"The attachment “{name}” ({_size(size)}) was not kept: {reason}. Ask the sender for "
                   "it another way if it is needed.")


def _extension(ctype: str) -> str:
    return mimetypes.guess_extension(ctype, strict=False) or ".bin"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


# ---- HTML ---------------------------------------------------------------------------------------
_IMAGE_DATA = re.compile(r"^data:image/(png|gif|jpeg|webp);base64,", re.IGNORECASE)
_LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")
_CLEAN_CONTENT = frozenset({"script", "style", "title"})


def sanitize_html(html: str) -> tuple[str, int]:
    """HTML safe to show in the agent's desk, and how many remote images were blocked.

    nh3's default tag and attribute lists (text formatting, lists, tables, links, images), with:
    no script, style or event handler (not on the lists); links only to http, https, mailto and
    tel, opened without referrer; no relative URLs; no `style` attribute (CSS can load remote
    resources). Images keep only a `cid:` source (a part of the same e-mail) or an inline
    `data:image/…` one: a remote source is removed, not rewritten, because loading it tells the
    sender that and when an agent opened the mail, and from where (tracking pixels); the `alt`
    text stays, and the count is returned so the desk can say that images were blocked."""
    blocked = 0

    def keep(element: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        try:
            text = value.strip()
            lower = text.lower()
            if attribute == "src":
                if lower.startswith("cid:") or _IMAGE_DATA.match(text):
                    return text
                if element == "img":
                    blocked += 1
                return None
            if attribute in ("href", "cite"):
                return text if lower.startswith(_LINK_SCHEMES) else None
            return value
        except Exception:  # nh3 reports a raising filter as "unraisable"; never raise
            return None

    cleaned = nh3.clean(scrub(html), clean_content_tags=set(_CLEAN_CONTENT), attribute_filter=keep,
                        url_schemes={"http", "https", "mailto", "tel", "cid", "data"}, url_relative="deny",
                        link_rel="noopener noreferrer nofollow", strip_comments=True,
                        set_tag_attribute_values={"img": {"referrerpolicy": "no-referrer"}})
    return scrub(cleaned), blocked


_BLOCK = frozenset({"p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                    "pre", "hr", "section", "article", "header", "footer", "address", "dl", "dt", "dd"})
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skip = 0  # an unclosed <head> must not hide the body
        elif tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag in _BLOCK:
            self.out.append("\n")
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.out.append("\n")
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data if self.pre else _SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: blocks and <br> become line breaks, list items
    dashes, scripts and styles vanish. Never raises."""
    try:
        parser = _TextOfHtml()
        parser.feed(html)
        parser.close()
        text = "".join(parser.out)
    except Exception:  # html.parser on pathological input
        text = ""
    if not text.strip():
        try:
            text = htmllib.unescape(nh3.clean(scrub(html), tags=set(), clean_content_tags=set(_CLEAN_CONTENT)))
        except Exception:
            text = ""
    lines = [line.strip() for line in scrub(text).replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
