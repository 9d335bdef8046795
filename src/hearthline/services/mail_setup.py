"""Setting up the e-mail channel: which addresses feed which program (and queue), and which IMAP
mailboxes are polled. Admins only; a mailbox's password is stored and never shown again.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..adapters.sql import tables as t
from ..domain.errors import Conflict, InvalidInput, PermissionDenied
from ..domain.ids import new_id
from ..domain.organization import Role, Scope
from . import admin
from .email import SECURITIES, normalize_address
from .platform import Platform


def _admin(scope: Scope) -> None:
    if scope.role is not Role.ADMIN:
        raise PermissionDenied("only an admin manages e-mail addresses and mailboxes")


def _text(value: Any, field: str, max_len: int, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(field, "required" if value is None else "must be non-empty text")
    value = value.strip()
    if len(value) > max_len:
        raise InvalidInput(field, f"at most {max_len} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(field, "must not contain line breaks or control characters")
    return value or None


def _address_view(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "program_id": r["program_id"], "tenant_id": r["tenant_id"], "address": r["address"],
            "queue_id": r["queue_id"], "display_name": r["display_name"],
            "auto_acknowledge": bool(r["auto_acknowledge"]), "created_at": r["created_at"].isoformat()}


def _mailbox_view(r: dict[str, Any]) -> dict[str, Any]:  # never the password
    return {"id": r["id"], "program_id": r["program_id"], "tenant_id": r["tenant_id"], "host": r["host"],
            "port": r["port"], "security": r["security"], "username": r["username"], "folder": r["folder"],
            "address": r["address"], "uidvalidity": r["uidvalidity"], "last_uid": r["last_uid"],
            "last_polled_at": r["last_polled_at"].isoformat() if r["last_polled_at"] else None,
            "last_error": r["last_error"], "created_at": r["created_at"].isoformat()}


async def _check_route(p: Platform, scope: Scope, program_id: str, queue_id: str | None) -> None:
    program = await admin.get_program(p, scope, program_id)
    if queue_id is not None:
        queue = await admin.get_queue(p, scope, queue_id)
        if queue.program_id != program.id:
            raise InvalidInput("queue_id", "not a queue of this program")
    elif program.default_workflow_id is None:
        raise InvalidInput("queue_id", "the program has no default workflow: give the queue mail goes to")


async def create_mail_address(p: Platform, scope: Scope, program_id: str, address: str, *,
                              queue_id: str | None = None, display_name: str | None = None,
                              auto_acknowledge: bool = True) -> dict[str, Any]:
    """Mail to `address` becomes work of the program (in `queue_id`, else through the program's
    default workflow). Raises InvalidInput naming the field, Conflict (address taken), NotFound."""
    _admin(scope)
    address = normalize_address(address)
    display_name = _text(display_name, "display_name", 200, required=False)
    if not isinstance(auto_acknowledge, bool):
        raise InvalidInput("auto_acknowledge", "true or false")
    await _check_route(p, scope, program_id, queue_id)
    program = await admin.get_program(p, scope, program_id)
    if await p.run(_address_taken, p, address, None):
        raise Conflict("this address is already in use", field="address")
    row = {"id": new_id(), "operator_id": scope.operator_id, "tenant_id": program.tenant_id, "program_id": program.id,
           "address": address, "queue_id": queue_id, "display_name": display_name,
           "auto_acknowledge": auto_acknowledge, "created_at": p.clock.now()}
    await p.run(p.store.insert_row, t.mail_addresses, row)
    return _address_view(row)


def _address_taken(p: Platform, address: str, except_id: str | None) -> bool:
    a = t.mail_addresses
    with p.store.begin() as conn:
        q = select(a.c.id).where(a.c.address == address)
        if except_id is not None:
            q = q.where(a.c.id != except_id)
        return conn.execute(q).first() is not None


async def list_mail_addresses(p: Platform, scope: Scope, program_id: str | None = None) -> list[dict[str, Any]]:
    _admin(scope)
    return [_address_view(r) for r in await p.run(p.store.list_rows, t.mail_addresses, scope, program_id=program_id)]


async def get_mail_address(p: Platform, scope: Scope, address_id: str) -> dict[str, Any]:
    _admin(scope)
    return _address_view(await p.run(p.store.get_row, t.mail_addresses, "mail address", address_id, scope))


async def update_mail_address(p: Platform, scope: Scope, address_id: str, **changes: Any) -> dict[str, Any]:
    """Change address, queue_id, display_name or auto_acknowledge (only those given)."""
    _admin(scope)
    row = await p.run(p.store.get_row, t.mail_addresses, "mail address", address_id, scope)
    values: dict[str, Any] = {}
    if "address" in changes:
        values["address"] = normalize_address(changes["address"])
        if await p.run(_address_taken, p, values["address"], address_id):
            raise Conflict("this address is already in use", field="address")
    if "display_name" in changes:
        values["display_name"] = _text(changes["display_name"], "display_name", 200, required=False)
    if "auto_acknowledge" in changes:
        if not isinstance(changes["auto_acknowledge"], bool):
            raise InvalidInput("auto_acknowledge", "true or false")
        values["auto_acknowledge"] = changes["auto_acknowledge"]
    if "queue_id" in changes:
        await _check_route(p, scope, row["program_id"], changes["queue_id"])
        values["queue_id"] = changes["queue_id"]
    if values:
        await p.run(p.store.update_row, t.mail_addresses, "mail address", address_id, scope, values)
    return _address_view({**row, **values})


async def delete_mail_address(p: Platform, scope: Scope, address_id: str) -> None:
    _admin(scope)
    await p.run(p.store.delete_row, t.mail_addresses, "mail address", address_id, scope)


_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,253}[A-Za-z0-9])?)$")


def _mailbox_values(changes: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "host" in changes or creating:
        host = _text(changes.get("host"), "host", 255)
        if host is None or not _HOST.match(host):
            raise InvalidInput("host", "a host name or an IP address")
        values["host"] = host.strip("[]")
    if "port" in changes or creating:
        port = changes.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise InvalidInput("port", "a TCP port, 1 to 65535")
        values["port"] = port
    if "security" in changes or creating:
        if changes.get("security") not in SECURITIES:
            raise InvalidInput("security", "one of " + ", ".join(SECURITIES))
        values["security"] = changes["security"]
    if "username" in changes or creating:
        values["username"] = _text(changes.get("username"), "username", 320)
    if "password" in changes or creating:
        password = changes.get("password")
        if not isinstance(password, str) or not password or len(password) > 500 or "\x00" in password \
                or "\r" in password or "\n" in password:
            raise InvalidInput("password", "1 to 500 characters, without line breaks")
        values["password"] = password
    if "folder" in changes or creating:
        folder = _text(changes.get("folder", "INBOX"), "folder", 200)
        if folder is None or not folder.isascii():
            raise InvalidInput("folder", "a folder name in ASCII (e.g. INBOX or Support/Inbox)")
        values["folder"] = folder
    if "address" in changes or creating:
        values["address"] = normalize_address(changes.get("address"))
    return values


async def create_mailbox(p: Platform, scope: Scope, program_id: str, **fields: Any) -> dict[str, Any]:
    """An IMAP mailbox whose mail becomes work of the program: host, port, security (none,
    starttls, tls), username, password, folder (INBOX), address (the one customers write to).
    The first poll starts at its first unread message. Raises InvalidInput naming the field."""
    _admin(scope)
    values = _mailbox_values(fields, creating=True)
    program = await admin.get_program(p, scope, program_id)
    row = {"id": new_id(), "operator_id": scope.operator_id, "tenant_id": program.tenant_id, "program_id": program.id,
           **values, "uidvalidity": None, "last_uid": 0, "last_polled_at": None, "last_error": None,
           "created_at": p.clock.now()}
    await p.run(p.store.insert_row, t.mailboxes, row)
    return _mailbox_view(row)


async def list_mailboxes(p: Platform, scope: Scope, program_id: str | None = None) -> list[dict[str, Any]]:
    _admin(scope)
    return [_mailbox_view(r) for r in await p.run(p.store.list_rows, t.mailboxes, scope, program_id=program_id)]


async def get_mailbox(p: Platform, scope: Scope, mailbox_id: str) -> dict[str, Any]:
    _admin(scope)
    return _mailbox_view(await p.run(p.store.get_row, t.mailboxes, "mailbox", mailbox_id, scope))


async def update_mailbox(p: Platform, scope: Scope, mailbox_id: str, **changes: Any) -> dict[str, Any]:
    """Change some fields. Pointing it elsewhere (host, port, security, username or folder)
    starts it afresh: the next poll begins at the first unread message there."""
    _admin(scope)
    row = await p.run(p.store.get_row, t.mailboxes, "mailbox", mailbox_id, scope)
    values = _mailbox_values(changes, creating=False)
    if any(k in values and values[k] != row[k] for k in ("host", "port", "security", "username", "folder")):
        values.update(uidvalidity=None, last_uid=0)
    if values:
        values["last_error"] = None
        await p.run(p.store.update_row, t.mailboxes, "mailbox", mailbox_id, scope, values)
    return _mailbox_view({**row, **values})


async def delete_mailbox(p: Platform, scope: Scope, mailbox_id: str) -> None:
    _admin(scope)
    await p.run(p.store.delete_row, t.mailboxes, "mailbox", mailbox_id, scope)
