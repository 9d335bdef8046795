"""E-mail setup: the addresses that feed programs (mail received by our SMTP listener) and the
IMAP mailboxes polled for mail. Admins only; scoped to the caller's operator like everything
else. A mailbox's password is write-only: it is never part of an answer."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ....domain.errors import Unavailable
from ....services import mail_setup
from ..deps import AdminDep, PlatformDep
from ..params import IdPath, IdQuery
from ..schemas.common import In, Out, Ref, Text

router = APIRouter(tags=["e-mail"])


class MailAddressIn(In):
    program_id: Ref
    address: Text(320, 3) = Field(description="the address customers write to, e.g. help@acme.example")
    queue_id: Ref | None = Field(None, description="where its mail waits; none: the program's default workflow")
    display_name: Text(200) | None = Field(None, description="the From name of replies")
    auto_acknowledge: bool = Field(True, description="answer a new thread with its reference number")


class MailAddressPatch(In):
    address: Text(320, 3) | None = None
    queue_id: Ref | None = None
    display_name: Text(200) | None = None
    auto_acknowledge: bool | None = None


class MailAddressOut(Out):
    id: str
    program_id: str
    tenant_id: str
    address: str
    queue_id: str | None
    display_name: str | None
    auto_acknowledge: bool
    created_at: str


Security = Literal["none", "starttls", "tls"]


class MailboxIn(In):
    program_id: Ref
    host: Text(255, 1)
    port: int = Field(993, ge=1, le=65535)
    security: Security = "tls"
    username: Text(320, 1)
    password: Text(500, 1) = Field(description="write-only: never shown again")
    folder: Text(200, 1) = "INBOX"
    address: Text(320, 3) = Field(description="the address customers write to; replies come from it")


class MailboxPatch(In):
    host: Text(255, 1) | None = None
    port: int | None = Field(None, ge=1, le=65535)
    security: Security | None = None
    username: Text(320, 1) | None = None
    password: Text(500, 1) | None = None
    folder: Text(200, 1) | None = None
    address: Text(320, 3) | None = None


class MailboxOut(Out):
    id: str
    program_id: str
    tenant_id: str
    host: str
    port: int
    security: str
    username: str
    folder: str
    address: str
    uidvalidity: int | None = Field(description="the folder's UIDVALIDITY when last read")
    last_uid: int = Field(description="the last message taken (IMAP UID)")
    last_polled_at: str | None
    last_error: str | None = Field(description="why the last poll failed; null after a good one")
    created_at: str


class PollOut(Out):
    taken: int = Field(description="messages taken by this poll")
    mailbox: MailboxOut


def _changes(body: In) -> dict[str, Any]:
    """The fields sent; null only where null means something (queue_id, display_name)."""
    sent = body.model_dump(exclude_unset=True)
    return {k: v for k, v in sent.items() if v is not None or k in ("queue_id", "display_name")}


# ---- mail addresses -----------------------------------------------------------------------------
@router.post("/api/v1/mail-addresses", status_code=201, response_model=MailAddressOut, summary="Route an address")
async def create_mail_address(body: MailAddressIn, caller: AdminDep, p: PlatformDep) -> Any:
    return await mail_setup.create_mail_address(p, caller.scope, body.program_id, body.address, queue_id=body.queue_id,
                                           display_name=body.display_name, auto_acknowledge=body.auto_acknowledge)


@router.get("/api/v1/mail-addresses", response_model=list[MailAddressOut])
async def list_mail_addresses(caller: AdminDep, p: PlatformDep, program_id: IdQuery = None) -> Any:
    return await mail_setup.list_mail_addresses(p, caller.scope, program_id)


@router.get("/api/v1/mail-addresses/{address_id}", response_model=MailAddressOut)
async def get_mail_address(address_id: IdPath, caller: AdminDep, p: PlatformDep) -> Any:
    return await mail_setup.get_mail_address(p, caller.scope, address_id)


@router.patch("/api/v1/mail-addresses/{address_id}", response_model=MailAddressOut)
async def update_mail_address(address_id: IdPath, body: MailAddressPatch, caller: AdminDep, p: PlatformDep) -> Any:
    return await mail_setup.update_mail_address(p, caller.scope, address_id, **_changes(body))


@router.delete("/api/v1/mail-addresses/{address_id}", status_code=204)
async def delete_mail_address(address_id: IdPath, caller: AdminDep, p: PlatformDep) -> Response:
    await mail_setup.delete_mail_address(p, caller.scope, address_id)
    return Response(status_code=204)


# ---- IMAP mailboxes -----------------------------------------------------------------------------
@router.post("/api/v1/mailboxes", status_code=201, response_model=MailboxOut,
             summary="Poll a mailbox (from its first unread message)")
async def create_mailbox(body: MailboxIn, caller: AdminDep, p: PlatformDep) -> Any:
    return await mail_setup.create_mailbox(p, caller.scope, body.program_id, **body.model_dump(exclude={"program_id"}))


@router.get("/api/v1/mailboxes", response_model=list[MailboxOut])
async def list_mailboxes(caller: AdminDep, p: PlatformDep, program_id: IdQuery = None) -> Any:
    return await mail_setup.list_mailboxes(p, caller.scope, program_id)


@router.get("/api/v1/mailboxes/{mailbox_id}", response_model=MailboxOut)
async def get_mailbox(mailbox_id: IdPath, caller: AdminDep, p: PlatformDep) -> Any:
    return await mail_setup.get_mailbox(p, caller.scope, mailbox_id)


@router.patch("/api/v1/mailboxes/{mailbox_id}", response_model=MailboxOut,
              summary="Change a mailbox (pointing it elsewhere starts it afresh)")
async def update_mailbox(mailbox_id: IdPath, body: MailboxPatch, caller: AdminDep, p: PlatformDep) -> Any:
    return await mail_setup.update_mailbox(p, caller.scope, mailbox_id, **_changes(body))


@router.delete("/api/v1/mailboxes/{mailbox_id}", status_code=204)
async def delete_mailbox(mailbox_id: IdPath, caller: AdminDep, p: PlatformDep) -> Response:
    await mail_setup.delete_mailbox(p, caller.scope, mailbox_id)
    return Response(status_code=204)


@router.post("/api/v1/mailboxes/{mailbox_id}/poll", response_model=PollOut,
             summary="Poll now (to check the settings); errors are in last_error")
async def poll_mailbox(mailbox_id: IdPath, caller: AdminDep, p: PlatformDep, request: Request) -> Any:
    await mail_setup.get_mailbox(p, caller.scope, mailbox_id)
    channel = getattr(request.app.state.components, "email", None)
    if channel is None:
        raise Unavailable("this server has no e-mail component", feature="email")
    taken = await channel.poll_mailbox(mailbox_id)
    return {"taken": taken, "mailbox": await mail_setup.get_mailbox(p, caller.scope, mailbox_id)}
