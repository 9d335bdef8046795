"""Threshold alerts: a queue whose service level, ASA, abandonment or estimated wait goes well past
its threshold raises one alert for supervisors, and can raise another only after it has been
back within its thresholds (no alert storm while a queue hovers at the line).

Tone alerts are raised where messages arrive (services/conversations.py); both kinds land in the
`alerts` table and reach supervisors' consoles as `{"type": "alert"}` over the WebSocket.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from ..domain.center import ContactCenter
from ..domain.queues import BAD, OK
from .conversations import raise_alert
from .platform import Platform

log = logging.getLogger(__name__)

LABELS = {"service_level": "service level", "asa": "average speed of answer", "abandonment": "abandonment",
          "ewt": "estimated wait"}


def _snapshots(center: ContactCenter, now: datetime) -> list[dict[str, Any]]:
    return [center.queue_snapshot(q, now) for q in center.queues]


class ThresholdWatch:
    def __init__(self, platform: Platform, *, interval_seconds: float = 5.0) -> None:
        self.platform = platform
        self.interval_seconds = interval_seconds
        self._armed: dict[tuple[str, str], bool] = {}  # (queue, figure) → may raise; False once raised
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="threshold-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("threshold watch: a check failed; the next one runs as usual")

    async def check(self) -> list[dict[str, Any]]:
        """Compare every queue's live figures with its thresholds once; returns the alerts raised."""
        raised = []
        for operator_id, router in list(self.platform.routers.items()):
            for live in await router.execute(_snapshots):
                for figure, level in live["levels"].items():
                    key = (live["queue_id"], figure)
                    armed = self._armed.get(key, True)
                    if level == BAD and armed:
                        self._armed[key] = False
                        raised.append(await raise_alert(
                            self.platform, operator_id, kind="threshold", severity="critical",
                            message=f"{live['name']}: {LABELS[figure]} is well past its threshold",
                            tenant_id=live["tenant_id"], queue_id=live["queue_id"],
                            data={"figure": figure, "level": level}))
                    elif level == OK and not armed:
                        self._armed[key] = True
        return raised
