"""The live numbers of a contact center: queue and agent snapshots, staffing, estimated wait.

Read-only views over ContactCenter's state, kept apart so the aggregate's module holds the rules
and this one the figures. Definitions are in stats.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .agents import Medium, Presence, medium_is_free
from .ids import QueueId
from .queues import threshold_levels
from .stats import QueueStats, estimated_wait

if TYPE_CHECKING:
    from .center import ContactCenter


class LiveNumbers:
    """Mixed into ContactCenter; every method reads, none changes state (except creating an
    empty QueueStats for a queue not seen yet)."""

    def _staffed(self: ContactCenter, queue_id: QueueId) -> int:
        return sum(1 for a in self.engine.members_of(queue_id)
                   if self.agents[a.agent_id].presence is Presence.AVAILABLE or self.agents[a.agent_id].contacts)

    def _serving_slots(self: ContactCenter, queue_id: QueueId, medium: Medium) -> int:
        slots = 0
        for member in self.engine.members_of(queue_id):
            runtime = self.agents[member.agent_id]
            if runtime.presence is Presence.AVAILABLE or runtime.contacts:
                slots += member.capacity.get(medium, 0)
        return slots

    def _ewt(self: ContactCenter, queue_id: QueueId, medium: Medium, position: int) -> float | None:
        queue = self.queues[queue_id]
        aht = self.queue_stats.setdefault(queue_id, QueueStats()).recent_aht(queue.default_handle_seconds)
        return estimated_wait(position, self.engine.ready_count(queue_id, medium),
                              self._serving_slots(queue_id, medium), aht)

    def estimated_wait(self: ContactCenter, interaction_id: str) -> tuple[int, float | None]:
        """(position, EWT seconds or None) of a waiting contact."""
        interaction = self.interaction(interaction_id)
        entry = self.engine.entry(interaction.id)
        if entry is None:
            return 0, 0.0
        position = self.engine.position(entry)
        return position, self._ewt(entry.queue_id, entry.medium, position)

    def queue_snapshot(self: ContactCenter, queue_id: QueueId, now: datetime) -> dict[str, Any]:
        queue = self.queue(queue_id)
        stats = self.queue_stats.setdefault(queue.id, QueueStats())
        waiting = list(self.engine.waiting_in(queue.id))
        medium = self.queue_medium.get(queue.id, Medium.VOICE)
        longest = max((now.timestamp() - e.enqueued for e in waiting), default=0.0)
        out = {
            "queue_id": queue.id, "name": queue.name, "tenant_id": queue.tenant_id,
            "waiting": len(waiting), "longest_wait_seconds": round(longest, 1),
            "offered": stats.offered, "answered": stats.answered, "abandoned": stats.abandoned,
            "short_abandoned": stats.short_abandoned,
            "service_level": stats.service_level, "service_level_seconds": queue.service_level_seconds,
            "asa_seconds": stats.asa_seconds, "aht_seconds": stats.aht_seconds,
            "abandonment_rate": stats.abandonment_rate,
            "staffed_agents": self._staffed(queue.id),
            # ready and estimated wait for the medium the queue serves (seen on its latest contact)
            "ready_agents": self.engine.ready_count(queue.id, medium),
            "ewt_seconds": self._ewt(queue.id, medium, self.engine.waiting_count(queue.id, medium) + 1),
        }
        out["thresholds"] = {"service_level": queue.target_service_level, "asa_seconds": queue.max_asa_seconds,
                             "abandonment_rate": queue.max_abandonment_rate, "ewt_seconds": queue.max_ewt_seconds}
        out["levels"] = threshold_levels(queue, out)
        return out

    def agent_snapshot(self: ContactCenter, agent_id: str, now: datetime) -> dict[str, Any]:
        runtime = self.agent(agent_id)
        since = runtime.state_since or now
        return {
            "agent_id": runtime.id, "name": runtime.profile.name, "state": str(runtime.state),
            "reason": runtime.state_reason, "presence": str(runtime.presence),
            "seconds_in_state": round(max(0.0, (now - since).total_seconds()), 1),
            "contacts": runtime.stats.contacts, "handle_seconds": round(runtime.stats.handle_seconds, 1),
            "active_contacts": sorted(runtime.contacts), "offer_id": runtime.offer_id,
            "queues": list(self.engine.queues_of(runtime.id)),
        }

    def is_free_for(self: ContactCenter, agent_id: str, medium: Medium) -> bool:
        runtime = self.agent(agent_id)
        return runtime.routing.accepting and medium_is_free(runtime.routing.load, runtime.routing.capacity, medium)
