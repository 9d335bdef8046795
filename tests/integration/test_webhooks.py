"""Outgoing webhooks, end to end: the platform's events POSTed to a real HTTP receiver on 127.0.0.1.

The receiver is `http.server` in a thread; httpx is not mocked. Backoff is shortened through the
dispatcher's `backoff_base_seconds` so retries take a fraction of a second.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hearthline.adapters.sql.store import SqlStore
from hearthline.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hearthline.domain.events import Event, EventName
from hearthline.domain.interactions import Channel
from hearthline.domain.organization import Role, Scope
from hearthline.domain.queues import Queue
from hearthline.services import admin
from hearthline.services import interactions as ix
from hearthline.services import webhooks as wh
from hearthline.services.bus import InProcessEventBus
from hearthline.services.platform import Platform
from hearthline.services.router import SystemClock
from hearthline.config import Settings


# ---- a real HTTP receiver -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers each path with its scripted statuses in turn, then 200."""

    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    delay_seconds: dict[str, float] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"{self.base_url}/hooks/{name}"

    def to(self, name: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == f"/hooks/{name}"]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.in_flight[path] = self.in_flight.get(path, 0) + 1
            self.max_in_flight[path] = max(self.max_in_flight.get(path, 0), self.in_flight[path])
            delay = self.delay_seconds.get(path, 0.0)
        try:
            if delay:
                time.sleep(delay)
            with self.lock:
                self.requests.append(Received(path, headers, body, time.monotonic()))
                statuses = self.script.get(path)
                return statuses.pop(0) if statuses else 200
        finally:
            with self.lock:
                self.in_flight[path] -= 1


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver",
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-home"


# ---- the platform ---------------------------------------------------------------------------
@dataclass
class World:
    platform: Platform
    scope: Scope
    tenant_a: str
    tenant_b: str
    program_a: str
    queue_a: str

    def viewer_of(self, tenant_id: str) -> Scope:
        return Scope(self.scope.operator_id, frozenset({tenant_id}), role=Role.CLIENT_VIEWER)

    def event(self, name: EventName, tenant_id: str | None, **data: Any) -> Event:
        return Event(name, self.platform.clock.now(), self.scope.operator_id, tenant_id, data=data)

    async def publish(self, *events: Event) -> None:
        await self.platform.bus.publish(list(events))


@pytest.fixture
def platform(store: SqlStore) -> Platform:
    return Platform(store, InProcessEventBus(), SystemClock())


async def make_world(platform: Platform) -> World:
    await platform.start()
    operator = await admin.create_operator(platform, "Operator")
    scope = Scope(operator.id)
    tenant_a = await admin.create_tenant(platform, scope, "Acme")
    tenant_b = await admin.create_tenant(platform, scope, "Globex")
    program = await admin.create_program(platform, scope, tenant_a.id, "Billing")
    queue = await admin.create_queue(platform, scope, Queue("", "", "", program.id, "Billing queue"))
    return World(platform, scope, tenant_a.id, tenant_b.id, program.id, queue.id)


@contextlib.asynccontextmanager
async def running(platform: Platform, **options: Any) -> AsyncIterator[tuple[World, wh.WebhookDispatcher]]:
    """The platform started with a world in it, and a started dispatcher (fast backoff)."""
    world = await make_world(platform)
    dispatcher = dispatcher_for(platform, **options)
    await dispatcher.start()
    try:
        yield world, dispatcher
    finally:
        await dispatcher.stop()
        await platform.stop()


def dispatcher_for(platform: Platform, **options: Any) -> wh.WebhookDispatcher:
    settings: dict[str, Any] = {"timeout_seconds": 2.0, "max_attempts": 5, "backoff_base_seconds": 0.05}
    settings.update(options)
    return wh.WebhookDispatcher(platform, **settings)


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def deliveries(world: World, webhook_id: str) -> list[wh.Delivery]:
    """The webhook's delivery log, oldest first."""
    return list(reversed(await wh.list_deliveries(world.platform, world.scope, webhook_id, limit=500)))


async def settled(world: World, webhook_id: str, count: int) -> list[wh.Delivery]:
    """Wait until the webhook has `count` deliveries, none of them pending; return them oldest first."""
    async def done() -> bool:
        log = await deliveries(world, webhook_id)
        return len(log) == count and all(d.status is not wh.DeliveryStatus.PENDING for d in log)

    await eventually(done)
    return await deliveries(world, webhook_id)


# ---- delivery and signature -----------------------------------------------------------------
def test_deliveries_are_signed_with_the_secret_shown_at_creation(platform: Platform, receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform) as (world, _):
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("a"), ["*"])
            assert hook.secret is not None and len(hook.secret) == 64
            int(hook.secret, 16)
            created = await ix.create_interaction(platform, world.scope, ix.NewInteraction(
                world.program_a, Channel.VOICE, queue_id=world.queue_a))

            log = await settled(world, hook.id, 2)
            got = receiver.to("a")
            assert [r.headers["x-hearthline-event"] for r in got] == ["InteractionCreated", "InteractionQueued"]
            for request, delivery in zip(got, log):
                headers, body = request.headers, request.body
                assert headers["content-type"] == "application/json"
                assert headers["x-hearthline-delivery"] == delivery.id == request.json["delivery_id"]
                assert headers["x-hearthline-signature"].startswith("sha256=")
                assert abs(int(headers["x-hearthline-timestamp"]) - time.time()) < 60
                assert wh.verify_signature(hook.secret, headers["x-hearthline-timestamp"], body,
                                           headers["x-hearthline-signature"])
                assert not wh.verify_signature("0" * 64, headers["x-hearthline-timestamp"], body,
                                               headers["x-hearthline-signature"])
                assert not wh.verify_signature(hook.secret, headers["x-hearthline-timestamp"], body + b" ",
                                               headers["x-hearthline-signature"])
                assert not wh.verify_signature(hook.secret, int(headers["x-hearthline-timestamp"]) + 1, body,
                                               headers["x-hearthline-signature"], tolerance_seconds=None)
                payload = request.json
                assert payload["tenant_id"] == world.tenant_a
                assert payload["interaction_id"] == created.id
                assert payload["operator_id"] == world.scope.operator_id
                assert payload["name"] == headers["x-hearthline-event"] == delivery.event_name
                assert delivery.payload == payload
                assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
                    wh.DeliveryStatus.DELIVERED, 1, 200, None)
                assert delivery.delivered_at is not None and delivery.next_attempt_at is None
            # The secret is never shown again.
            assert (await wh.get_webhook(platform, world.scope, hook.id)).secret is None
            assert [w.secret for w in await wh.list_webhooks(platform, world.scope)] == [None]

    asyncio.run(scenario())


def test_verify_signature_refuses_stale_timestamps_and_malformed_headers() -> None:
    body = b'{"name":"InteractionQueued"}'
    secret = "ab" * 32
    header = wh.sign(secret, 1_700_000_000, body)
    assert wh.verify_signature(secret, "1700000000", body, header, now=1_700_000_100)
    assert wh.verify_signature(secret, 1_700_000_000, body.decode(), header, now=1_700_000_000)
    assert not wh.verify_signature(secret, "1700000000", body, header, now=1_700_000_301)
    assert wh.verify_signature(secret, "1700000000", body, header, tolerance_seconds=None)
    assert not wh.verify_signature(secret, "soon", body, header, tolerance_seconds=None)
    assert not wh.verify_signature(secret, "1700000000", body, header.removeprefix("sha256="), tolerance_seconds=None)
    assert not wh.verify_signature(secret, "1700000000", body, "", tolerance_seconds=None)


def test_retry_delays_double_from_the_base_up_to_five_minutes_with_a_little_jitter() -> None:
    exact = [wh.retry_delay(n, rand=lambda: 0.0) for n in range(1, 12)]
    assert exact == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert wh.retry_delay(1000, rand=lambda: 0.0) == 300
    assert wh.retry_delay(3, base_seconds=0.5, rand=lambda: 0.0) == 2.0
    for n in range(1, 15):
        delay = wh.retry_delay(n)
        assert 0.9 * exact[min(n, 11) - 1] <= delay <= exact[min(n, 11) - 1]


# ---- filtering and isolation ----------------------------------------------------------------
def test_only_the_subscribed_events_of_the_tenant_are_delivered(platform: Platform, receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform) as (world, _):
            queued = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("queued"),
                                             ["InteractionQueued", "InteractionAbandoned"])
            everything = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("all"), ["*"])
            assert queued.events == ("InteractionAbandoned", "InteractionQueued")
            await world.publish(
                world.event(EventName.INTERACTION_CREATED, world.tenant_a, n=1),
                world.event(EventName.INTERACTION_QUEUED, world.tenant_a, n=2),
                world.event(EventName.AGENT_STATE_CHANGED, None, n=3),  # no tenant: never delivered
                world.event(EventName.INTERACTION_ABANDONED, world.tenant_a, n=4),
                world.event(EventName.OFFER_ACCEPTED, world.tenant_a, n=5),
            )
            await settled(world, queued.id, 2)
            await settled(world, everything.id, 4)
            assert [r.json["data"]["n"] for r in receiver.to("queued")] == [2, 4]
            assert [r.json["data"]["n"] for r in receiver.to("all")] == [1, 2, 4, 5]

    asyncio.run(scenario())


def test_another_tenants_webhook_never_receives_this_tenants_events(platform: Platform, receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform) as (world, _):
            hook_a = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("a"), ["*"])
            hook_b = await wh.create_webhook(platform, world.scope, world.tenant_b, receiver.url("b"), ["*"])
            for _ in range(3):
                await ix.create_interaction(platform, world.scope, ix.NewInteraction(
                    world.program_a, Channel.CHAT, queue_id=world.queue_a))
            await world.publish(world.event(EventName.INTERACTION_CREATED, world.tenant_b, mine="b"))
            await settled(world, hook_a.id, 6)
            await settled(world, hook_b.id, 1)
            assert {r.json["tenant_id"] for r in receiver.to("a")} == {world.tenant_a}
            assert [r.json["data"] for r in receiver.to("b")] == [{"mine": "b"}]
            # Tenant B's viewer sees neither A's webhook nor its deliveries.
            viewer_b = world.viewer_of(world.tenant_b)
            assert [w.id for w in await wh.list_webhooks(platform, viewer_b)] == [hook_b.id]
            with pytest.raises(NotFound):
                await wh.get_webhook(platform, viewer_b, hook_a.id)
            with pytest.raises(NotFound):
                await wh.list_deliveries(platform, viewer_b, hook_a.id)
            assert len(await wh.list_deliveries(platform, world.viewer_of(world.tenant_a), hook_a.id)) == 6

    asyncio.run(scenario())


def test_a_new_webhook_gets_events_at_once_and_a_deleted_one_gets_no_more(platform: Platform,
                                                                           receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform) as (world, dispatcher):
            # The tenant's (empty) subscriptions are cached by this event …
            await world.publish(world.event(EventName.INTERACTION_CREATED, world.tenant_a, n=0))
            await eventually(lambda: world.tenant_a in dispatcher._cache)
            # … and creating a webhook refreshes them.
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("a"), ["*"])
            await world.publish(world.event(EventName.INTERACTION_CREATED, world.tenant_a, n=1))
            await settled(world, hook.id, 1)
            await wh.delete_webhook(platform, world.scope, hook.id)
            with pytest.raises(NotFound):
                await wh.get_webhook(platform, world.scope, hook.id)
            with pytest.raises(NotFound):
                await wh.list_deliveries(platform, world.scope, hook.id)
            await world.publish(world.event(EventName.INTERACTION_CREATED, world.tenant_a, n=2))
            await asyncio.sleep(0.3)
            assert [r.json["data"]["n"] for r in receiver.to("a")] == [1]
            assert dispatcher.failures == 0

    asyncio.run(scenario())


# ---- retries --------------------------------------------------------------------------------
def test_a_receiver_failing_twice_gets_three_attempts_with_growing_backoff(platform: Platform,
                                                                          receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform, backoff_base_seconds=0.25) as (world, _):
            receiver.script["/hooks/flaky"] = [500, 500, 200]
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("flaky"), ["*"])
            await world.publish(world.event(EventName.INTERACTION_QUEUED, world.tenant_a))

            async def after_first_failure() -> bool:
                log = await deliveries(world, hook.id)
                return bool(log) and log[0].attempts >= 1

            await eventually(after_first_failure)
            first = (await deliveries(world, hook.id))[0]
            if first.attempts == 1:  # caught between the attempts: the log says why and when
                assert (first.status, first.last_status_code, first.last_error) == (
                    wh.DeliveryStatus.PENDING, 500, "HTTP 500")
                assert first.next_attempt_at is not None

            [delivery] = await settled(world, hook.id, 1)
            got = receiver.to("flaky")
            assert len(got) == 3
            assert len({r.headers["x-hearthline-delivery"] for r in got}) == 1
            assert len({r.body for r in got}) == 1
            for r in got:  # every attempt is signed afresh
                assert wh.verify_signature(hook.secret or "", r.headers["x-hearthline-timestamp"], r.body,
                                           r.headers["x-hearthline-signature"])
            first_gap, second_gap = got[1].at - got[0].at, got[2].at - got[1].at
            assert 0.25 * 0.9 <= first_gap < second_gap
            assert second_gap >= 0.5 * 0.9
            assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
                wh.DeliveryStatus.DELIVERED, 3, 200, None)

    asyncio.run(scenario())


def test_a_delivery_that_keeps_failing_is_given_up_and_the_next_one_goes_out(platform: Platform,
                                                                            receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform, max_attempts=3) as (world, _):
            receiver.script["/hooks/down"] = [503, 503, 503]
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("down"), ["*"])
            await world.publish(world.event(EventName.INTERACTION_QUEUED, world.tenant_a, n=1),
                                world.event(EventName.INTERACTION_QUEUED, world.tenant_a, n=2))
            gave_up, delivered = await settled(world, hook.id, 2)
            assert (gave_up.status, gave_up.attempts, gave_up.last_status_code, gave_up.last_error) == (
                wh.DeliveryStatus.FAILED, 3, 503, "HTTP 503")
            assert gave_up.next_attempt_at is None and gave_up.delivered_at is None
            assert (delivered.status, delivered.attempts, delivered.last_status_code) == (
                wh.DeliveryStatus.DELIVERED, 1, 200)
            assert [r.json["data"]["n"] for r in receiver.to("down")] == [1, 1, 1, 2]

    asyncio.run(scenario())


def test_an_unreachable_url_ends_failed_after_max_attempts(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform, max_attempts=3) as (world, dispatcher):
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, closed_port_url(), ["*"])
            await world.publish(world.event(EventName.INTERACTION_QUEUED, world.tenant_a))
            [delivery] = await settled(world, hook.id, 1)
            assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
                wh.DeliveryStatus.FAILED, 3, None)
            assert delivery.last_error is not None and delivery.last_error.startswith("ConnectError")
            assert dispatcher.attempts == 3 and dispatcher.failures == 0

    asyncio.run(scenario())


def test_a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt(platform: Platform,
                                                                       receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform, max_attempts=1, timeout_seconds=0.2) as (world, _):
            receiver.delay_seconds["/hooks/slow"] = 1.0
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("slow"), ["*"])
            await world.publish(world.event(EventName.INTERACTION_QUEUED, world.tenant_a))
            [delivery] = await settled(world, hook.id, 1)
            assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
                wh.DeliveryStatus.FAILED, 1, None)
            assert delivery.last_error is not None and delivery.last_error.startswith("timed out after 0.2 s")

    asyncio.run(scenario())


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(platform: Platform) -> None:
    """httpx's timeouts are per read; a byte every 50 ms would never trip them."""
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(65536)
            writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(60):
                if reader.at_eof():  # the sender gave up
                    break
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def scenario() -> None:
        server = await asyncio.start_server(trickle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with running(platform, max_attempts=1, timeout_seconds=0.3) as (world, _):
                hook = await wh.create_webhook(platform, world.scope, world.tenant_a,
                                               f"http://127.0.0.1:{port}/slow", ["*"])
                started = time.monotonic()
                await world.publish(world.event(EventName.INTERACTION_QUEUED, world.tenant_a))
                [delivery] = await settled(world, hook.id, 1)
                assert time.monotonic() - started < 2.0
                assert delivery.status is wh.DeliveryStatus.FAILED
                assert delivery.last_error is not None and delivery.last_error.startswith("timed out after 0.3 s")
                await asyncio.sleep(0.2)  # the handler sees the sender gone and closes
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


# ---- order and restarts ---------------------------------------------------------------------
def test_one_webhooks_deliveries_go_out_one_at_a_time_in_creation_order(platform: Platform,
                                                                         receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform) as (world, _):
            receiver.delay_seconds["/hooks/ordered"] = 0.02
            receiver.script["/hooks/ordered"] = [500]  # the first one must be retried before the rest
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("ordered"), ["*"])
            other = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("other"), ["*"])
            for batch in range(4):
                await world.publish(*(world.event(EventName.INTERACTION_QUEUED, world.tenant_a, n=batch * 5 + i)
                                      for i in range(5)))
            log = await settled(world, hook.id, 20)
            await settled(world, other.id, 20)
            numbers = [r.json["data"]["n"] for r in receiver.to("ordered")]
            assert numbers == [0, *range(20)]
            assert [d.payload["data"]["n"] for d in log] == list(range(20))
            assert [d.id for d in log] == sorted(d.id for d in log)
            assert receiver.max_in_flight["/hooks/ordered"] == 1
            assert [r.json["data"]["n"] for r in receiver.to("other")] == list(range(20))

    asyncio.run(scenario())


def test_pending_deliveries_are_resumed_after_a_restart(platform: Platform, receiver: Receiver,
                                                        store_url: str) -> None:
    async def first_run() -> tuple[str, str, str]:
        async with running(platform, backoff_base_seconds=0.2, max_attempts=10) as (world, dispatcher):
            receiver.script["/hooks/later"] = [503] * 1000
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("later"), ["*"])
            await world.publish(*(world.event(EventName.INTERACTION_QUEUED, world.tenant_a, n=n) for n in range(3)))

            async def failed_once() -> bool:
                log = await deliveries(world, hook.id)
                return bool(log) and log[0].attempts >= 1

            await eventually(failed_once)
        # Stopped: the first delivery failed once, the others never went out.
        log = await deliveries(world, hook.id)
        assert [d.status for d in log] == [wh.DeliveryStatus.PENDING] * 3
        assert log[0].attempts >= 1 and log[0].last_status_code == 503
        assert dispatcher.running is False
        return world.scope.operator_id, world.tenant_a, hook.id

    operator_id, tenant_a, hook_id = asyncio.run(first_run())
    tried = len(receiver.to("later"))
    receiver.script["/hooks/later"] = []  # the receiver is back

    async def second_run() -> None:
        # A new process: new store object, platform and dispatcher on the same database.
        store = SqlStore(store_url)
        store.start()
        try:
            again = Platform(store, InProcessEventBus(), SystemClock())
            await again.start()
            dispatcher = dispatcher_for(again, backoff_base_seconds=0.2, max_attempts=10)
            await dispatcher.start()
            try:
                world = World(again, Scope(operator_id), tenant_a, tenant_a, "", "")
                log = await settled(world, hook_id, 3)
            finally:
                await dispatcher.stop()
                await again.stop()
        finally:
            store.close()
        assert [d.status for d in log] == [wh.DeliveryStatus.DELIVERED] * 3
        assert log[0].attempts == tried + 1 and log[1].attempts == 1
        assert [r.json["data"]["n"] for r in receiver.to("later")[tried:]] == [0, 1, 2]

    asyncio.run(second_run())


def test_a_failing_store_is_logged_and_counted_and_never_reaches_the_bus(
        platform: Platform, receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with running(platform) as (world, dispatcher):
            await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("a"), ["*"])
            bus = platform.bus
            assert isinstance(bus, InProcessEventBus)
            platform.store.close()  # every store call now fails
            try:
                with caplog.at_level(logging.ERROR, logger="hearthline.services.webhooks"):
                    await world.publish(world.event(EventName.INTERACTION_QUEUED, world.tenant_a))
                    await eventually(lambda: dispatcher.failures >= 1)
            finally:
                platform.store.start()
            assert bus.failures == 0
            assert "could not store deliveries for 1 event(s) (InteractionQueued)" in caplog.text

    asyncio.run(scenario())


# ---- the use cases' rules -------------------------------------------------------------------
@pytest.mark.parametrize("url, problem", [
    ("ftp://example.org/hook", "http:// or https://"),
    ("example.org/hook", "http:// or https://"),
    ("http:///nohost", "must name a host"),
    ("https://user:pw@example.org/", "credentials"),
    ("https://example.org/a b", "spaces"),
    ("https://example.org:99999/", "not a valid URL"),
    ("https://example.org/" + "x" * 2000, "at most 2000"),
    ("", "give the URL"),
])
def test_bad_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        wh.check_url(url)


def test_good_urls_are_kept_as_given() -> None:
    prefix = "https://hooks.example.org:8443/in/"
    url = prefix + "x" * (2000 - len(prefix))
    assert len(url) == 2000 and wh.check_url(url) == url
    assert wh.check_url("http://127.0.0.1:9000/h?x=1") == "http://127.0.0.1:9000/h?x=1"


@pytest.mark.parametrize("events, problem", [
    ([], "at least one"),
    (["*", "InteractionQueued"], "give it alone"),
    (["InteractionQueued", "SomethingElse"], "unknown event names: SomethingElse"),
    ("InteractionQueued", "give a list"),
])
def test_bad_event_lists_are_refused(events: Any, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        wh.check_events(events)


def test_event_lists_are_deduplicated_and_sorted() -> None:
    assert wh.check_events(["OfferAccepted", "InteractionQueued", "OfferAccepted"]) == (
        "InteractionQueued", "OfferAccepted")
    assert wh.check_events(["*", "*"]) == ("*",)


def test_only_admins_change_webhooks_and_agents_do_not_see_them(platform: Platform, receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform) as (world, _):
            op = world.scope.operator_id
            supervisor = Scope(op, role=Role.SUPERVISOR)
            agent = Scope(op, role=Role.AGENT, agent_id="a1")
            viewer = world.viewer_of(world.tenant_a)
            for scope in (supervisor, agent, viewer):
                with pytest.raises(PermissionDenied):
                    await wh.create_webhook(platform, scope, world.tenant_a, receiver.url("a"), ["*"])
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("a"), ["*"])
            for scope in (supervisor, viewer):
                with pytest.raises(PermissionDenied):
                    await wh.delete_webhook(platform, scope, hook.id)
                assert (await wh.get_webhook(platform, scope, hook.id)).url == receiver.url("a")
            with pytest.raises(PermissionDenied):
                await wh.list_webhooks(platform, agent)
            with pytest.raises(NotFound):  # a tenant outside the scope does not exist for it
                await wh.create_webhook(platform, Scope(op, frozenset({world.tenant_b})), world.tenant_a,
                                        receiver.url("a"), ["*"])
            with pytest.raises(NotFound):
                await wh.create_webhook(platform, world.scope, "no-such-tenant", receiver.url("a"), ["*"])
            with pytest.raises(InvalidInput):
                await wh.list_deliveries(platform, world.scope, hook.id, limit=0)
            with pytest.raises(NotFound):
                await wh.delete_webhook(platform, world.scope, "no-such-webhook")
            assert [w.tenant_id for w in await wh.list_webhooks(platform, world.scope, world.tenant_b)] == []

    asyncio.run(scenario())


def test_deleting_a_webhook_removes_its_delivery_log(platform: Platform, receiver: Receiver) -> None:
    async def scenario() -> None:
        async with running(platform, max_attempts=2) as (world, _):
            receiver.script["/hooks/a"] = [500, 500]
            hook = await wh.create_webhook(platform, world.scope, world.tenant_a, receiver.url("a"), ["*"])
            await world.publish(world.event(EventName.INTERACTION_QUEUED, world.tenant_a))
            await settled(world, hook.id, 1)
            await wh.delete_webhook(platform, world.scope, hook.id)
            assert platform.store.count(wh.t.webhook_deliveries, webhook_id=hook.id) == 0
            # A tenant with a webhook cannot be deleted; once the webhook is gone, it can.
            other = await wh.create_webhook(platform, world.scope, world.tenant_b, receiver.url("b"), ["*"])
            with pytest.raises(Conflict):
                await admin.delete_tenant(platform, world.scope, world.tenant_b)
            await wh.delete_webhook(platform, world.scope, other.id)
            await admin.delete_tenant(platform, world.scope, world.tenant_b)

    asyncio.run(scenario())


def test_attach_builds_the_dispatcher_from_settings_and_platform_stop_stops_it(platform: Platform) -> None:
    async def scenario() -> None:
        dispatcher = wh.attach(platform, Settings(webhook_timeout_seconds=2.5, webhook_max_attempts=4))
        assert (dispatcher.timeout_seconds, dispatcher.max_attempts) == (2.5, 4)
        await platform.start()
        await dispatcher.start()
        assert dispatcher.running and platform.webhook_listeners == [dispatcher.invalidate]
        await platform.stop()
        assert not dispatcher.running and platform.webhook_listeners == []
        await dispatcher.stop()  # idempotent

    asyncio.run(scenario())


# ---- the HTTP API -----------------------------------------------------------------------------
PASSWORD = "correct-horse-battery"


@dataclass
class Web:
    client: Any  # fastapi.testclient.TestClient
    tokens: dict[str, str]  # who → bearer token
    tenant_a: str
    tenant_b: str
    program_a: str
    queue_a: str

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.request(method, "/api/v1/webhooks" + path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """The real app on SQLite with its dispatcher started as the lifespan will start it, an operator
    with tenants A and B, and a user per role (the viewers: one of A, one of B). Shared by the
    module's API tests: hashing passwords is deliberately slow."""
    from fastapi.testclient import TestClient

    from hearthline.bootstrap import build
    from hearthline.config import load_settings
    from hearthline.domain.agents import Agent
    from hearthline.entrypoints.web.app import create_app

    settings = load_settings({"data_dir": tmp_path_factory.mktemp("web"), "webhook_max_attempts": 3}, environ={})

    async def seed() -> tuple[str, str, str, str, dict[str, str]]:
        platform = build(settings).platform
        platform.store.start()
        platform.store.upgrade()
        try:
            op = await admin.create_operator(platform, "Operator")
            scope = Scope(op.id)
            a = await admin.create_tenant(platform, scope, "Acme")
            b = await admin.create_tenant(platform, scope, "Globex")
            program = await admin.create_program(platform, scope, a.id, "Billing")
            queue = await admin.create_queue(platform, scope, Queue("", "", "", program.id, "Billing queue"))
            agent = await admin.create_agent(platform, scope, Agent("", "", "Ann"))
            users = {"admin": (Role.ADMIN, None, None), "supervisor": (Role.SUPERVISOR, None, None),
                     "agent": (Role.AGENT, None, agent.id), "viewer_a": (Role.CLIENT_VIEWER, a.id, None),
                     "viewer_b": (Role.CLIENT_VIEWER, b.id, None)}
            for name, (role, tenant, agent_id) in users.items():
                await admin.create_user(platform, scope, username=f"{name}-{op.id[:6]}", password=PASSWORD,
                                        role=role, tenant_id=tenant, agent_id=agent_id)
            return a.id, b.id, program.id, queue.id, {name: f"{name}-{op.id[:6]}" for name in users}
        finally:
            await platform.stop()
            platform.store.close()

    tenant_a, tenant_b, program_a, queue_a, usernames = asyncio.run(seed())
    components = build(settings)
    app = create_app(components)  # its lifespan starts the webhook dispatcher that bootstrap built
    with TestClient(app) as client:
        tokens = {}
        for who, username in usernames.items():
            response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert response.status_code == 201, response.text
            tokens[who] = response.json()["access_token"]
        yield Web(client, tokens, tenant_a, tenant_b, program_a, queue_a)


@pytest.fixture
def web(web_app: Web) -> Iterator[Web]:
    """The shared app, with every webhook deleted after the test."""
    yield web_app
    for hook in web_app.call("admin", "GET", "").json():
        assert web_app.call("admin", "DELETE", f"/{hook['id']}").status_code == 204


def test_the_api_creates_lists_shows_and_deletes_webhooks_and_shows_deliveries(web: Web,
                                                                               receiver: Receiver) -> None:
    created = web.call("admin", "POST", "", json={"tenant_id": web.tenant_a, "url": receiver.url("api"),
                                                  "events": ["InteractionQueued"]})
    assert created.status_code == 201, created.text
    hook = created.json()
    assert set(hook) == {"id", "tenant_id", "url", "events", "active", "created_at", "secret"}
    assert (hook["tenant_id"], hook["url"], hook["events"], hook["active"]) == (
        web.tenant_a, receiver.url("api"), ["InteractionQueued"], True)
    assert hook["created_at"].endswith(("Z", "+00:00"))

    shown = web.call("admin", "GET", f"/{hook['id']}").json()
    assert "secret" not in shown and shown == {k: v for k, v in hook.items() if k != "secret"}
    assert [w["id"] for w in web.call("supervisor", "GET", "").json()] == [hook["id"]]
    assert [w["id"] for w in web.call("admin", "GET", "", params={"tenant_id": web.tenant_a}).json()] == [hook["id"]]
    assert web.call("admin", "GET", "", params={"tenant_id": web.tenant_b}).json() == []

    # An interaction made through the API reaches the receiver, signed.
    response = web.client.post("/api/v1/interactions", headers={"Authorization": f"Bearer {web.tokens['admin']}"},
                               json={"program_id": web.program_a, "channel": "voice", "queue_id": web.queue_a})
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 10
    while not receiver.to("api") and time.monotonic() < deadline:
        time.sleep(0.02)
    [request] = receiver.to("api")
    assert wh.verify_signature(hook["secret"], request.headers["x-hearthline-timestamp"], request.body,
                               request.headers["x-hearthline-signature"])
    assert request.json["interaction_id"] == response.json()["id"]
    log: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        log = web.call("viewer_a", "GET", f"/{hook['id']}/deliveries", params={"limit": 10}).json()
        if log and log[0]["status"] == "delivered":
            break
        time.sleep(0.02)
    [delivery] = log
    assert (delivery["event_name"], delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "InteractionQueued", "delivered", 1, 200)
    assert delivery["id"] == request.headers["x-hearthline-delivery"] == delivery["payload"]["delivery_id"]

    assert web.call("admin", "DELETE", f"/{hook['id']}").status_code == 204
    assert web.call("admin", "GET", f"/{hook['id']}").status_code == 404
    assert web.call("admin", "DELETE", f"/{hook['id']}").status_code == 404


def test_the_api_lets_only_admins_write_and_keeps_tenants_apart(web: Web, receiver: Receiver) -> None:
    body = {"tenant_id": web.tenant_a, "url": receiver.url("x"), "events": ["*"]}
    for who in ("supervisor", "agent", "viewer_a"):
        response = web.call(who, "POST", "", json=body)
        assert response.status_code == 403, (who, response.text)
        assert response.json()["error"] == "permission-denied"
    hook = web.call("admin", "POST", "", json=body).json()
    path = f"/{hook['id']}"

    assert web.call("viewer_a", "GET", path).status_code == 200
    assert [w["id"] for w in web.call("viewer_a", "GET", "").json()] == [hook["id"]]
    assert web.call("viewer_a", "GET", f"{path}/deliveries").status_code == 200
    assert web.call("agent", "GET", "").status_code == 403
    assert web.call("agent", "GET", path).status_code == 403
    # Tenant B's viewer: A's webhook does not exist for her, whatever she tries.
    assert web.call("viewer_b", "GET", "").json() == []
    for method, sub in (("GET", path), ("GET", f"{path}/deliveries"), ("DELETE", path)):
        response = web.call("viewer_b", method, sub)
        assert response.status_code == 404, (method, sub, response.text)
        assert response.json()["error"] == "not-found"
    # A's viewer and the supervisor see it but may not delete it.
    for who in ("viewer_a", "supervisor"):
        assert web.call(who, "DELETE", path).status_code == 403
    assert web.call("admin", "GET", path).status_code == 200
    unauthenticated = web.client.get("/api/v1/webhooks")
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"url": "https://example.org/h", "events": ["*"]}, "tenant_id"),
    ({"tenant_id": "TENANT", "url": "ftp://example.org/h", "events": ["*"]}, "url"),
    ({"tenant_id": "TENANT", "url": "https://example.org/" + "x" * 2000, "events": ["*"]}, "url"),
    ({"tenant_id": "TENANT", "url": "https://example.org/h", "events": []}, "events"),
    ({"tenant_id": "TENANT", "url": "https://example.org/h", "events": ["Nope"]}, "events"),
    ({"tenant_id": "TENANT", "url": "https://example.org/h", "events": "*"}, "events"),
    ({"tenant_id": "TENANT", "url": "https://example.org/h", "events": ["*"], "secret": "mine"}, "secret"),
    ({"tenant_id": "TENANT", "url": 5, "events": ["*"]}, "url"),
])
def test_the_api_refuses_malformed_webhooks(web: Web, body: dict[str, Any], field: str) -> None:
    body = {k: (web.tenant_a if v == "TENANT" else v) for k, v in body.items()}
    response = web.call("admin", "POST", "", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid-input"
    assert field in response.text


def test_the_api_bounds_the_delivery_log_and_ids(web: Web, receiver: Receiver) -> None:
    hook = web.call("admin", "POST", "", json={"tenant_id": web.tenant_a, "url": receiver.url("x"),
                                               "events": ["*"]}).json()
    assert web.call("admin", "GET", f"/{hook['id']}/deliveries", params={"limit": 0}).status_code == 422
    assert web.call("admin", "GET", f"/{hook['id']}/deliveries", params={"limit": 501}).status_code == 422
    assert web.call("admin", "GET", f"/{hook['id']}/deliveries", params={"limit": 500}).json() == []
    assert web.call("admin", "GET", "/not%20an%20id").status_code in (404, 422)
    assert web.call("admin", "GET", "/" + "a" * 65).status_code in (404, 422)
