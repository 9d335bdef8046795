"""Rebuilding a ContactCenter after a start: agents with their presence and open timeline
segment, today's finished contacts (for the day's statistics) and every live one, and the offers
that were pending when the process stopped (reverted: the contact keeps its place).

Mixed into ContactCenter, like LiveNumbers; kept apart so the aggregate's module holds the rules
of the running day and this one the way back to it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .agents import Agent, AgentState, Presence, StateSegment
from .events import EventName
from .interactions import Interaction, InteractionState
from .runtime import Offer, OfferStatus, ts as _ts
from .stats import QueueStats

if TYPE_CHECKING:
    from .center import ContactCenter

S = InteractionState


class Restoring:
    def restore(self: ContactCenter, *, agents: list[tuple[Agent, Presence, str | None, StateSegment | None]],
                interactions: list[Interaction], pending_offers: list[Offer], now: datetime) -> None:
        """Rebuild live state from the store after a start. `interactions` are today's and every
        live one, in any order; configuration (queues, workflows, skills, pause reasons) must be
        set first. Outstanding offers are reverted (the contact keeps its original place, the
        agent keeps her presence) and recorded as OfferReverted."""
        self._roll_day(now)
        for agent, presence, reason, segment in agents:
            runtime = self.set_agent(agent, now, restoring=True)
            runtime.presence, runtime.pause_reason = presence, reason
            if segment is not None and segment.end is None:
                runtime.segment, runtime.segment_seq = segment, segment.seq
                if segment.state is AgentState.AVAILABLE:  # idle since she became available
                    runtime.routing.idle_since = _ts(segment.start)
                runtime.state, runtime.state_reason, runtime.state_since = segment.state, segment.reason, segment.start
        live = []
        for interaction in sorted(interactions, key=lambda i: i.seq):
            self._seq = max(self._seq, interaction.seq)
            self._replay_stats(interaction)
            if not interaction.state.terminal:
                live.append(interaction)
        for interaction in live:
            self.interactions[interaction.id] = interaction
            if interaction.state.with_agent and interaction.agent_id in self.agents:
                self.agents[interaction.agent_id].contacts.add(interaction.id)  # type: ignore[index]
                if interaction.wrap_up_deadline is not None:
                    self._timer(interaction.wrap_up_deadline, "wrap_up", interaction.id)
        for offer in pending_offers:
            if offer.interaction_id in self.interactions:
                offer.status, offer.closed_at = OfferStatus.REVERTED, now
                self._touch_offer(offer)
                self._emit(EventName.OFFER_REVERTED, now, interaction=self.interactions[offer.interaction_id],
                           agent_id=offer.agent_id, offer_id=offer.id, reason="restart")
        for interaction in live:
            if interaction.state in (S.QUEUED, S.OFFERED, S.CREATED) and interaction.queue_id in self.queues:
                interaction.state = S.QUEUED
                self._touch(interaction)
                self.engine.add(self._entry(interaction))
                for deadline, kind in ((interaction.target_deadline, "target"),
                                       (interaction.only_agent_until, "only_agent")):
                    if deadline is not None:
                        self._timer(deadline, kind, interaction.id)
        for runtime in self.agents.values():
            self._update_agent(runtime, now)
        for runtime in sorted(self.agents.values(), key=lambda r: r.routing.idle_since):
            self._dispatch_agent(runtime, now)

    def _replay_stats(self: ContactCenter, interaction: Interaction) -> None:
        if interaction.queue_id is None or interaction.enqueued_at is None:
            return
        if self.day is not None and interaction.enqueued_at.astimezone(timezone.utc).date().isoformat() != self.day:
            return
        for visited in interaction.visited_queues:
            self.queue_stats.setdefault(visited, QueueStats()).offered += 1
            self.queue_medium[visited] = interaction.medium
        for answered_in, wait in interaction.answers:
            queue_then = self.queues.get(answered_in)
            threshold = queue_then.service_level_seconds if queue_then else 20
            self.queue_stats.setdefault(answered_in, QueueStats()).record_answer(wait, threshold)
        stats = self.queue_stats.setdefault(interaction.queue_id, QueueStats())
        if interaction.abandoned_at is not None:
            stats.record_abandon(interaction.wait_seconds(interaction.abandoned_at))
        handle = interaction.handle_seconds()
        if handle is not None and interaction.state is S.COMPLETED:
            stats.record_completion(handle)
            runtime = self.agents.get(interaction.agent_id) if interaction.agent_id else None  # type: ignore[arg-type]
            if runtime is not None:
                runtime.stats.contacts += 1
                runtime.stats.handle_seconds += handle
                runtime.routing.contacts_today += 1
        key = interaction.customer.key
        if key and interaction.agent_id and interaction.state is S.COMPLETED:
            self.last_agent_of_customer[key] = interaction.agent_id  # type: ignore[assignment]
