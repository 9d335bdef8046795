"""The live feed: `GET /api/v1/ws` (WebSocket).

Authenticated by `?token=<api token>` or the session cookie; without valid credentials the
socket is accepted and closed at once with code 4401.

What each role receives (every message is a JSON object with a `type`):
* an agent: `{"type": "state", "state": {...}}` and her pending offers right after connecting;
  then `{"type": "event", "event": {...}}` for every event about her, followed by
  `{"type": "offer", "offer": {...}}` when the event offers her a contact (unless the offer is
  already gone). If she reads too slowly, the oldest events are dropped and
  `{"type": "dropped", "count": n}` tells her to reload.
* admins, supervisors and client viewers: `{"type": "snapshot", "queues": [...], "agents": [...]}`
  right after connecting, then at most once a second while events in their scope happen, and at
  least every 5 s. Client viewers get their tenant's queues and no agents. Admins and supervisors
  also get `{"type": "alert", "alert": {...}}` at once for every alert raised or acknowledged.
  A watcher may follow up to 20 conversations read-only: she sends
  `{"type": "watch", "interaction_id": "..."}` (answered `{"type": "watching", ...}`, or
  `{"type": "error", ...}` for an interaction out of her sight) and then receives every event of
  that interaction — messages, typing, read receipts, state changes — as `{"type": "event"}`;
  `{"type": "unwatch", "interaction_id": "..."}` stops it.

A snapshot is built only when it is about to be sent, so a slow reader never holds more than one;
superseded ones are never made. Other messages from the client are read and ignored.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ...domain.errors import DomainError
from ...domain.events import Event, EventName
from ...domain.organization import Role
from ...services import interactions as work
from ...services.platform import Platform
from .deps import SESSION_COOKIE, Caller, components, cookie_token, same_origin

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_GOING_AWAY = 1001
SNAPSHOT_MIN_SECONDS = 1.0
SNAPSHOT_MAX_SECONDS = 5.0
MAX_PENDING_EVENTS = 256
MAX_WATCHED = 20
ALERT_EVENTS = (EventName.ALERT_RAISED, EventName.ALERT_ACKNOWLEDGED)


@router.websocket("/api/v1/ws")
async def live_feed(websocket: WebSocket) -> None:
    caller = await _authenticate(websocket)
    await websocket.accept()
    if caller is None:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason="authentication required")
        return
    if caller.role is Role.AGENT and caller.scope.agent_id is None:
        await websocket.close(code=CLOSE_FORBIDDEN, reason="this user is not linked to an agent")
        return
    await LiveFeed(components(websocket).platform, caller).run(websocket)


async def _authenticate(websocket: WebSocket) -> Caller | None:
    token = websocket.query_params.get("token")
    if not token:
        if not same_origin(websocket):
            return None  # a page of another site must not ride on the browser's session cookie
        token = cookie_token(websocket, websocket.cookies.get(SESSION_COOKIE))
    if not token:
        return None
    try:
        user, scope = await components(websocket).auth.authenticate(token)
    except DomainError:
        return None
    return Caller(user, scope)


async def serve(websocket: WebSocket, sending: Coroutine[Any, Any, None], receiving: Coroutine[Any, Any, None],
                report: Callable[[asyncio.Task[None]], None]) -> None:
    """Run a socket's sender and receiver until either ends (the peer left, or sending failed):
    stop the other, `report` how the first one ended, and close the socket if it is still open."""
    sender, receiver = asyncio.create_task(sending), asyncio.create_task(receiving)
    try:
        done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await task
        for task in done:
            report(task)
    finally:
        sender.cancel()
        receiver.cancel()
    if websocket.application_state is WebSocketState.CONNECTED \
            and websocket.client_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code=CLOSE_GOING_AWAY)


class LiveFeed:
    """One connection: a bus subscriber that only records what happened (it runs inside the
    router's publish and must never wait), and a sender that turns that into messages."""

    def __init__(self, platform: Platform, caller: Caller) -> None:
        self.platform = platform
        self.caller = caller
        self.scope = caller.scope
        self.agent_id = caller.scope.agent_id if caller.role is Role.AGENT else None
        # What the sender has to send: events, replies to the client's requests (dicts), and
        # None — "something in scope changed: a snapshot is due".
        self.events: asyncio.Queue[Event | dict[str, Any] | None] = asyncio.Queue(MAX_PENDING_EVENTS)
        self.dropped = 0
        self.snapshot_due = False
        self.due_since = 0.0
        self.watching: set[str] = set()
        self.sees_alerts = caller.role in (Role.ADMIN, Role.SUPERVISOR)

    # ---- the bus side -----------------------------------------------------------------------
    def _in_scope(self, event: Event) -> bool:
        return event.operator_id == self.scope.operator_id and self.scope.sees_tenant(event.tenant_id)

    async def on_events(self, events: list[Event]) -> None:
        for event in events:
            if event.operator_id != self.scope.operator_id:
                continue
            if self.agent_id is not None:
                if event.agent_id == self.agent_id:
                    self._push(event)
            elif self._in_scope(event):
                if event.interaction_id in self.watching or (self.sees_alerts and event.name in ALERT_EVENTS):
                    self._push(event)
                if not self.snapshot_due:
                    self.snapshot_due = True
                    self.due_since = asyncio.get_running_loop().time()
                    self._push(None)

    def _push(self, event: Event | dict[str, Any] | None) -> None:
        if self.events.full():
            self.events.get_nowait()
            self.dropped += 1
        self.events.put_nowait(event)

    # ---- the connection ---------------------------------------------------------------------
    async def run(self, websocket: WebSocket) -> None:
        unsubscribe = self.platform.bus.subscribe(self.on_events, agent_id=self.agent_id)
        try:
            await serve(websocket, self._send_loop(websocket), self._receive_loop(websocket),
                        lambda task: self._report(task, websocket))
        finally:
            unsubscribe()

    def _report(self, task: asyncio.Task[None], websocket: WebSocket) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is None or isinstance(error, (WebSocketDisconnect, ConnectionError)):
            return
        if websocket.client_state is not WebSocketState.CONNECTED:
            return  # the peer went away mid-send: a normal end
        if isinstance(error, DomainError):
            log.info("live feed of user %s ended: %s", self.caller.user.id, error.message)
            return
        log.error("live feed of user %s failed", self.caller.user.id, exc_info=error)

    async def _receive_loop(self, websocket: WebSocket) -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if self.agent_id is None and message.get("text"):
                await self._request(message["text"])

    async def _request(self, text: str) -> None:
        """A watcher's watch/unwatch request; anything else is ignored."""
        try:
            request = json.loads(text) if len(text) <= 1000 else None
        except ValueError:
            return
        if not isinstance(request, dict) or not isinstance(request.get("interaction_id"), str):
            return
        interaction_id = request["interaction_id"][:64]
        if request.get("type") == "unwatch":
            self.watching.discard(interaction_id)
        elif request.get("type") == "watch":
            if len(self.watching) >= MAX_WATCHED and interaction_id not in self.watching:
                self._push({"type": "error", "interaction_id": interaction_id,
                            "error": f"at most {MAX_WATCHED} conversations at once"})
                return
            try:
                await work.get_interaction(self.platform, self.scope, interaction_id)
            except DomainError as err:
                self._push({"type": "error", "interaction_id": interaction_id, "error": err.message})
                return
            self.watching.add(interaction_id)
            self._push({"type": "watching", "interaction_id": interaction_id})

    async def _send_loop(self, websocket: WebSocket) -> None:
        if self.agent_id is not None:
            await self._feed_agent(websocket, self.agent_id)
        else:
            await self._feed_watcher(websocket)

    async def _feed_agent(self, websocket: WebSocket, agent_id: str) -> None:
        p, scope = self.platform, self.scope
        await websocket.send_json({"type": "state", "state": await work.agent_state(p, scope, agent_id)})
        for offer in await work.list_offers(p, scope, agent_id):
            await websocket.send_json({"type": "offer", "offer": offer})
        while True:
            event = await self.events.get()
            assert isinstance(event, Event)  # an agent's queue holds events only
            if self.dropped:
                await websocket.send_json({"type": "dropped", "count": self.dropped})
                self.dropped = 0
            await websocket.send_json({"type": "event", "event": event.as_dict()})
            if event.name is EventName.INTERACTION_OFFERED:
                offer = await self._offer(agent_id, event.data.get("offer_id"))
                if offer is not None:
                    await websocket.send_json({"type": "offer", "offer": offer})

    async def _offer(self, agent_id: str, offer_id: Any) -> dict[str, Any] | None:
        offers = await work.list_offers(self.platform, self.scope, agent_id)
        return next((o for o in offers if o["id"] == offer_id), None)

    async def _feed_watcher(self, websocket: WebSocket) -> None:
        """Snapshots at most every SNAPSHOT_MIN_SECONDS while things change and at least every
        SNAPSHOT_MAX_SECONDS; watched conversations' events and alerts as they come."""
        loop = asyncio.get_running_loop()
        dirty = True
        changed_at = loop.time()  # the snapshot to send must be built after this
        sent_at = -SNAPSHOT_MAX_SECONDS
        while True:
            now = loop.time()
            if (dirty and now - sent_at >= SNAPSHOT_MIN_SECONDS) or now - sent_at >= SNAPSHOT_MAX_SECONDS:
                not_before = changed_at if dirty else sent_at
                dirty = False
                await websocket.send_text(await self.snapshot(not_before))
                sent_at = loop.time()
            wait = (SNAPSHOT_MIN_SECONDS if dirty else SNAPSHOT_MAX_SECONDS) - (loop.time() - sent_at)
            try:
                item = await asyncio.wait_for(self.events.get(), max(0.0, wait))
            except TimeoutError:
                continue
            if self.dropped:
                await websocket.send_json({"type": "dropped", "count": self.dropped})
                self.dropped = 0
            if item is None:
                self.snapshot_due = False
                if not dirty:
                    changed_at = self.due_since
                dirty = True
            elif isinstance(item, dict):
                await websocket.send_json(item)
            elif item.name in ALERT_EVENTS and item.interaction_id not in self.watching:
                await websocket.send_json({"type": "alert", "alert": item.data.get("alert")})
            else:
                await websocket.send_json({"type": "event", "event": item.as_dict()})
                if item.name in ALERT_EVENTS:
                    await websocket.send_json({"type": "alert", "alert": item.data.get("alert")})

    async def snapshot(self, not_before: float) -> str:
        """The snapshot for this watcher's scope, as JSON text, built at or after `not_before`
        (loop time) — shared with every other watcher of the same scope."""
        cache = _SNAPSHOTS.get(self.platform)
        if cache is None:
            cache = _SNAPSHOTS[self.platform] = SnapshotCache(self.platform)
        return await cache.get(self.caller, not_before)


class SnapshotCache:
    """Snapshots shared by the watchers of one scope: a hundred supervisors watching the same
    operator cost one build and one serialisation a second, not a hundred (bench/realtime.py).
    A watcher asks for a snapshot built no earlier than the change it wants to see; one built
    since then by another watcher's request is reused, one being built is awaited."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._built: dict[tuple[Any, ...], tuple[float, str]] = {}  # key → (build started, JSON text)
        self._building: dict[tuple[Any, ...], tuple[float, asyncio.Future[str]]] = {}

    async def get(self, caller: Caller, not_before: float) -> str:
        scope = caller.scope
        key = (scope.operator_id, None if scope.tenant_ids is None else tuple(sorted(scope.tenant_ids)),
               caller.role is Role.CLIENT_VIEWER)
        built = self._built.get(key)
        if built is not None and built[0] >= not_before:
            return built[1]
        building = self._building.get(key)
        if building is not None and building[0] >= not_before:
            return await asyncio.shield(building[1])
        loop = asyncio.get_running_loop()
        started, future = loop.time(), loop.create_future()
        self._building[key] = (started, future)
        try:
            text = json.dumps(await _build(self.platform, caller))
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: waiting watchers get it, nobody else needs to
            raise
        finally:
            if self._building.get(key, (None, None))[1] is future:
                del self._building[key]
        if not future.done():
            future.set_result(text)
        if key not in self._built or self._built[key][0] < started:
            self._built[key] = (started, text)
        return text


async def _build(platform: Platform, caller: Caller) -> dict[str, Any]:
    scope, viewer = caller.scope, caller.role is Role.CLIENT_VIEWER

    def both(center: Any, now: Any) -> dict[str, Any]:  # one router command for the whole picture
        queues = [center.queue_snapshot(q.id, now) for q in center.queues.values() if scope.sees_tenant(q.tenant_id)]
        agents = [] if viewer else [center.agent_snapshot(a, now) for a in sorted(
            center.agents, key=lambda a: center.agents[a].profile.name)]
        return {"type": "snapshot", "queues": queues, "agents": agents}

    return await platform.in_router(scope, both)


_SNAPSHOTS: weakref.WeakKeyDictionary[Platform, SnapshotCache] = weakref.WeakKeyDictionary()

