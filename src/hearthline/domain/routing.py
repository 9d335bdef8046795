"""The routing engine: indexes of waiting contacts and ready agents, and the two decisions.

* a contact arrives → the best ready agent of its queue, by the queue's strategy;
* an agent frees up → the best waiting contact across all her queues: the highest *effective*
  priority first, then the longest waiting, then arrival order. Deterministic.

Effective priority = base priority + ageing_per_minute × minutes waited. Within one queue all
contacts age at the same rate, so their order never changes while they wait and a sorted list keyed
by (−(base − rate·enqueued/60), enqueued, seq) stays valid: every decision costs O(q · log n) for an
agent in q queues, independent of how many contacts wait.

Contacts live in one of three places: the queue's open list (anyone in the queue may take it), the
queue's filtered list (an agent expression or agents who rejected it restrict who may), or one
agent's personal list (reserved for her: preferred agent, transfer to an agent). Filtered lists are
scanned; they hold the few contacts with restrictions.

Ready agents per queue are sorted by (total load, strategy key…, agent id): idle agents first, so
a voice contact (which needs an agent with no load) stops at the first element when none is idle.

This module does no I/O and knows nothing of time except the numbers it is given (epoch seconds).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sortedcontainers import SortedList

from .agents import Medium, medium_is_free
from .ids import AgentId, InteractionId, QueueId
from .queues import Queue, Strategy

AgentPredicate = Callable[[dict[str, Any]], bool]
_MEDIA = tuple(Medium)


@dataclass(slots=True, eq=False)
class WaitingEntry:
    """A contact waiting in a queue, as the engine sees it."""

    interaction_id: InteractionId
    queue_id: QueueId
    medium: Medium
    priority: float  # base: the contact's priority plus the queue's
    enqueued: float  # epoch seconds of the first enqueue
    seq: int
    agent_filter: AgentPredicate | None = None
    excluded: frozenset[AgentId] = frozenset()
    only_agent: AgentId | None = None
    env: dict[str, Any] = field(default_factory=dict)  # interaction side of agent expressions
    key: tuple[float, float, int, str] = (0.0, 0.0, 0, "")
    lists: tuple[SortedList, ...] = ()  # the lists it is filed in, for a quick removal

    def allows(self, agent: "RoutingAgent") -> bool:
        if agent.agent_id in self.excluded:
            return False
        if self.only_agent is not None and self.only_agent != agent.agent_id:
            return False
        if self.agent_filter is not None:
            return bool(self.agent_filter({**self.env, "agent": agent.env}))
        return True

    @property
    def restricted(self) -> bool:
        return self.agent_filter is not None or bool(self.excluded)


@dataclass(slots=True, eq=False)
class RoutingAgent:
    """What the engine needs to know of an agent; the owner mutates it, then calls refresh."""

    agent_id: AgentId
    skills: dict[str, int]
    languages: frozenset[str]
    capacity: dict[Medium, int]
    load: dict[Medium, int] = field(default_factory=dict)
    accepting: bool = False  # present and available, with no offer outstanding
    idle_since: float = 0.0
    contacts_today: int = 0
    score: float = 0.0
    last_offered: dict[QueueId, float] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)  # the `agent` root of agent expressions

    def ready_for(self, medium: Medium) -> bool:
        return self.accepting and medium_is_free(self.load, self.capacity, medium)

    @property
    def total_load(self) -> int:
        return sum(self.load.values())


def _agent_key(queue: Queue, agent: RoutingAgent) -> tuple:
    s = queue.strategy
    if s is Strategy.MOST_SKILLED:
        middle: tuple = (-agent.skills.get(queue.main_skill or "", 0), agent.idle_since)
    elif s is Strategy.ROUND_ROBIN:
        middle = (agent.last_offered.get(queue.id, 0.0), agent.idle_since)
    elif s is Strategy.FEWEST_CONTACTS:
        middle = (agent.contacts_today, agent.idle_since)
    elif s is Strategy.PERFORMANCE:
        middle = (-agent.score, agent.idle_since)
    else:  # longest idle; ring-all and preferred agent fall back to it
        middle = (agent.idle_since,)
    return (agent.total_load, *middle, agent.agent_id)


class RoutingEngine:
    def __init__(self) -> None:
        self.queues: dict[QueueId, Queue] = {}
        self._open: dict[tuple[QueueId, Medium], SortedList] = {}
        self._filtered: dict[tuple[QueueId, Medium], SortedList] = {}
        self._personal: dict[AgentId, SortedList] = {}
        self._entries: dict[InteractionId, WaitingEntry] = {}
        self._restricted = 0  # how many contacts wait in the filtered lists
        self._ready: dict[QueueId, SortedList] = {}
        self._agents: dict[AgentId, RoutingAgent] = {}
        self._members: dict[AgentId, tuple[QueueId, ...]] = {}
        # The ready lists are maintained lazily. `_keys` holds the keys physically present for an
        # agent; they are current only while she is in `_listed`. An agent whose state changed is
        # put in `_dirty` and re-filed at the next read of the ready lists — by which time she has
        # usually been given work and needs no re-filing at all. Stale keys met while reading are
        # removed then, so each costs one removal, once.
        self._keys: dict[AgentId, dict[QueueId, tuple]] = {}
        self._listed: set[AgentId] = set()
        self._dirty: set[AgentId] = set()
        # Per agent, the waiting lists she may take from: (queue, medium, ageing per second,
        # open list, filtered list), rebuilt when membership changes.
        self._slots: dict[AgentId, tuple[tuple[QueueId, Medium, float, SortedList, SortedList], ...]] = {}
        # The same per queue across all media (the lists keyed (queue, None)), for the common case
        # of an agent free for any medium: one head per queue to look at instead of three.
        self._slots_all: dict[AgentId, tuple[tuple[float, SortedList, SortedList], ...]] = {}

    # ---- queues -----------------------------------------------------------------------------
    def set_queue(self, queue: Queue) -> None:
        """Add or change a queue. Membership of every agent is recomputed (O(agents))."""
        old = self.queues.get(queue.id)
        waiting = list(self.waiting_in(queue.id)) if old is not None else []
        for entry in waiting:
            self._unlist(entry)
        self.queues[queue.id] = queue
        for medium in (*Medium, None):
            self._open.setdefault((queue.id, medium), SortedList())
            self._filtered.setdefault((queue.id, medium), SortedList())
        for entry in waiting:
            self._list(entry)
        for agent_id in list(self._keys):
            self._drop_ready(agent_id)
        self._ready[queue.id] = SortedList()
        for agent in self._agents.values():
            self.set_agent(agent)

    def remove_queue(self, queue_id: QueueId) -> list[WaitingEntry]:
        """Drop a queue; returns the contacts that were waiting in it (the caller re-routes them)."""
        waiting = list(self.waiting_in(queue_id))
        for entry in waiting:
            self.remove(entry.interaction_id)
        for agent_id in list(self._keys):
            self._drop_ready(agent_id)
        self.queues.pop(queue_id, None)
        self._ready.pop(queue_id, None)
        for medium in (*Medium, None):
            self._open.pop((queue_id, medium), None)
            self._filtered.pop((queue_id, medium), None)
        for agent in self._agents.values():
            self.set_agent(agent)
        return waiting

    # ---- agents -----------------------------------------------------------------------------
    def set_agent(self, agent: RoutingAgent) -> None:
        """Add an agent or replace her skills/languages; recomputes her queue membership."""
        self._drop_ready(agent.agent_id)
        self._agents[agent.agent_id] = agent
        members = tuple(q.id for q in self.queues.values() if q.admits(agent.skills, agent.languages))
        self._members[agent.agent_id] = members
        self._slots[agent.agent_id] = tuple(
            (q, m, self.queues[q].ageing_per_minute / 60.0, self._open[(q, m)], self._filtered[(q, m)])
            for q in members for m in Medium
        )
        self._slots_all[agent.agent_id] = tuple(
            (self.queues[q].ageing_per_minute / 60.0, self._open[(q, None)], self._filtered[(q, None)])
            for q in members
        )
        self._dirty.add(agent.agent_id)

    def refresh(self, agent: RoutingAgent) -> None:
        """Note that an agent's load, readiness or key fields changed. O(1): she is re-filed in
        the ready lists only when they are next read, and only if she is still ready then."""
        self._listed.discard(agent.agent_id)
        self._dirty.add(agent.agent_id)

    def members_of(self, queue_id: QueueId) -> Iterator[RoutingAgent]:
        for agent_id, queues in self._members.items():
            if queue_id in queues:
                yield self._agents[agent_id]

    def queues_of(self, agent_id: AgentId) -> tuple[QueueId, ...]:
        return self._members.get(agent_id, ())

    def ready_count(self, queue_id: QueueId, medium: Medium) -> int:
        return sum(1 for _, agent in self._iter_ready(queue_id) if agent.ready_for(medium))

    def _flush(self) -> None:
        """File every changed agent who is ready, replacing only the keys that changed."""
        for agent_id in self._dirty:
            self._file(agent_id)
        self._dirty.clear()

    def file(self, agent_id: AgentId) -> None:
        """File a changed agent in the ready lists now — for an agent who just became free and
        found no work, so that the cost lands on her becoming free, not on the next arrival."""
        if agent_id in self._dirty:
            self._dirty.discard(agent_id)
            self._file(agent_id)

    def _file(self, agent_id: AgentId) -> None:
        agent = self._agents.get(agent_id)
        if agent is None or not agent.accepting or not any(agent.ready_for(m) for m in Medium):
            return
        present = self._keys.setdefault(agent_id, {})
        for queue_id in self._members.get(agent_id, ()):
            key = _agent_key(self.queues[queue_id], agent)
            old = present.get(queue_id)
            if old != key:
                ready = self._ready[queue_id]
                if old is not None:
                    ready.remove(old)
                ready.add(key)
                present[queue_id] = key
        self._listed.add(agent_id)

    def _drop_ready(self, agent_id: AgentId) -> None:
        for queue_id, key in self._keys.pop(agent_id, {}).items():
            ready = self._ready.get(queue_id)
            if ready is not None:
                ready.remove(key)
        self._listed.discard(agent_id)

    def _iter_ready(self, queue_id: QueueId) -> Iterator[tuple[tuple, RoutingAgent]]:
        """The current ready agents of a queue, best first. Stale keys passed on the way are
        removed when the caller stops iterating."""
        self._flush()
        ready = self._ready.get(queue_id)
        if not ready:
            return
        stale: list[tuple] = []
        try:
            for key in ready:
                agent_id = key[-1]
                if agent_id in self._listed:
                    yield key, self._agents[agent_id]
                else:
                    stale.append(key)
        finally:
            self._drop_stale(queue_id, ready, stale)

    def _drop_stale(self, queue_id: QueueId, ready: SortedList, stale: list[tuple]) -> None:
        for key in stale:
            ready.remove(key)
            present = self._keys.get(key[-1])
            if present is not None and present.get(queue_id) == key:
                del present[queue_id]

    # ---- waiting contacts -------------------------------------------------------------------
    def _key(self, entry: WaitingEntry) -> tuple[float, float, int, str]:
        rate = self.queues[entry.queue_id].ageing_per_minute / 60.0
        return (-(entry.priority - rate * entry.enqueued), entry.enqueued, entry.seq, entry.interaction_id)

    def effective_priority(self, entry: WaitingEntry, now: float) -> float:
        rate = self.queues[entry.queue_id].ageing_per_minute / 60.0
        return entry.priority + rate * max(0.0, now - entry.enqueued)

    def _list_for(self, entry: WaitingEntry) -> SortedList:
        if entry.only_agent is not None:
            return self._personal.setdefault(entry.only_agent, SortedList())
        slot = (entry.queue_id, entry.medium)
        store = self._filtered if entry.restricted else self._open
        return store.setdefault(slot, SortedList())

    def _combined_for(self, entry: WaitingEntry) -> SortedList | None:
        if entry.only_agent is not None:
            return None
        return (self._filtered if entry.restricted else self._open)[(entry.queue_id, None)]

    def _list(self, entry: WaitingEntry) -> None:
        if entry.restricted and entry.only_agent is None:
            self._restricted += 1
        entry.key = key = self._key(entry)
        combined = self._combined_for(entry)
        entry.lists = (self._list_for(entry),) if combined is None else (self._list_for(entry), combined)
        for sorted_list in entry.lists:
            sorted_list.add(key)

    def _unlist(self, entry: WaitingEntry) -> None:
        if entry.restricted and entry.only_agent is None:
            self._restricted -= 1
        for sorted_list in entry.lists:
            sorted_list.remove(entry.key)
        entry.lists = ()

    def add(self, entry: WaitingEntry) -> None:
        """File a waiting contact. Its place is fixed by (priority, enqueue time, seq)."""
        if entry.interaction_id in self._entries:
            self.remove(entry.interaction_id)
        self._entries[entry.interaction_id] = entry
        self._list(entry)

    def remove(self, interaction_id: InteractionId) -> WaitingEntry | None:
        entry = self._entries.pop(interaction_id, None)
        if entry is not None:
            self._unlist(entry)
        return entry

    def entry(self, interaction_id: InteractionId) -> WaitingEntry | None:
        return self._entries.get(interaction_id)

    def __len__(self) -> int:
        return len(self._entries)

    def waiting_in(self, queue_id: QueueId) -> Iterable[WaitingEntry]:
        """Every contact waiting in the queue, in order of the queue's own ranking."""
        keys: list[tuple] = []
        for medium in Medium:
            keys.extend(self._open.get((queue_id, medium), ()))
            keys.extend(self._filtered.get((queue_id, medium), ()))
        for personal in self._personal.values():
            keys.extend(k for k in personal if self._entries[k[3]].queue_id == queue_id)
        return [self._entries[k[3]] for k in sorted(keys)]

    def position(self, entry: WaitingEntry) -> int:
        """1-based rank among the contacts of its queue and medium that are ahead of it."""
        slot = (entry.queue_id, entry.medium)
        ahead = 0
        for store in (self._open, self._filtered):
            lst = store.get(slot)
            if lst:
                ahead += lst.bisect_left(entry.key)
        return ahead + 1

    def waiting_count(self, queue_id: QueueId, medium: Medium | None = None) -> int:
        media = (medium,) if medium is not None else tuple(Medium)
        n = 0
        for m in media:
            n += len(self._open.get((queue_id, m), ())) + len(self._filtered.get((queue_id, m), ()))
        return n

    # ---- decisions --------------------------------------------------------------------------
    def agents_for(self, entry: WaitingEntry) -> list[RoutingAgent]:
        """The agent(s) to offer a just-queued contact to: one, all ready members for ring-all,
        or none. Does not change any index."""
        if entry.only_agent is not None:
            agent = self._agents.get(entry.only_agent)
            ok = agent is not None and agent.ready_for(entry.medium) and entry.allows(agent)
            return [agent] if ok and agent is not None else []
        queue_id = entry.queue_id
        ring_all = self.queues[queue_id].strategy is Strategy.RING_ALL
        voice = entry.medium is Medium.VOICE
        chosen: list[RoutingAgent] = []
        self._flush()
        ready = self._ready.get(queue_id)
        if not ready:
            return chosen
        listed, agents, stale = self._listed, self._agents, []
        for key in ready:  # what _iter_ready does, inlined: this is the arrival's hot path
            agent_id = key[-1]
            if agent_id not in listed:
                stale.append(key)
                continue
            if voice and key[0] > 0:
                break  # sorted by load: nobody further on is free for a call
            agent = agents[agent_id]
            if agent.ready_for(entry.medium) and entry.allows(agent):
                chosen.append(agent)
                if not ring_all:
                    break
        self._drop_stale(queue_id, ready, stale)
        return chosen

    def work_for(self, agent_id: AgentId, now: float) -> WaitingEntry | None:
        """The contact a free agent should be offered next, across all her queues, or None."""
        agent = self._agents.get(agent_id)
        if agent is None or not agent.accepting:
            return None
        if any(agent.load.values()):
            media = [m for m in _MEDIA if agent.ready_for(m)]
        else:  # the common case: nothing in hand, so free for every medium she has capacity for
            capacity = agent.capacity
            media = [m for m in _MEDIA if capacity.get(m, 0) > 0]
        if not media:
            return None
        entries = self._entries
        if len(media) == len(_MEDIA):
            slots = self._slots_all.get(agent_id, ())
        else:
            slots = tuple((rate, o, f) for _, m, rate, o, f in self._slots.get(agent_id, ()) if m in media)
        # rank = (−effective priority, enqueued, seq); the stored key is (−(P − rate·enqueued),
        # enqueued, seq, id), so −effective priority = key[0] − rate·now: no entry lookup needed.
        best_key: tuple | None = None
        best_first = 0.0
        for rate, open_list, _ in slots:  # the hot loop: one head per queue
            if open_list._len:
                key = open_list._lists[0][0]
                first = key[0] - rate * now if rate else key[0]
                if best_key is None or first < best_first or (
                        first == best_first and key[1:3] < best_key[1:3]):
                    best_key, best_first = key, first
        best_rank = (best_first, best_key[1], best_key[2]) if best_key is not None else None
        if self._restricted:  # contacts with an agent expression or rejections wait somewhere
            for rate, _, filtered in slots:
                if filtered._len:
                    for key in filtered:
                        if entries[key[3]].allows(agent):
                            rank = (key[0] - rate * now, key[1], key[2])
                            if best_rank is None or rank < best_rank:
                                best_key, best_rank = key, rank
                            break
        personal = self._personal.get(agent_id)
        if personal:
            # A personal list mixes queues with different ageing rates, so it is not sorted by
            # effective priority: weigh every entry (such lists hold a handful at most).
            for key in personal:
                entry = entries[key[3]]
                if entry.medium in media and entry.allows(agent):
                    rank = (-self.effective_priority(entry, now), key[1], key[2])
                    if best_rank is None or rank < best_rank:
                        best_key, best_rank = key, rank
        return entries[best_key[3]] if best_key is not None else None
