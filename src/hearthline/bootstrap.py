"""The composition root: the one place that builds adapters and services from settings."""
from __future__ import annotations

from dataclasses import dataclass

from .adapters.sql.store import SqlStore
from .adapters.tone import VaderTone
from .config import Settings
from .services.auth import Auth
from .services.bus import InProcessEventBus
from .services.platform import Platform
from .services.router import Clock, SystemClock
from .services.webhooks import WebhookDispatcher, attach as attach_webhooks


@dataclass(slots=True)
class Components:
    settings: Settings
    platform: Platform
    auth: Auth
    webhooks: WebhookDispatcher


def build(settings: Settings, *, clock: Clock | None = None) -> Components:
    """Build everything, connecting nothing: call `start()` on the platform (the web lifespan
    does) after `platform.store.start()` and `upgrade()`."""
    store = SqlStore(settings.effective_database_url())
    bus = InProcessEventBus()
    platform = Platform(store, bus, clock or SystemClock(), offer_timeout_seconds=settings.offer_timeout_seconds,
                        tone=VaderTone())
    auth = Auth(platform, login_attempts_per_minute=settings.login_attempts_per_minute,
                session_max_age_seconds=settings.session_max_age_seconds)
    return Components(settings, platform, auth, attach_webhooks(platform, settings))
