"""The one ASGI application: the JSON API under /api/v1, the live WebSocket, the HTML pages and
static files. `create_app(components)` builds it from the composition root's components; the
lifespan opens the store, brings the schema up to date and starts the routers, and undoes that
on shutdown. Nothing connects before the lifespan starts.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from ...bootstrap import Components
from ...services.alerts import ThresholdWatch
from .deps import session_serializer
from .errors import BodySizeLimitMiddleware, CatchAllMiddleware, install_error_handlers
from .routes import (
    agents, auth, conversations, interactions, offers, operator, pause_reasons, programs, queues, referrals, skills, stats, tenants,
    users, workflows,
)
from . import ws
from .routes import chat

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
API_ROUTERS = (auth.router, operator.router, tenants.router, programs.router, users.router, agents.router,
               offers.router, skills.router, pause_reasons.router, queues.router, workflows.router,
               interactions.router, conversations.router, referrals.router, stats.router)


def _optional_router(module_name: str) -> APIRouter | None:
    """The `router` of a module that other engineers own and may not have written yet (the HTML
    pages, the webhooks API). A missing module is skipped; a broken one fails loudly."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        log.debug("%s is not there yet; its routes are skipped", module_name)
        return None
    return module.router


class _RedactTokens(logging.Filter):
    """The WebSocket takes `?token=`; keep the token out of the server's request log lines."""

    _pattern = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._pattern.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def _redact_server_logs() -> None:
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactTokens) for f in logger.filters):
            logger.addFilter(_RedactTokens())


def create_app(components: Components) -> FastAPI:
    platform, settings = components.platform, components.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform.store.start()
        try:
            await asyncio.to_thread(platform.store.upgrade)
            # before the routers: they publish events while rebuilding (offers reverted)
            await components.webhooks.start()
            await platform.start()
            thresholds = ThresholdWatch(platform)
            await thresholds.start()
            platform.on_stop(thresholds.stop)
            if components.email is not None:  # after the routers: mail becomes interactions
                platform.on_stop(components.email.stop)
                await components.email.start()
            try:
                # The CLI's demo starts its simulators here, once the platform runs.
                after_start = getattr(app.state, "after_start", None)
                if after_start is not None:
                    await after_start(components)
                yield
            finally:
                await platform.stop()
        finally:
            platform.store.close()

    app = FastAPI(title="Hearthline", version="1", openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
                  lifespan=lifespan,
                  description="The Hearthline virtual call center API. Errors: see docs/ERRORS.md.")
    app.state.components = components
    app.state.session_serializer = session_serializer(settings)
    install_error_handlers(app)
    # Added last = outermost: the size limit sees the raw request first.
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # The customer chat: its routes, and CORS for them (outermost, so every answer carries it).
    chat.install(app)

    @app.get("/healthz", tags=["health"], summary="200 while the store answers")
    async def healthz() -> Any:
        if await asyncio.to_thread(platform.store.ping):
            return {"status": "ok"}
        return JSONResponse({"status": "unavailable"}, status_code=503)

    for router in API_ROUTERS:
        app.include_router(router)
    app.include_router(auth.forms)
    app.include_router(ws.router)
    for name in ("hearthline.entrypoints.web.routes.pages", "hearthline.entrypoints.web.routes.webhooks",
                 "hearthline.entrypoints.web.routes.content", "hearthline.entrypoints.web.routes.admin_pages",
                 "hearthline.entrypoints.web.routes.email"):
        optional = _optional_router(name)
        if optional is not None:
            app.include_router(optional)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _redact_server_logs()
    return app
