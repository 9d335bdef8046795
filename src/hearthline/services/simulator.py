"""Simulated people for the demo (and for soak runs): agents who work, customers who call.

`AgentSimulator` listens on the bus like a desktop would and, for the agents it drives, accepts
offers after a short ring, talks for a log-normal handle time, wraps up and completes with a
disposition, and now and then takes a break. `TrafficGenerator` creates contacts per queue as a
Poisson process; each customer has an exponential patience and abandons if still waiting then.
Both act only through the use cases, exactly as the API would.
"""
from __future__ import annotations

import asyncio
import logging
import math
import random
from dataclasses import dataclass

from ..domain.agents import Presence
from ..domain.conversations import Sender
from ..domain.errors import DomainError
from ..domain.events import Event, EventName
from ..domain.interactions import Channel, Customer
from ..domain.organization import Role, Scope
from . import conversations as talk
from . import interactions as ix
from .platform import Platform

log = logging.getLogger(__name__)

FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Femi", "Grace", "Hugo", "Iris", "Jamal", "Keiko", "Liam",
               "Mona", "Nico", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Yusuf"]
# What simulated customers and agents write in chats and e-mails: most conversations go well, some
# sour (so the console's tone alerts have something to show).
OPENERS = ["Hi, my last bill looks higher than usual, can you check it?", "Hello, I am moving next month and need "
           "to change my address.", "Hi there, how do I set up automatic payments?", "I would like to know when my "
           "contract ends, please.", "Good morning! My internet keeps dropping in the evening."]
CALM = ["Thanks, that makes sense.", "Okay, great, thank you!", "Perfect, that's what I needed.", "Sure, one moment."]
SOUR = ["This is the third time I contact you about this and nothing changed.", "Honestly this is terrible service, "
        "I am really angry now.", "I want to cancel. This is ridiculous and a waste of my time!"]
AGENT_LINES = ["Hello {name}, thanks for reaching out — let me look into that for you.", "I can see your account "
               "now; give me a moment.", "I understand, and I'm sorry for the trouble. Here is what I can do.",
               "Done — you'll get a confirmation by e-mail shortly. Anything else I can help with?"]

LAST_NAMES = ["Alvarez", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan",
              "Lopez", "Miller", "Nguyen", "Okafor", "Patel", "Rossi", "Smith", "Tanaka", "Wright"]


@dataclass(slots=True)
class QueueTraffic:
    program_id: str
    queue_id: str | None
    workflow_id: str | None
    channel: Channel
    per_minute: float
    attributes: dict[str, object]
    patience_seconds: float = 120.0


class AgentSimulator:
    def __init__(self, platform: Platform, scope: Scope, agent_ids: list[str], *, rng: random.Random,
                 handle_seconds: float = 60.0, wrap_seconds: float = 8.0, break_chance: float = 0.03,
                 dispositions_by_queue: dict[str, list[str]] | None = None) -> None:
        self.p, self.scope, self.rng = platform, scope, rng
        self.agent_ids = set(agent_ids)
        self.handle_seconds, self.wrap_seconds, self.break_chance = handle_seconds, wrap_seconds, break_chance
        self._tasks: set[asyncio.Task] = set()
        self._unsubscribe = None
        self.dispositions_by_queue = dispositions_by_queue or {}

    async def start(self) -> None:
        self._unsubscribe = self.p.bus.subscribe(self._on_events)
        for agent_id in sorted(self.agent_ids):
            await self._safe(ix.set_agent_state(self.p, self.scope, agent_id, Presence.AVAILABLE, None))

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _safe(self, coro) -> object:  # type: ignore[no-untyped-def]
        try:
            return await coro
        except DomainError as err:  # the world moved on (customer left, offer withdrawn): fine
            log.debug("simulated action skipped: %s", err.message)
            return None

    async def _on_events(self, events: list[Event]) -> None:
        for event in events:
            if event.agent_id not in self.agent_ids:
                continue
            if event.name is EventName.INTERACTION_OFFERED:
                self._spawn(self._handle(event.agent_id, event.data["offer_id"], event.interaction_id,
                                         self.dispositions_by_queue.get(event.queue_id or "") or ["resolved"]))
            elif event.name is EventName.AGENT_STATE_CHANGED and event.data.get("reason") == "missed":
                self._spawn(self._come_back(event.agent_id, 5.0))

    async def _handle(self, agent_id: str, offer_id: str, interaction_id: str | None, codes: list[str]) -> None:
        await asyncio.sleep(self.rng.uniform(1.0, 4.0))  # the phone rings, she picks up
        accepted = await self._safe(ix.accept_offer(self.p, self.scope, agent_id, offer_id))
        if accepted is None:
            return
        talk_time = min(self.rng.lognormvariate(math.log(self.handle_seconds) - 0.18, 0.6), self.handle_seconds * 6)
        if accepted.channel in (Channel.CHAT, Channel.EMAIL):  # type: ignore[attr-defined]
            await self._converse(agent_id, accepted, talk_time)  # type: ignore[arg-type]
        else:
            await asyncio.sleep(talk_time)
        await self._safe(ix.end(self.p, self.scope, interaction_id))  # type: ignore[arg-type]
        await asyncio.sleep(self.rng.uniform(0.5, 2.0) * self.wrap_seconds)
        disposition = self.rng.choice(codes)  # one of the program's dispositions
        await self._safe(ix.complete(self.p, self.scope, interaction_id, disposition=disposition,  # type: ignore[arg-type]
                                     notes="simulated"))
        if self.rng.random() < self.break_chance:
            await self._safe(ix.set_agent_state(self.p, self.scope, agent_id, Presence.PAUSED, "break"))
            self._spawn(self._come_back(agent_id, self.rng.uniform(30, 90)))

    async def _converse(self, agent_id: str, interaction, seconds: float) -> None:  # type: ignore[no-untyped-def]
        """A written exchange over `seconds`: the agent answers, the customer replies — calmly,
        or (one conversation in six) more and more upset."""
        scope = Scope(self.scope.operator_id, role=Role.AGENT, agent_id=agent_id)
        sour = self.rng.random() < 1 / 6
        first = (interaction.customer.name or "there").split()[0]
        turns = 3 if interaction.channel is Channel.CHAT else 1
        for turn in range(turns):
            await asyncio.sleep(seconds / (2 * turns))
            line = AGENT_LINES[min(turn, len(AGENT_LINES) - 1)].format(name=first)
            if await self._safe(talk.post_agent_message(self.p, scope, interaction.id, line)) is None:
                return
            if interaction.channel is not Channel.CHAT:
                return
            await asyncio.sleep(seconds / (2 * turns))
            reply = SOUR[min(turn, len(SOUR) - 1)] if sour else self.rng.choice(CALM)
            await self._safe(talk.add_message(self.p, interaction, Sender.CUSTOMER, reply))

    async def _come_back(self, agent_id: str, after: float) -> None:
        await asyncio.sleep(after)
        await self._safe(ix.set_agent_state(self.p, self.scope, agent_id, Presence.AVAILABLE, None))


class TrafficGenerator:
    def __init__(self, platform: Platform, scope: Scope, traffic: list[QueueTraffic], *, rng: random.Random) -> None:
        self.p, self.scope, self.traffic, self.rng = platform, scope, traffic, rng
        self._tasks: set[asyncio.Task] = set()
        self.created = 0

    async def start(self) -> None:
        for flow in self.traffic:
            task = asyncio.create_task(self._arrivals(flow))
            self._tasks.add(task)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _customer(self) -> Customer:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        number = self.rng.randrange(200, 999) * 10_000 + self.rng.randrange(0, 9999)
        return Customer(id=f"C{self.rng.randrange(10_000, 99_999)}", name=f"{first} {last}",
                        phone=f"+1555{number:07d}"[:12], email=f"{first.lower()}.{last.lower()}@example.com")

    async def _arrivals(self, flow: QueueTraffic) -> None:
        while True:
            await asyncio.sleep(self.rng.expovariate(flow.per_minute / 60.0))
            attributes = {k: (self.rng.choice(v) if isinstance(v, list) else v) for k, v in flow.attributes.items()}
            new = ix.NewInteraction(flow.program_id, flow.channel, customer=self._customer(), attributes=attributes,
                                    queue_id=flow.queue_id, workflow_id=flow.workflow_id)
            try:
                interaction = await ix.create_interaction(self.p, self.scope, new)
            except DomainError:
                log.exception("simulated arrival refused")
                continue
            self.created += 1
            if flow.channel in (Channel.CHAT, Channel.EMAIL):
                await self._opening(interaction)
            task = asyncio.create_task(self._patience(interaction.id, flow.patience_seconds))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _opening(self, interaction) -> None:  # type: ignore[no-untyped-def]
        try:
            await talk.add_message(self.p, interaction, Sender.CUSTOMER, self.rng.choice(OPENERS))
        except DomainError:
            log.exception("simulated opening message refused")

    async def _patience(self, interaction_id: str, mean: float) -> None:
        await asyncio.sleep(self.rng.expovariate(1.0 / mean))
        try:
            await ix.abandon(self.p, self.scope, interaction_id)
        except DomainError:
            pass  # answered already
