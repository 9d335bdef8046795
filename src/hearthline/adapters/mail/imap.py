"""Fetching new mail from an IMAP folder (imaplib; blocking — the caller runs it in a thread).

Where a folder was read up to is the pair (UIDVALIDITY, last UID taken): UIDs only grow within
one UIDVALIDITY, so "UID greater than the last one taken" is exactly the mail not yet seen, across
restarts. The folder is opened read-only (EXAMINE) and bodies are fetched with BODY.PEEK: the
customer's mailbox is never changed, not even its \\Seen flags.

- First contact (no UIDVALIDITY stored): start at the first unread message, so that mail which
  arrived before the mailbox was added and nobody has read is taken, and an archive of read mail
  is not.
- UIDVALIDITY changed (the folder was rebuilt or replaced): old UIDs mean nothing any more; start
  after the highest UID now there, importing nothing again (some mail may be missed; none is
  doubled).
"""
from __future__ import annotations

import imaplib
import re
import ssl
from dataclasses import dataclass, field

_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The server could not be reached, refused the login, or has no such folder."""


@dataclass(frozen=True, slots=True)
class ImapAccount:
    host: str
    port: int
    security: str  # none, starttls, tls
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    size: int  # RFC822.SIZE, bytes
    raw: bytes  # the whole message, or only its header when `truncated`
    truncated: bool  # larger than the limit: only the header was fetched


@dataclass(frozen=True, slots=True)
class Fetched:
    uidvalidity: int
    start_uid: int  # what "last UID taken" is before `messages` (changes on first contact or a reset)
    restarted: bool  # first contact or UIDVALIDITY changed: start_uid was decided now
    messages: tuple[FetchedMessage, ...]  # in UID order, all greater than start_uid
    more: bool  # there are more new messages than `limit`


def quote_folder(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fetch_new(account: ImapAccount, *, uidvalidity: int | None, last_uid: int, limit: int = 50,
              max_bytes: int = 10 * 1024 * 1024) -> Fetched:
    """The messages after `last_uid` (at most `limit`), or the new starting point when there is
    no stored `uidvalidity` or it changed. A message over `max_bytes` comes as its header only.
    Raises ImapError."""
    try:
        conn = _connect(account)
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as err:
        raise ImapError(f"could not connect to {account.host}:{account.port}: {_text(err)}") from err
    try:
        return _fetch(conn, account, uidvalidity, last_uid, limit, max_bytes)
    except (imaplib.IMAP4.error, OSError, ssl.SSLError, ValueError) as err:
        raise ImapError(_text(err)) from err
    finally:
        try:
            conn.logout()
        except Exception:  # the connection is gone already; nothing more to do
            pass


def _connect(account: ImapAccount) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if account.security == "tls":
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(account.host, account.port, ssl_context=context,
                                                timeout=account.timeout_seconds)
    else:
        conn = imaplib.IMAP4(account.host, account.port, timeout=account.timeout_seconds)
        if account.security == "starttls":
            conn.starttls(ssl_context=context)
    try:
        conn.login(account.username, account.password)
    except imaplib.IMAP4.error as err:
        try:
            conn.logout()
        except Exception:
            pass
        raise imaplib.IMAP4.error(f"login refused: {_text(err)}") from err
    return conn


def _fetch(conn: imaplib.IMAP4, account: ImapAccount, uidvalidity: int | None, last_uid: int, limit: int,
           max_bytes: int) -> Fetched:
    typ, data = conn.select(quote_folder(account.folder), readonly=True)
    if typ != "OK":
        raise ImapError(f"cannot open folder {account.folder!r}: {_text(data)}")
    _, values = conn.response("UIDVALIDITY")
    if not values or values[0] is None:
        raise ImapError("the server gave no UIDVALIDITY")
    current = int(values[0])
    restarted = uidvalidity is None or uidvalidity != current
    if restarted:
        highest = _highest_uid(conn)
        if uidvalidity is None:
            unseen = _search(conn, "UNSEEN")
            last_uid = min(unseen) - 1 if unseen else highest
        else:
            return Fetched(current, highest, True, (), False)
    uids = sorted(u for u in _search(conn, f"UID {last_uid + 1}:*") if u > last_uid)
    more = len(uids) > limit
    messages = tuple(_one(conn, uid, max_bytes) for uid in uids[:limit])
    return Fetched(current, last_uid, restarted, messages, more)


def _search(conn: imaplib.IMAP4, criteria: str) -> list[int]:
    typ, data = conn.uid("SEARCH", None, criteria)
    if typ != "OK":
        raise ImapError(f"SEARCH {criteria} failed: {_text(data)}")
    return [int(x) for chunk in data if chunk for x in chunk.split()]


def _highest_uid(conn: imaplib.IMAP4) -> int:
    _, values = conn.response("UIDNEXT")
    if values and values[0] is not None:
        return int(values[0]) - 1
    found = _search(conn, "ALL")
    return max(found) if found else 0


def _one(conn: imaplib.IMAP4, uid: int, max_bytes: int) -> FetchedMessage:
    typ, data = conn.uid("FETCH", str(uid), "(RFC822.SIZE)")
    if typ != "OK":
        raise ImapError(f"FETCH {uid} failed: {_text(data)}")
    size = 0
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (match := _SIZE.search(line)):
            size = int(match.group(1))
    truncated = size > max_bytes
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])" if truncated else "(BODY.PEEK[])")
    if typ != "OK":
        raise ImapError(f"FETCH {uid} failed: {_text(data)}")
    bodies = [item for item in data if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes)]
    for item in bodies:
        if (match := _UID.search(item[0])) and int(match.group(1)) == uid:
            return FetchedMessage(uid, size, item[1], truncated)
    if len(bodies) == 1:  # some servers put the UID after the literal
        return FetchedMessage(uid, size, bodies[0][1], truncated)
    # The message vanished between SEARCH and FETCH (expunged by another client): nothing to take.
    return FetchedMessage(uid, 0, b"", False)


def _text(value: object) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:400]
