"""Outgoing webhooks of a tenant and their delivery logs. Read: admin, supervisor, client viewer
(her own tenant only). Write: admin. The signing secret is in the answer to POST only.

How deliveries are signed and retried: see hearthline.services.webhooks.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, StringConstraints

from ....domain.events import EventName
from ....domain.organization import Role
from ....services import webhooks
from ..deps import AdminDep, PlatformDep, WatcherDep
from ..params import IdPath
from ..schemas.common import In, Out, Ref

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

Url = Annotated[str, StringConstraints(min_length=1, max_length=webhooks.MAX_URL_LENGTH)]
EventSelector = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^(\*|[A-Za-z]+)$")]
_EVENT_HELP = "event names (" + ", ".join(e.value for e in EventName) + "), or [\"*\"] for every event"


class WebhookIn(In):
    tenant_id: Ref
    url: Url = Field(description="http:// or https:// URL that receives a POST per event")
    events: list[EventSelector] = Field(min_length=1, max_length=len(EventName), description=_EVENT_HELP)


class WebhookOut(Out):
    id: str
    tenant_id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, w: webhooks.Webhook) -> WebhookOut:
        return cls(id=w.id, tenant_id=w.tenant_id, url=w.url, events=list(w.events), active=w.active,
                   created_at=w.created_at)


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="key of the X-Hearthline-Signature HMAC; shown only in this answer")

    @classmethod
    def of(cls, w: webhooks.Webhook) -> WebhookCreatedOut:
        assert w.secret is not None
        return cls(**WebhookOut.of(w).model_dump(), secret=w.secret)


class DeliveryOut(Out):
    id: str
    webhook_id: str
    event_name: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="the JSON body POSTed")

    @classmethod
    def of(cls, d: webhooks.Delivery) -> DeliveryOut:
        return cls(id=d.id, webhook_id=d.webhook_id, event_name=d.event_name, status=d.status.value,
                   attempts=d.attempts, last_status_code=d.last_status_code, last_error=d.last_error,
                   next_attempt_at=d.next_attempt_at, created_at=d.created_at, delivered_at=d.delivered_at,
                   payload=d.payload)


TenantQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                          description="only this tenant's webhooks")]
LimitQuery = Annotated[int, Query(ge=1, le=webhooks.MAX_DELIVERIES_LISTED)]


@router.post("", status_code=201, response_model=WebhookCreatedOut)
async def create_webhook(body: WebhookIn, caller: AdminDep, p: PlatformDep) -> WebhookCreatedOut:
    return WebhookCreatedOut.of(await webhooks.create_webhook(p, caller.scope, body.tenant_id, body.url, body.events))


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(caller: WatcherDep, p: PlatformDep, tenant_id: TenantQuery = None) -> list[WebhookOut]:
    return [WebhookOut.of(w) for w in await webhooks.list_webhooks(p, caller.scope, tenant_id)]


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(webhook_id: IdPath, caller: WatcherDep, p: PlatformDep) -> WebhookOut:
    return WebhookOut.of(await webhooks.get_webhook(p, caller.scope, webhook_id))


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: IdPath, caller: WatcherDep, p: PlatformDep) -> Response:
    await webhooks.get_webhook(p, caller.scope, webhook_id)  # another tenant's is not-found, not forbidden
    caller.require(Role.ADMIN)
    await webhooks.delete_webhook(p, caller.scope, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(webhook_id: IdPath, caller: WatcherDep, p: PlatformDep,
                          limit: LimitQuery = 50) -> list[DeliveryOut]:
    """The delivery log, newest first."""
    return [DeliveryOut.of(d) for d in await webhooks.list_deliveries(p, caller.scope, webhook_id, limit)]
