"""Conversations of chats and e-mails, seen from the desk and the console; the screen-pop;
customer records; attachments; supervisor alerts.

Read a transcript: anyone who may see the interaction (its agent, supervisors, admins, the
tenant's client viewers). Write to the customer, mark read, typing: the agent handling it.
Customer records: read by staff and agents, written by staff. Alerts: staff.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field

from ....domain.conversations import MAX_EMAIL_CHARS, Message, Sender
from ....services import conversations as talk
from ....services import customers
from ....services import interactions as work
from ..deps import CallerDep, PlatformDep, StaffDep, WorkerDep
from ..params import IdPath, IdQuery
from ..schemas.common import In, JsonObject, Out, Ref, Text

router = APIRouter(tags=["conversations"])


class MessageIn(In):
    body: Text(MAX_EMAIL_CHARS, 1) = Field(description="plain text; at most 4,000 characters in a chat")
    client_ref: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] | None = Field(
        None, description="the sender's own id for this message: sending it again does not double it")
    subject: Text(998, 1) | None = Field(None, description="e-mail only: the subject, if not the thread's")


class AttachmentOut(Out):
    id: str
    filename: str
    content_type: str
    size: int


class MessageOut(Out):
    id: str
    interaction_id: str
    seq: int
    sender: str
    agent_id: str | None
    body: str
    html: str | None = Field(None, description="an e-mail's HTML, sanitized; safe to show")
    sentiment: float | None = Field(None, description="customer messages: −1 (angry) … +1 (pleased)")
    client_ref: str | None
    email: dict[str, Any] | None = None
    created_at: str
    attachments: list[AttachmentOut]

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(**message.as_dict())


class ReadIn(In):
    seq: int = Field(ge=0, le=10_000_000, description="every message up to this number has been read")


class TypingIn(In):
    typing: bool


@router.get("/api/v1/interactions/{interaction_id}/messages", response_model=list[MessageOut],
            summary="The conversation of a chat or e-mail, in order")
async def list_messages(interaction_id: IdPath, caller: CallerDep, p: PlatformDep,
                        after_seq: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[MessageOut]:
    return [MessageOut.of(m) for m in await talk.transcript(p, caller.scope, interaction_id, after_seq=after_seq)]


@router.post("/api/v1/interactions/{interaction_id}/messages", status_code=201, response_model=MessageOut,
             summary="The handling agent writes to the customer (an e-mail is sent through the relay)")
async def post_message(interaction_id: IdPath, body: MessageIn, caller: WorkerDep, p: PlatformDep) -> MessageOut:
    return MessageOut.of(await talk.post_agent_message(p, caller.scope, interaction_id, body.body,
                                                       client_ref=body.client_ref, subject=body.subject))


@router.post("/api/v1/interactions/{interaction_id}/read", status_code=204,
             summary="The handling agent has read the conversation up to a message")
async def mark_read(interaction_id: IdPath, body: ReadIn, caller: WorkerDep, p: PlatformDep) -> Response:
    interaction = await talk.agent_interaction(p, caller.scope, interaction_id)
    await talk.mark_read(p, interaction, Sender.AGENT, body.seq)
    return Response(status_code=204)


@router.post("/api/v1/interactions/{interaction_id}/typing", status_code=204,
             summary="The handling agent started or stopped typing")
async def typing(interaction_id: IdPath, body: TypingIn, caller: WorkerDep, p: PlatformDep) -> Response:
    interaction = await talk.agent_interaction(p, caller.scope, interaction_id)
    await talk.typing(p, interaction, Sender.AGENT, body.typing)
    return Response(status_code=204)


@router.get("/api/v1/attachments/{attachment_id}", summary="Download an attachment (never shown inline)",
            responses={200: {"content": {"application/octet-stream": {}}}})
async def download(attachment_id: IdPath, caller: CallerDep, p: PlatformDep) -> Response:
    info, data = await talk.attachment(p, caller.scope, attachment_id)
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in info.filename)[:200] or "attachment"
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{safe}"', "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'", "X-Original-Content-Type": info.content_type})


# ---- screen-pop and customer records ---------------------------------------------------------
class CustomerIn(In):
    tenant_id: Ref
    external_id: Text(200, 1) | None = None
    first_name: Text(100) | None = None
    last_name: Text(100) | None = None
    email: Text(320) | None = None
    phone: Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9][0-9 ().-]{2,38}$")] | None = None
    attributes: JsonObject = Field(default_factory=dict)


class CustomerPatch(In):
    external_id: Text(200, 1) | None = None
    first_name: Text(100) | None = None
    last_name: Text(100) | None = None
    email: Text(320) | None = None
    phone: Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9][0-9 ().-]{2,38}$")] | None = None
    attributes: JsonObject | None = None


class CustomerOut(Out):
    id: str
    tenant_id: str
    external_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    attributes: dict[str, Any]
    created_at: str


class ScreenPopOut(Out):
    interaction_id: str
    customer: dict[str, Any] = Field(description="what the contact says about the customer")
    record: CustomerOut | None = Field(description="the client's record of this customer, when one matches")
    attributes: dict[str, Any] = Field(description="gathered by IVR, bot or form")
    history: list[dict[str, Any]] = Field(description="earlier contacts on every channel, newest first")


@router.get("/api/v1/interactions/{interaction_id}/customer", response_model=ScreenPopOut,
            summary="The screen-pop: customer record, gathered attributes and earlier contacts")
async def screen_pop(interaction_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Any:
    return await customers.screen_pop(p, caller.scope, interaction_id)


@router.post("/api/v1/customers", status_code=201, response_model=CustomerOut)
async def create_customer(body: CustomerIn, caller: StaffDep, p: PlatformDep) -> Any:
    fields = body.model_dump(exclude={"tenant_id"})
    return await customers.create_customer(p, caller.scope, body.tenant_id, **fields)


@router.get("/api/v1/customers", response_model=list[CustomerOut])
async def list_customers(caller: WorkerDep, p: PlatformDep, tenant_id: IdQuery = None,
                         email: Annotated[str | None, Query(max_length=320)] = None,
                         phone: Annotated[str | None, Query(max_length=40)] = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100,
                         offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Any:
    return await customers.list_customers(p, caller.scope, tenant_id=tenant_id, email=email, phone=phone,
                                          limit=limit, offset=offset)


@router.get("/api/v1/customers/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Any:
    return await customers.get_customer(p, caller.scope, customer_id)


@router.patch("/api/v1/customers/{customer_id}", response_model=CustomerOut)
async def update_customer(customer_id: IdPath, body: CustomerPatch, caller: StaffDep, p: PlatformDep) -> Any:
    return await customers.update_customer(p, caller.scope, customer_id, **body.model_dump(exclude_unset=True))


# ---- alerts ------------------------------------------------------------------------------------
class AlertOut(Out):
    id: str
    kind: str = Field(description="tone, threshold …")
    severity: str
    message: str
    tenant_id: str | None
    interaction_id: str | None
    agent_id: str | None
    queue_id: str | None
    created_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None


@router.get("/api/v1/alerts", response_model=list[AlertOut], tags=["alerts"], summary="Newest first")
async def list_alerts(caller: StaffDep, p: PlatformDep, include_acknowledged: bool = False,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    return await talk.list_alerts(p, caller.scope, open_only=not include_acknowledged, limit=limit)


@router.post("/api/v1/alerts/{alert_id}/acknowledge", response_model=AlertOut, tags=["alerts"])
async def acknowledge(alert_id: IdPath, caller: StaffDep, p: PlatformDep) -> Any:
    return await talk.acknowledge_alert(p, caller.scope, alert_id, caller.user.id)


# ---- the desk's transfer choices ---------------------------------------------------------------
class TransferQueueOut(Out):
    id: str
    name: str
    program_id: str
    waiting: int | None
    ewt_seconds: float | None


class TransferAgentOut(Out):
    id: str
    name: str
    state: str | None
    free: bool = Field(description="available with room for this channel now")


class TransferTargetsOut(Out):
    queues: list[TransferQueueOut]
    agents: list[TransferAgentOut]


@router.get("/api/v1/interactions/{interaction_id}/transfer-targets", response_model=TransferTargetsOut,
            tags=["interactions"], summary="The queues and agents a contact can be transferred to")
async def transfer_targets(interaction_id: IdPath, caller: WorkerDep, p: PlatformDep) -> Any:
    return await work.transfer_targets(p, caller.scope, interaction_id)
