"""Outgoing webhooks: a tenant's HTTP endpoints that receive that tenant's events.

An admin registers a URL and the event names it wants (or ``["*"]`` for all). Each event of the
tenant published on the bus becomes one stored *delivery* per matching webhook; a background task
POSTs it and retries failures with exponential backoff. Deliveries are rows, so they survive a
restart; one webhook's deliveries go out one at a time in creation order (a failing delivery holds
back the later ones until it succeeds or is given up). Delivery is *at least once*: a restart in the
middle of an attempt sends it again.

What a receiver gets
--------------------
An HTTP ``POST`` whose body is JSON: the event (``name``, ``at``, ``operator_id``, ``tenant_id``,
``interaction_id``, ``agent_id``, ``queue_id``, ``data``) plus ``delivery_id``, with the headers

    Content-Type: application/json
    X-Hearthline-Event: <event name, e.g. InteractionQueued>
    X-Hearthline-Delivery: <delivery id; the same on every retry — deduplicate on it>
    X-Hearthline-Timestamp: <when this attempt was signed, in Unix seconds>
    X-Hearthline-Signature: sha256=<hex digest>

The digest is HMAC-SHA256 keyed with the webhook's secret (the 64 hex characters shown once, at
creation, used as they are — their UTF-8 bytes, not decoded from hex) over the bytes
``<timestamp> "." <raw request body>``. Verify it over the body exactly as received (do not
re-serialise the JSON), compare in constant time, and refuse old timestamps (a few minutes) to stop
replays: :func:`verify_signature` does all three. Any 2xx answer counts as delivered; anything else
(including a redirect, which is not followed), a network error or a time-out is retried after
1 s, 2 s, 4 s … (at most 5 minutes, minus up to 10 % jitter) until ``webhook_max_attempts``.
"""
from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, insert, select, update

from ..adapters.sql import tables as t
from ..config import Settings
from ..domain.errors import Conflict, InvalidInput, PermissionDenied
from ..domain.events import EPHEMERAL, Event, EventName
from ..domain.ids import new_id
from ..domain.organization import Role, Scope
from .admin import get_tenant
from .platform import Platform

log = logging.getLogger(__name__)

ALL_EVENTS = "*"
MAX_URL_LENGTH = 2000
MAX_DELIVERIES_LISTED = 500
SIGNATURE_PREFIX = "sha256="
_READ_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLIENT_VIEWER})


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # given up after the maximum number of attempts


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    operator_id: str
    tenant_id: str
    url: str
    events: tuple[str, ...]  # event names, or ("*",)
    active: bool
    created_at: datetime
    secret: str | None = None  # set only in the answer to create_webhook

    def wants(self, name: str) -> bool:
        return ALL_EVENTS in self.events or name in self.events


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    webhook_id: str
    tenant_id: str
    event_name: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


# ---- signatures -------------------------------------------------------------------------------
def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Hearthline-Signature header value for `body` sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(secret: str, timestamp: int | str, body: bytes | str, header: str, *,
                     tolerance_seconds: float | None = 300, now: float | None = None) -> bool:
    """For receivers: whether `header` (X-Hearthline-Signature) signs `body` (the raw request body)
    and `timestamp` (X-Hearthline-Timestamp) with `secret`. The comparison takes constant time.
    With `tolerance_seconds` (default 5 minutes; None to skip), a timestamp further than that from
    `now` (Unix seconds, default the current time) is refused too, which stops replays."""
    if isinstance(body, str):
        body = body.encode()
    try:
        stamp = int(str(timestamp).strip())
    except ValueError:
        return False
    if tolerance_seconds is not None:
        current = time.time() if now is None else now
        if abs(current - stamp) > tolerance_seconds:
            return False
    expected = sign(secret, stamp, body)
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def retry_delay(attempts: int, *, base_seconds: float = 1.0, max_seconds: float = 300.0, jitter: float = 0.1,
                rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: base, 2×base, 4×base … at most
    `max_seconds`, less a random share of up to `jitter` (so retries of many webhooks spread out
    while never exceeding the cap)."""
    exponent = min(max(attempts - 1, 0), 62)
    delay = min(max_seconds, base_seconds * (2 ** exponent))
    return delay * (1.0 - jitter * rand())


# ---- use cases ----------------------------------------------------------------------------------
def _require_writer(scope: Scope) -> None:
    if scope.role is not Role.ADMIN:
        raise PermissionDenied("only an admin may change webhooks")


def _require_reader(scope: Scope) -> None:
    if scope.role not in _READ_ROLES:
        raise PermissionDenied("this role may not see webhooks")


def check_url(url: str) -> str:
    """An absolute http(s) URL of at most 2,000 characters, without credentials (the signature is
    the authentication), without whitespace or control characters."""
    if not isinstance(url, str) or not url:
        raise InvalidInput("url", "give the URL to POST events to")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput("url", f"at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidInput("url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        raise InvalidInput("url", f"not a valid URL: {err}") from err
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("url", "must start with http:// or https://")
    if not parts.hostname:
        raise InvalidInput("url", "must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url", "must not carry credentials; verify the X-Hearthline-Signature instead")
    return url


def check_events(events: Iterable[str]) -> tuple[str, ...]:
    """Event names (values of EventName), without repeats, or ("*",) alone for every event."""
    if isinstance(events, str):
        raise InvalidInput("events", "give a list of event names, or [\"*\"]")
    names = list(events)
    if not names:
        raise InvalidInput("events", "name at least one event, or \"*\" for all")
    if ALL_EVENTS in names:
        if len(set(names)) != 1:
            raise InvalidInput("events", "\"*\" already means every event; give it alone")
        return (ALL_EVENTS,)
    known = {str(n) for n in EventName if n not in EPHEMERAL}
    unknown = sorted({str(n) for n in names} - known)
    if unknown:
        raise InvalidInput("events", f"unknown event names: {', '.join(unknown)}", allowed=sorted(known))
    return tuple(sorted(set(names)))


def _webhook_from_row(r: Mapping[str, Any], *, with_secret: bool = False) -> Webhook:
    return Webhook(r["id"], r["operator_id"], r["tenant_id"], r["url"], tuple(r["events"]), r["active"],
                   r["created_at"], r["secret"] if with_secret else None)


def _delivery_from_row(r: Mapping[str, Any]) -> Delivery:
    return Delivery(r["id"], r["webhook_id"], r["tenant_id"], r["event_name"], dict(r["payload"]),
                    DeliveryStatus(r["status"]), r["attempts"], r["last_status_code"], r["last_error"],
                    r["next_attempt_at"], r["created_at"], r["delivered_at"])


def _changed(p: Platform, tenant_id: str) -> None:
    for listener in list(p.webhook_listeners):
        listener(tenant_id)


async def create_webhook(p: Platform, scope: Scope, tenant_id: str, url: str, events: Iterable[str]) -> Webhook:
    """Register `url` for the tenant's `events` (EventName values, or ["*"]). The answer carries the
    generated signing `secret` (32 random bytes as hex); it is never shown again. Raises
    InvalidInput (bad URL or event name), NotFound (tenant outside the scope), PermissionDenied
    (not an admin). Only events that happen after this call are delivered."""
    _require_writer(scope)
    url = check_url(url)
    names = check_events(events)
    tenant = await get_tenant(p, scope, tenant_id)
    webhook = Webhook(new_id(), scope.operator_id, tenant.id, url, names, True, p.clock.now(),
                      secrets.token_hex(32))
    await p.run(p.store.insert_row, t.webhooks, {
        "id": webhook.id, "operator_id": webhook.operator_id, "tenant_id": webhook.tenant_id, "url": url,
        "secret": webhook.secret, "events": list(names), "active": True, "created_at": webhook.created_at})
    _changed(p, webhook.tenant_id)
    return webhook


async def get_webhook(p: Platform, scope: Scope, webhook_id: str) -> Webhook:
    """The webhook, without its secret. NotFound if it is outside the scope."""
    _require_reader(scope)
    return _webhook_from_row(await p.run(p.store.get_row, t.webhooks, "webhook", webhook_id, scope))


async def list_webhooks(p: Platform, scope: Scope, tenant_id: str | None = None) -> list[Webhook]:
    """The webhooks the scope sees (of one tenant if given), oldest first, without secrets."""
    _require_reader(scope)
    rows = await p.run(p.store.list_rows, t.webhooks, scope, tenant_id=tenant_id)
    return [_webhook_from_row(r) for r in rows]


async def delete_webhook(p: Platform, scope: Scope, webhook_id: str) -> None:
    """Remove the webhook and its delivery log; pending deliveries are dropped. NotFound if it is
    outside the scope."""
    _require_writer(scope)

    def _delete() -> str:
        row = p.store.get_row(t.webhooks, "webhook", webhook_id, scope)
        with p.store.begin() as conn:
            conn.execute(delete(t.webhook_deliveries).where(t.webhook_deliveries.c.webhook_id == webhook_id))
            conn.execute(delete(t.webhooks).where(t.webhooks.c.id == webhook_id))
        return str(row["tenant_id"])

    tenant_id = await p.run(_delete)
    _changed(p, tenant_id)


async def list_deliveries(p: Platform, scope: Scope, webhook_id: str, limit: int = 50) -> list[Delivery]:
    """The webhook's delivery log, newest first, at most `limit` (1 to 500) entries."""
    if not 1 <= limit <= MAX_DELIVERIES_LISTED:
        raise InvalidInput("limit", f"must be 1 to {MAX_DELIVERIES_LISTED}")
    await get_webhook(p, scope, webhook_id)
    d = t.webhook_deliveries

    def _query() -> list[Delivery]:
        with p.store.begin() as conn:
            rows = conn.execute(select(d).where(d.c.webhook_id == webhook_id).order_by(d.c.id.desc())
                                .limit(limit)).mappings()
            return [_delivery_from_row(r) for r in rows]

    return await p.run(_query)


# ---- the dispatcher -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Subscription:
    webhook_id: str
    operator_id: str
    created_at: datetime
    events: frozenset[str]  # {"*"} for all

    def wants(self, event: Event) -> bool:
        return (event.operator_id == self.operator_id and event.at >= self.created_at
                and (ALL_EVENTS in self.events or str(event.name) in self.events))


@dataclass(frozen=True, slots=True)
class _Due:
    """The oldest pending delivery of one webhook, with what is needed to send it."""

    id: str
    webhook_id: str
    event_name: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime | None
    url: str
    secret: str


HttpClientFactory = Callable[[], httpx.AsyncClient]


class WebhookDispatcher:
    """Turns bus events into stored deliveries and sends them.

    `start()` subscribes to the bus and resumes every pending delivery in the store; `stop()`
    unsubscribes, stores the deliveries of events already received, and stops sending (an attempt
    cut short is repeated after the next start). Neither the subscriber nor the senders ever raise
    into the bus or the router: failures are logged and counted in `failures`.
    """

    def __init__(self, platform: Platform, *, timeout_seconds: float, max_attempts: int,
                 http_client_factory: HttpClientFactory | None = None, backoff_base_seconds: float = 1.0,
                 backoff_max_seconds: float = 300.0, jitter: float = 0.1, max_concurrent: int = 32) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout_seconds <= 0 or backoff_base_seconds <= 0 or backoff_max_seconds <= 0:
            raise ValueError("timeout and backoff must be positive")
        self.platform = platform
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.jitter = jitter
        self._client_factory = http_client_factory or self._default_client
        self._client: httpx.AsyncClient | None = None
        self._max_concurrent = max_concurrent
        self._sending: asyncio.Semaphore | None = None
        self._inbox: asyncio.Queue[list[Event]] | None = None  # made in start(), on the running loop
        self._intake_task: asyncio.Task | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._workers: dict[str, asyncio.Task] = {}
        self._kicked: set[str] = set()  # webhooks given new deliveries since their worker last looked
        self._cache: dict[str, tuple[_Subscription, ...]] = {}  # tenant id → active subscriptions
        self._generation = 0  # bumped on every invalidation; a load that raced one is not cached
        self._last_id_ns = 0
        self.failures = 0
        self.attempts = 0

    def _default_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False,
                                 headers={"User-Agent": "Hearthline-Webhooks/1"})

    @property
    def running(self) -> bool:
        return self._intake_task is not None

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Subscribe to the bus and resume the pending deliveries of every webhook."""
        if self.running:
            return
        self._client = self._client_factory()
        self._sending = asyncio.Semaphore(self._max_concurrent)
        self._inbox = asyncio.Queue()
        self._cache.clear()
        self.platform.webhook_listeners.append(self.invalidate)
        self._unsubscribe = self.platform.bus.subscribe(self._on_events)
        self._intake_task = asyncio.create_task(self._intake_loop(), name="webhooks-intake")
        pending = await self.platform.run(self._webhooks_with_pending)
        for webhook_id in pending:
            self._kick(webhook_id)
        if pending:
            log.info("webhooks: resuming pending deliveries of %d webhook(s)", len(pending))

    async def stop(self, *, flush_timeout_seconds: float = 5.0) -> None:
        """Stop taking events (storing those already received, for up to `flush_timeout_seconds`)
        and stop sending. Idempotent."""
        if not self.running:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.invalidate in self.platform.webhook_listeners:
            self.platform.webhook_listeners.remove(self.invalidate)
        inbox = self._inbox
        assert inbox is not None
        try:
            await asyncio.wait_for(inbox.join(), flush_timeout_seconds)
        except TimeoutError:
            log.error("webhooks: %d event batch(es) were not stored before stopping; their deliveries are lost",
                      inbox.qsize())
        tasks = [self._intake_task, *self._workers.values()]
        self._intake_task = None
        self._workers.clear()
        self._kicked.clear()
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)
        self._inbox = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def invalidate(self, tenant_id: str | None = None) -> None:
        """Forget the cached subscriptions of `tenant_id` (of every tenant if None)."""
        self._generation += 1
        if tenant_id is None:
            self._cache.clear()
        else:
            self._cache.pop(tenant_id, None)

    # ---- from events to deliveries ----------------------------------------------------------
    async def _on_events(self, events: list[Event]) -> None:
        # The bus awaits its subscribers inside the router's loop: hand the batch over and return.
        try:
            lasting = [e for e in events if e.name not in EPHEMERAL]
            if self._inbox is not None and any(e.tenant_id is not None for e in lasting):
                self._inbox.put_nowait(lasting)
        except Exception:  # never raise into the bus
            self.failures += 1
            log.exception("webhooks: could not take an event batch")

    async def _intake_loop(self) -> None:
        inbox = self._inbox
        assert inbox is not None
        while True:
            events = await inbox.get()
            try:
                await self._store_deliveries(events)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                names = sorted({str(e.name) for e in events})
                log.exception("webhooks: could not store deliveries for %d event(s) (%s); they are not delivered",
                              len(events), ", ".join(names))
            finally:
                inbox.task_done()

    async def _subscriptions(self, tenant_ids: set[str]) -> dict[str, tuple[_Subscription, ...]]:
        missing = sorted(tenant_ids - self._cache.keys())
        if missing:
            generation = self._generation
            loaded = await self.platform.run(self._load_subscriptions, missing)
            if generation == self._generation:  # no change raced the load
                self._cache.update(loaded)
            else:
                return {**self._cache, **loaded}
        return self._cache

    def _load_subscriptions(self, tenant_ids: list[str]) -> dict[str, tuple[_Subscription, ...]]:
        w = t.webhooks
        found: dict[str, list[_Subscription]] = {tid: [] for tid in tenant_ids}
        with self.platform.store.begin() as conn:
            rows = conn.execute(select(w.c.id, w.c.operator_id, w.c.tenant_id, w.c.events, w.c.created_at)
                                .where(w.c.tenant_id.in_(tenant_ids) & w.c.active.is_(True))
                                .order_by(w.c.created_at, w.c.id)).mappings()
            for r in rows:
                found[r["tenant_id"]].append(
                    _Subscription(r["id"], r["operator_id"], r["created_at"], frozenset(r["events"])))
        return {tid: tuple(subs) for tid, subs in found.items()}

    def _new_delivery_id(self) -> str:
        """32 characters that sort in creation order: nanoseconds since the epoch (19 digits, kept
        strictly increasing in this process) and 13 random hex digits."""
        self._last_id_ns = max(time.time_ns(), self._last_id_ns + 1)
        return f"{self._last_id_ns:019d}{secrets.token_hex(7)[:13]}"

    async def _store_deliveries(self, events: list[Event]) -> None:
        tenant_ids = {e.tenant_id for e in events if e.tenant_id is not None}
        if not tenant_ids:
            return
        subscriptions = await self._subscriptions(tenant_ids)
        now = self.platform.clock.now()
        rows: list[dict[str, Any]] = []
        for event in events:
            if event.tenant_id is None:
                continue
            for sub in subscriptions.get(event.tenant_id, ()):
                if not sub.wants(event):
                    continue
                delivery_id = self._new_delivery_id()
                # Through JSON once, so what is stored is exactly what will be sent.
                payload = json.loads(json.dumps(event.as_dict() | {"delivery_id": delivery_id}, default=str))
                rows.append({
                    "id": delivery_id, "webhook_id": sub.webhook_id, "operator_id": event.operator_id,
                    "tenant_id": event.tenant_id, "event_name": str(event.name), "payload": payload,
                    "status": str(DeliveryStatus.PENDING), "attempts": 0, "last_status_code": None,
                    "last_error": None, "next_attempt_at": now, "created_at": now, "delivered_at": None,
                })
        if not rows:
            return
        try:
            await self.platform.run(self._insert_deliveries, rows)
        except Conflict:
            # A webhook was deleted between our check and the insert: check again, once.
            await self.platform.run(self._insert_deliveries, rows)
        for webhook_id in dict.fromkeys(r["webhook_id"] for r in rows):
            self._kick(webhook_id)

    def _insert_deliveries(self, rows: list[dict[str, Any]]) -> None:
        with self.platform.store.begin() as conn:
            # A webhook deleted meanwhile would fail the whole batch on its foreign key.
            ids = {r["webhook_id"] for r in rows}
            alive = {x for (x,) in conn.execute(select(t.webhooks.c.id).where(t.webhooks.c.id.in_(sorted(ids))))}
            rows = [r for r in rows if r["webhook_id"] in alive]
            if rows:
                conn.execute(insert(t.webhook_deliveries), rows)

    # ---- sending ----------------------------------------------------------------------------
    def _kick(self, webhook_id: str) -> None:
        """Make sure a worker sends the webhook's pending deliveries."""
        if not self.running:
            return
        self._kicked.add(webhook_id)
        if webhook_id not in self._workers:
            self._workers[webhook_id] = asyncio.create_task(self._worker(webhook_id),
                                                            name=f"webhook-{webhook_id}")

    def _webhooks_with_pending(self) -> list[str]:
        d = t.webhook_deliveries
        with self.platform.store.begin() as conn:
            return [x for (x,) in conn.execute(select(d.c.webhook_id).where(d.c.status == DeliveryStatus.PENDING)
                                               .distinct())]

    def _head(self, webhook_id: str) -> _Due | None:
        d, w = t.webhook_deliveries, t.webhooks
        with self.platform.store.begin() as conn:
            r = conn.execute(
                select(d.c.id, d.c.webhook_id, d.c.event_name, d.c.payload, d.c.attempts, d.c.next_attempt_at,
                       w.c.url, w.c.secret)
                .join(w, w.c.id == d.c.webhook_id)
                .where((d.c.webhook_id == webhook_id) & (d.c.status == DeliveryStatus.PENDING))
                .order_by(d.c.id).limit(1)).mappings().first()
        if r is None:
            return None
        return _Due(r["id"], r["webhook_id"], r["event_name"], dict(r["payload"]), r["attempts"],
                    r["next_attempt_at"], r["url"], r["secret"])

    async def _worker(self, webhook_id: str) -> None:
        """Send one webhook's pending deliveries, oldest first, one at a time; end when none is left."""
        errors = 0
        try:
            while True:
                try:
                    self._kicked.discard(webhook_id)
                    head = await self.platform.run(self._head, webhook_id)
                    if head is None:
                        if webhook_id in self._kicked:
                            continue  # a delivery was stored while we looked
                        return
                    wait = 0.0
                    if head.next_attempt_at is not None:
                        wait = (head.next_attempt_at - self.platform.clock.now()).total_seconds()
                    if wait > 0:
                        # Look again afterwards: the webhook may have been deleted meanwhile.
                        await asyncio.sleep(min(wait, 30.0))
                        continue
                    await self._attempt(head)
                    errors = 0
                except asyncio.CancelledError:
                    raise
                except Exception:
                    errors += 1
                    self.failures += 1
                    log.exception("webhooks: worker of webhook %s failed; retrying", webhook_id)
                    await asyncio.sleep(min(30.0, 0.5 * 2 ** min(errors, 6)))
        finally:
            if self._workers.get(webhook_id) is asyncio.current_task():
                del self._workers[webhook_id]

    async def _attempt(self, due: _Due) -> None:
        assert self._client is not None and self._sending is not None
        body = json.dumps(due.payload, separators=(",", ":"), ensure_ascii=False).encode()
        stamp = int(self.platform.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Hearthline-Event": due.event_name,
            "X-Hearthline-Delivery": due.id,
            "X-Hearthline-Timestamp": str(stamp),
            "X-Hearthline-Signature": sign(due.secret, stamp, body),
        }
        status_code: int | None = None
        error: str | None = None
        async with self._sending:
            self.attempts += 1
            try:
                # httpx's timeout bounds each phase (connect, each read …); the outer one bounds the
                # whole attempt, so a receiver trickling its headers cannot hold a sender for long.
                async with asyncio.timeout(self.timeout_seconds):
                    # Streamed and never read: a receiver cannot make us buffer a large answer.
                    async with self._client.stream("POST", due.url, content=body, headers=headers,
                                                   timeout=self.timeout_seconds) as response:
                        status_code = response.status_code
            except (httpx.TimeoutException, TimeoutError) as err:
                error = f"timed out after {self.timeout_seconds:g} s ({type(err).__name__})"
            except httpx.HTTPError as err:
                error = f"{type(err).__name__}: {err}"[:500]
        delivered = status_code is not None and 200 <= status_code < 300
        if status_code is not None and not delivered:
            error = f"HTTP {status_code}"
        attempts = due.attempts + 1
        now = self.platform.clock.now()
        values: dict[str, Any] = {"attempts": attempts, "last_status_code": status_code, "last_error": error}
        if delivered:
            values |= {"status": str(DeliveryStatus.DELIVERED), "delivered_at": now, "next_attempt_at": None}
        elif attempts >= self.max_attempts:
            values |= {"status": str(DeliveryStatus.FAILED), "next_attempt_at": None}
            log.warning("webhooks: delivery %s of webhook %s (%s) failed after %d attempts: %s",
                        due.id, due.webhook_id, due.event_name, attempts, error)
        else:
            delay = retry_delay(attempts, base_seconds=self.backoff_base_seconds,
                                max_seconds=self.backoff_max_seconds, jitter=self.jitter)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            log.info("webhooks: delivery %s of webhook %s failed (attempt %d of %d: %s); retry in %.1f s",
                     due.id, due.webhook_id, attempts, self.max_attempts, error, delay)
        await self.platform.run(self._record, due.id, values)

    def _record(self, delivery_id: str, values: dict[str, Any]) -> None:
        d = t.webhook_deliveries
        with self.platform.store.begin() as conn:
            # No row changes if the webhook was deleted during the attempt.
            conn.execute(update(d).where((d.c.id == delivery_id) & (d.c.status == DeliveryStatus.PENDING))
                         .values(**values))


def attach(platform: Platform, settings: Settings) -> WebhookDispatcher:
    """Build the platform's dispatcher from settings (connecting nothing) and have `platform.stop()`
    stop it; the entrypoint calls `await dispatcher.start()` after `platform.start()`."""
    dispatcher = WebhookDispatcher(platform, timeout_seconds=settings.webhook_timeout_seconds,
                                   max_attempts=settings.webhook_max_attempts)
    platform.on_stop(dispatcher.stop)
    return dispatcher
