"""The router: one single-writer asyncio task per operator around its ContactCenter.

Commands reach it through a queue. The task takes every command waiting (up to a batch), applies
them to the in-memory center — no I/O while deciding —, runs due timers, writes all resulting
changes and events to the store in ONE transaction (group commit), and only then answers the
callers and publishes the events. So nothing is announced that is not stored, and a crash loses
only commands that were never acknowledged. On start it rebuilds the center from the store.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Protocol, TypeVar

from ..domain.center import ContactCenter
from ..domain.errors import DomainError
from .bus import EventBus

log = logging.getLogger(__name__)
T = TypeVar("T")
BATCH = 512


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class RouterStore(Protocol):
    def load_router_state(self, operator_id: str, since: datetime) -> dict[str, Any]: ...

    def save_changes(self, operator_id: str, changes: Any) -> None: ...


@dataclass(slots=True)
class _Command:
    fn: Callable[[ContactCenter, datetime], Any]
    future: asyncio.Future


class RouterStopped(DomainError):
    code = "internal-error"


class Router:
    def __init__(self, operator_id: str, store: RouterStore, bus: EventBus, clock: Clock, *,
                 offer_timeout_seconds: int = 20) -> None:
        self.operator_id = operator_id
        self._store = store
        self._bus = bus
        self._clock = clock
        self._offer_timeout = offer_timeout_seconds
        self._queue: asyncio.Queue[_Command] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.center: ContactCenter | None = None
        self.decisions = 0  # commands applied, for /metrics

    async def start(self) -> None:
        await self._rebuild()
        self._task = asyncio.create_task(self._run(), name=f"router-{self.operator_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        while not self._queue.empty():
            command = self._queue.get_nowait()
            if not command.future.done():
                command.future.set_exception(RouterStopped("the router is stopping"))

    async def _rebuild(self) -> None:
        now = self._clock.now()
        start_of_day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        state = await asyncio.to_thread(self._store.load_router_state, self.operator_id, start_of_day)
        center = ContactCenter(state["operator"], offer_timeout_seconds=self._offer_timeout)
        for program in state["programs"]:
            center.set_program(program)
        center.set_skills(state["skills"])
        center.set_pause_reasons(state["pause_reasons"])
        for queue in state["queues"]:
            center.set_queue(queue, now)
        for workflow in state["workflows"]:
            try:
                center.set_workflow(workflow)
            except DomainError:
                log.exception("workflow %s no longer compiles; contacts use their queues", workflow.id)
        center.restore(agents=state["agents"], interactions=state["interactions"],
                       pending_offers=state["offers"], now=now)
        changes = center.changes()
        await asyncio.to_thread(self._store.save_changes, self.operator_id, changes)
        self.center = center
        await self._bus.publish(changes.events)
        log.info("router %s ready: %d agents, %d live contacts", self.operator_id, len(center.agents),
                 len(center.interactions))

    async def execute(self, fn: Callable[[ContactCenter, datetime], T]) -> T:
        """Run `fn(center, now)` inside the router, after everything queued before it; return its
        result once its changes are stored. Domain errors raised by `fn` reach the caller."""
        if self._task is None or self._task.done():
            raise RouterStopped("the router is not running")
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Command(fn, future))
        return await future

    async def _next_batch(self) -> list[_Command]:
        assert self.center is not None
        deadline = self.center.next_deadline()
        timeout = None
        if deadline is not None:
            timeout = max(0.0, deadline - self._clock.now().timestamp())
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return []
        batch = [first]
        while len(batch) < BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            try:
                await self._apply(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The batch's changes are not stored, so the memory that holds them is wrong:
                # refuse the batch and rebuild from the store (retrying while the store is down).
                log.exception("router %s failed to store a batch; rebuilding from the store", self.operator_id)
                for command in batch:
                    if not command.future.done():
                        command.future.set_exception(RouterStopped("the change could not be stored; retry"))
                await self._recover()

    async def _recover(self) -> None:
        delay = 0.2
        while True:
            await asyncio.sleep(delay)
            try:
                await self._rebuild()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("router %s could not rebuild; retrying in %.1f s", self.operator_id, delay)
                delay = min(delay * 2, 30.0)

    async def _apply(self, batch: list[_Command]) -> None:
        center = self.center
        assert center is not None
        now = self._clock.now()
        results: list[tuple[_Command, Any, BaseException | None]] = []
        for command in batch:
            try:
                results.append((command, command.fn(center, now), None))
            except DomainError as err:
                results.append((command, None, err))
        center.tick(now)
        self.decisions += len(batch)
        changes = center.changes()
        if changes:
            await asyncio.to_thread(self._store.save_changes, self.operator_id, changes)
        for command, result, error in results:
            if command.future.done():
                continue
            if error is not None:
                command.future.set_exception(error)
            else:
                command.future.set_result(result)
        await self._bus.publish(changes.events)

