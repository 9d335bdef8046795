"""The running application's services: the store, the bus, one router per operator, the clock.

Built by bootstrap.py; started and stopped by the entrypoint (the web app's lifespan, the CLI).
Use-case modules (admin, interactions, auth, webhooks) take a Platform and a Scope.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, TypeVar

from ..adapters.sql.store import SqlStore
from ..domain.center import ContactCenter
from ..domain.mail import Mailer
from ..domain.organization import Scope
from ..domain.tone import ToneScorer
from .bus import EventBus
from .router import Clock, Router

log = logging.getLogger(__name__)
T = TypeVar("T")


class Platform:
    def __init__(self, store: SqlStore, bus: EventBus, clock: Clock, *, offer_timeout_seconds: int = 20,
                 tone: ToneScorer | None = None) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.tone = tone  # scores customer messages; None: no tone (unit tests of other parts)
        # Channel name → how an agent's message leaves (e-mail: through the SMTP relay). A chat
        # message needs none: the customer's socket takes it from the bus.
        self.message_senders: dict[str, Callable[[Any, Any], Awaitable[None]]] = {}
        self.mailer: Mailer | None = None  # the SMTP relay, set by the e-mail component when configured
        self.offer_timeout_seconds = offer_timeout_seconds
        self.routers: dict[str, Router] = {}
        self._lock = asyncio.Lock()
        self._stoppers: list[Callable[[], Awaitable[None]]] = []
        # Called with a tenant id after that tenant's webhooks changed (services/webhooks.py), so a
        # running WebhookDispatcher drops its cached subscriptions at once.
        self.webhook_listeners: list[Callable[[str], None]] = []

    async def start(self) -> None:
        """Start a router for every operator in the store."""
        for operator_id in await self.run(self.store.operator_ids):
            await self.router(operator_id)

    async def stop(self) -> None:
        for stop in reversed(self._stoppers):
            try:
                await stop()
            except Exception:
                log.exception("a component failed to stop")
        for router in list(self.routers.values()):
            await router.stop()
        self.routers.clear()

    def on_stop(self, stop: Callable[[], Awaitable[None]]) -> None:
        self._stoppers.append(stop)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call in a worker thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def router(self, operator_id: str) -> Router:
        router = self.routers.get(operator_id)
        if router is not None:
            return router
        async with self._lock:
            router = self.routers.get(operator_id)
            if router is None:
                router = Router(operator_id, self.store, self.bus, self.clock,
                                offer_timeout_seconds=self.offer_timeout_seconds)
                await router.start()
                self.routers[operator_id] = router
        return router

    async def in_router(self, scope: Scope, fn: Callable[[ContactCenter, Any], T]) -> T:
        """Run `fn(center, now)` in the scope's operator router."""
        router = await self.router(scope.operator_id)
        return await router.execute(fn)

    async def reload_router(self, operator_id: str) -> None:
        """Configuration changed in a way the router cannot apply incrementally: rebuild it."""
        router = self.routers.pop(operator_id, None)
        if router is not None:
            await router.stop()
        await self.router(operator_id)
