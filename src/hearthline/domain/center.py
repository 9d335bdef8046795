"""The contact center of one operator: interactions, agents, offers and their rules, in memory.

`ContactCenter` is the aggregate the router task drives. Each public method is one command: it
checks the command, changes state, records domain events and the objects it touched, and returns.
It never does I/O and never reads a clock: `now` is an argument. The caller drains `changes()`
after each command (or a batch of them), persists them in one transaction and publishes the events.

Rules kept here:
* an offer not accepted in time puts the contact back in its original place (same enqueue time and
  sequence) and moves the agent to the operator's "missed" pause;
* a rejected offer puts the contact back too, and that agent is not offered it again;
* ring-all: every ready member is offered the contact, the first to accept wins, the other offers
  are withdrawn;
* preferred agent: a contact from a customer served before waits for that agent for the queue's
  `preferred_agent_seconds`, then goes to anyone;
* a contact that leaves an agent (completed or transferred) frees her capacity, and she is
  offered the next contact at once if she is available.
"""
from __future__ import annotations

import heapq
from datetime import datetime, timedelta, timezone
from typing import Any

from .agents import Agent, AgentState, Medium, Presence, StateSegment
from .errors import InvalidInput, InvalidTransition, NotFound
from .events import Event, EventName
from .expressions import Expression, ExpressionContext, compile_expression
from .ids import AgentId, InteractionId, OfferId, ProgramId, QueueId, WorkflowId, new_id
from .interactions import Interaction, InteractionState, TransferKind
from .live import LiveNumbers
from .restore import Restoring
from .runtime import AgentRuntime, Changes, Offer, OfferStatus, ts as _ts
from .organization import Operator, PauseReason, Program, SkillDefinition
from .queues import Queue, Strategy
from .routing import RoutingAgent, RoutingEngine, WaitingEntry
from .stats import AgentStats, QueueStats
from .workflows import CompiledRoute, CompiledTarget, CompiledWorkflow, Target, Workflow, compile_workflow

S = InteractionState
TRANSFER_TO_AGENT_SECONDS = 30


class ContactCenter(LiveNumbers, Restoring):
    def __init__(self, operator: Operator, *, offer_timeout_seconds: int = 20) -> None:
        self.operator = operator
        self.offer_timeout_seconds = offer_timeout_seconds
        self.engine = RoutingEngine()
        self.queues: dict[QueueId, Queue] = {}
        self.programs: dict[ProgramId, Program] = {}
        self.queue_medium: dict[QueueId, Medium] = {}  # medium of the queue's latest contact
        self.workflows: dict[WorkflowId, CompiledWorkflow] = {}
        self.skill_requirements: dict[str, str] = {}
        self.pause_reasons: dict[str, PauseReason] = {}
        self.agents: dict[AgentId, AgentRuntime] = {}
        self.interactions: dict[InteractionId, Interaction] = {}  # live (not terminal) only
        self.offers: dict[OfferId, Offer] = {}  # pending only
        self.queue_stats: dict[QueueId, QueueStats] = {}
        self.last_agent_of_customer: dict[str, AgentId] = {}
        self.day: str | None = None
        self._seq = 0
        self._offer_count = 0
        self._timers: list[tuple[float, int, str, str]] = []
        self._timer_seq = 0
        self._filters: dict[str, Expression] = {}
        self._changes = Changes()

    # ---- bookkeeping ------------------------------------------------------------------------
    def changes(self) -> Changes:
        """Hand over everything recorded since the last call, and start afresh."""
        out, self._changes = self._changes, Changes()
        return out

    def _emit(self, name: EventName, at: datetime, *, interaction: Interaction | None = None,
              agent_id: str | None = None, **data: Any) -> None:
        self._changes.events.append(Event(
            name=name, at=at, operator_id=self.operator.id,
            tenant_id=interaction.tenant_id if interaction else None,
            interaction_id=interaction.id if interaction else None,
            agent_id=agent_id if agent_id is not None else (interaction.agent_id if interaction else None),
            queue_id=interaction.queue_id if interaction else None, data=data,
        ))

    def _touch(self, interaction: Interaction) -> None:
        self._changes.interactions[interaction.id] = interaction

    def _touch_offer(self, offer: Offer) -> None:
        self._changes.offers[offer.id] = offer

    def _timer(self, at: datetime, kind: str, key: str) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (_ts(at), self._timer_seq, kind, key))

    def next_deadline(self) -> float | None:
        """Epoch seconds of the earliest pending timer (it may turn out stale), or None."""
        return self._timers[0][0] if self._timers else None

    def _roll_day(self, now: datetime) -> None:
        day = now.astimezone(timezone.utc).date().isoformat()
        if day != self.day:
            if self.day is not None:
                self.queue_stats = {qid: QueueStats() for qid in self.queues}
                for runtime in self.agents.values():
                    runtime.stats = AgentStats()
                    runtime.routing.contacts_today = 0
                    self.engine.refresh(runtime.routing)
            self.day = day

    # ---- configuration ----------------------------------------------------------------------
    def set_program(self, program: Program) -> None:
        self.programs[program.id] = program

    def remove_program(self, program_id: str) -> None:
        self.programs.pop(program_id, None)  # type: ignore[arg-type]

    def program(self, program_id: str) -> Program:
        program = self.programs.get(program_id)  # type: ignore[arg-type]
        if program is None:
            raise NotFound("program", program_id)
        return program

    def set_skills(self, skills: list[SkillDefinition]) -> None:
        self.skill_requirements = {s.name: s.requires_certification for s in skills if s.requires_certification}

    def set_pause_reasons(self, reasons: list[PauseReason]) -> None:
        self.pause_reasons = {r.code: r for r in reasons}

    def set_queue(self, queue: Queue, now: datetime) -> None:
        self.queues[queue.id] = queue
        self.queue_stats.setdefault(queue.id, QueueStats())
        self.engine.set_queue(queue)
        for entry in list(self.engine.waiting_in(queue.id)):  # the queue's priority is part of theirs
            self.engine.add(self._entry(self.interactions[entry.interaction_id]))
        for runtime in self.agents.values():
            self._dispatch_agent(runtime, now)

    def remove_queue(self, queue_id: QueueId) -> None:
        if any(i.queue_id == queue_id for i in self.interactions.values()):
            raise InvalidTransition("the queue still has live contacts", queue_id=queue_id)
        self.queues.pop(queue_id, None)
        self.engine.remove_queue(queue_id)

    def set_workflow(self, workflow: Workflow) -> CompiledWorkflow:
        compiled = compile_workflow(workflow, set(self.queues))
        self.workflows[workflow.id] = compiled
        return compiled

    def remove_workflow(self, workflow_id: WorkflowId) -> None:
        self.workflows.pop(workflow_id, None)

    def _agent_env(self, agent: Agent, skills: dict[str, int], now: datetime) -> dict[str, Any]:
        return {
            **agent.attributes,
            "id": agent.id, "name": agent.name, "kind": str(agent.kind), "skills": skills,
            "languages": sorted(agent.languages), "home_state": agent.home_state,
            "score": agent.score,
            "certifications": sorted(c for c in agent.certifications if agent.certified(c, now)),
        }

    def set_agent(self, agent: Agent, now: datetime, *, restoring: bool = False) -> AgentRuntime:
        """Add an agent or change her profile; her live state is kept. A new agent's timeline
        starts with an offline segment (unless she is being restored with her own)."""
        skills = agent.effective_skills(now, self.skill_requirements)
        runtime = self.agents.get(agent.id)
        if runtime is None:
            routing = RoutingAgent(agent.id, skills, agent.languages, dict(agent.capacity),
                                   idle_since=_ts(now), score=agent.score)
            runtime = AgentRuntime(profile=agent, routing=routing)
            self.agents[agent.id] = runtime
            if not restoring:
                self._update_agent(runtime, now)
        else:
            runtime.profile = agent
            runtime.routing.skills = skills
            runtime.routing.languages = agent.languages
            runtime.routing.capacity = dict(agent.capacity)
            runtime.routing.score = agent.score
        runtime.routing.env = self._agent_env(agent, skills, now)
        self.engine.set_agent(runtime.routing)
        expiry = agent.next_certification_expiry(now, self.skill_requirements)
        if expiry is not None:
            self._timer(expiry, "certification", agent.id)
        self._dispatch_agent(runtime, now)
        return runtime

    # ---- lookups ----------------------------------------------------------------------------
    def agent(self, agent_id: str) -> AgentRuntime:
        runtime = self.agents.get(agent_id)  # type: ignore[arg-type]
        if runtime is None:
            raise NotFound("agent", agent_id)
        return runtime

    def interaction(self, interaction_id: str) -> Interaction:
        interaction = self.interactions.get(interaction_id)  # type: ignore[arg-type]
        if interaction is None:
            raise NotFound("interaction", interaction_id)
        return interaction

    def queue(self, queue_id: str) -> Queue:
        queue = self.queues.get(queue_id)  # type: ignore[arg-type]
        if queue is None:
            raise NotFound("queue", queue_id)
        return queue

    def _offer(self, offer_id: str, agent_id: str) -> Offer:
        offer = self.offers.get(offer_id)  # type: ignore[arg-type]
        if offer is None or offer.agent_id != agent_id:
            raise NotFound("offer", offer_id)
        return offer

    # ---- agent state ------------------------------------------------------------------------
    def _derive_state(self, runtime: AgentRuntime) -> tuple[AgentState, str | None]:
        if runtime.presence is Presence.OFFLINE and not runtime.contacts:
            return AgentState.OFFLINE, None
        states = [self.interactions[i].state for i in runtime.contacts]
        if any(s in (S.ACCEPTED, S.HELD) for s in states):
            return AgentState.BUSY, None
        if states:
            return AgentState.WRAP_UP, None
        if runtime.presence is Presence.PAUSED:
            return AgentState.PAUSED, runtime.pause_reason
        return AgentState.AVAILABLE, None

    def _update_agent(self, runtime: AgentRuntime, now: datetime) -> None:
        """Recompute the shown state (recording a timeline segment on change) and readiness."""
        state, reason = self._derive_state(runtime)
        if state != runtime.state or reason != runtime.state_reason or runtime.segment is None:
            previous = runtime.state
            if runtime.segment is not None:
                runtime.segment.end = now
                self._changes.segments.append(runtime.segment)
            runtime.segment_seq += 1
            runtime.segment = StateSegment(runtime.id, state, now, reason, seq=runtime.segment_seq)
            self._changes.segments.append(runtime.segment)
            runtime.state, runtime.state_reason, runtime.state_since = state, reason, now
            self._emit(EventName.AGENT_STATE_CHANGED, now, agent_id=runtime.id,
                       state=str(state), reason=reason, previous=str(previous))
        routing = runtime.routing
        accepting = runtime.presence is Presence.AVAILABLE and runtime.offer_id is None
        load = {m: 0 for m in Medium}
        for iid in runtime.contacts:
            load[self.interactions[iid].medium] += 1
        if accepting != routing.accepting or load != routing.load:
            if not any(load.values()) and any(routing.load.values()):
                routing.idle_since = _ts(now)  # just finished her last contact
            routing.accepting, routing.load = accepting, load
            self.engine.refresh(routing)
        self._changes.agents[runtime.id] = runtime

    def set_presence(self, agent_id: str, presence: Presence, reason: str | None, now: datetime) -> AgentRuntime:
        """Log in, become available, pause with a reason, or log out. Pausing while handling
        contacts takes effect for new work at once; the shown state turns paused when the last
        contact is done. Logging out with live contacts is refused."""
        self._roll_day(now)
        runtime = self.agent(agent_id)
        if presence is Presence.PAUSED:
            if reason is None or reason not in self.pause_reasons:
                raise InvalidInput("reason", f"unknown pause reason: {reason!r}",
                                   allowed=sorted(self.pause_reasons))
        else:
            reason = None
        if presence is Presence.OFFLINE and runtime.contacts:
            raise InvalidTransition("finish or transfer your contacts before logging out",
                                    contacts=sorted(runtime.contacts))
        if presence is Presence.AVAILABLE and runtime.presence is not Presence.AVAILABLE and not runtime.contacts:
            runtime.routing.idle_since = _ts(now)  # idle time counts from becoming available
        runtime.presence, runtime.pause_reason = presence, reason
        if runtime.offer_id is not None and presence is not Presence.AVAILABLE:
            # presence first, so the contact going back is not offered to her again
            self._revert_offer(self.offers[runtime.offer_id], now, OfferStatus.WITHDRAWN)
        self._update_agent(runtime, now)
        self._dispatch_agent(runtime, now)
        return runtime

    # ---- interactions: arrival and routing --------------------------------------------------
    def _interaction_env(self, interaction: Interaction) -> dict[str, Any]:
        customer = interaction.customer.as_dict()
        inner = {
            **interaction.attributes, "channel": str(interaction.channel),
            "direction": str(interaction.direction), "priority": interaction.priority,
            "program_id": interaction.program_id, "tenant_id": interaction.tenant_id,
            "customer": customer,
        }
        return {"interaction": inner, "customer": customer}

    def _queue_env(self, queue_id: QueueId, interaction: Interaction, now: datetime) -> dict[str, Any]:
        medium = interaction.medium
        position = self.engine.waiting_count(queue_id, medium) + 1
        return {
            "waiting": position - 1,
            "ready_agents": self.engine.ready_count(queue_id, medium),
            "staffed_agents": self._staffed(queue_id),
            "ewt_seconds": self._ewt(queue_id, medium, position),
        }

    def create_interaction(self, interaction: Interaction, now: datetime, *, queue_id: str | None = None,
                           workflow_id: str | None = None) -> Interaction:
        """Take in new work from any channel and queue it: directly in `queue_id`, or through a
        workflow (the given one, else the program's default). Raises NotFound for an unknown
        queue or workflow, InvalidInput if neither can be found."""
        self._roll_day(now)
        if interaction.id in self.interactions:
            raise InvalidTransition("interaction already exists", interaction_id=interaction.id)
        if queue_id is not None:
            queue = self.queue(queue_id)
            if queue.tenant_id != interaction.tenant_id:
                raise NotFound("queue", queue_id)
            target = CompiledTarget(Target(queue.id), None, None)
            route = CompiledRoute("direct", None, (target,))
        elif workflow_id is not None:
            workflow = self.workflows.get(workflow_id)  # type: ignore[arg-type]
            if workflow is None or workflow.workflow.tenant_id != interaction.tenant_id:
                raise NotFound("workflow", workflow_id)
            interaction.workflow_id = workflow.workflow.id
            route = workflow.choose(self._interaction_env(interaction))
        else:
            raise InvalidInput("queue_id", "give a queue_id or a workflow_id (or set the program's default workflow)")
        self._seq += 1
        interaction.seq = self._seq
        interaction.route = route.name
        interaction.state = S.CREATED
        self.interactions[interaction.id] = interaction
        self._emit(EventName.INTERACTION_CREATED, now, interaction=interaction,
                   channel=str(interaction.channel), route=route.name)
        self._apply_target(interaction, route, 0, now, first=True)
        return interaction

    def _route_of(self, interaction: Interaction) -> CompiledRoute | None:
        if interaction.workflow_id is None:
            return None
        workflow = self.workflows.get(interaction.workflow_id)  # type: ignore[arg-type]
        if workflow is None:
            return None
        return next((r for r in workflow.routes if r.name == interaction.route), None)

    def _apply_target(self, interaction: Interaction, route: CompiledRoute, start: int, now: datetime,
                      *, first: bool = False) -> None:
        """Queue the contact at the first target from `start` whose skip-if does not hold (the
        last one if all do: a contact is never dropped)."""
        index = len(route.targets) - 1
        for i in range(start, len(route.targets)):
            target = route.targets[i]
            if target.skip_if is None or i == len(route.targets) - 1:
                index = i
                break
            env = {**self._interaction_env(interaction),
                   "queue": self._queue_env(target.target.queue_id, interaction, now)}
            if not target.skip_if(env):
                index = i
                break
        chosen = route.targets[index]
        queue = self.queue(chosen.target.queue_id)
        previous_queue = interaction.queue_id
        interaction.target_index = index
        interaction.queue_id = queue.id
        if chosen.target.priority is not None:
            interaction.priority = chosen.target.priority
        interaction.agent_filter = chosen.target.agent_expression
        timeout = chosen.target.timeout_seconds
        interaction.target_deadline = now + timedelta(seconds=timeout) if timeout else None
        if interaction.target_deadline is not None:
            self._timer(interaction.target_deadline, "target", interaction.id)
        if first:
            interaction.enqueued_at = now
            self._count_offered(interaction, queue.id)
            if queue.strategy is Strategy.PREFERRED_AGENT:
                self._reserve_for_preferred(interaction, queue, now)
        elif previous_queue != queue.id:
            self._count_offered(interaction, queue.id)
            self._emit(EventName.INTERACTION_OVERFLOWED, now, interaction=interaction,
                       from_queue=previous_queue, to_queue=queue.id)
        self._enqueue(interaction, now)

    def _count_offered(self, interaction: Interaction, queue_id: QueueId) -> None:
        """The contact entered a queue: count it as offered there, and remember it so a restart
        can count it again."""
        self.queue_stats.setdefault(queue_id, QueueStats()).offered += 1
        interaction.visited_queues = (*interaction.visited_queues, queue_id)
        self.queue_medium[queue_id] = interaction.medium

    def _reserve_for_preferred(self, interaction: Interaction, queue: Queue, now: datetime) -> None:
        key = interaction.customer.key
        agent_id = self.last_agent_of_customer.get(key) if key else None
        if agent_id is None or agent_id not in self.agents or queue.preferred_agent_seconds <= 0:
            return
        if queue.id not in self.engine.queues_of(agent_id):
            return
        interaction.only_agent_id = agent_id
        interaction.only_agent_until = now + timedelta(seconds=queue.preferred_agent_seconds)
        self._timer(interaction.only_agent_until, "only_agent", interaction.id)

    def _filter(self, source: str | None) -> Expression | None:
        if source is None:
            return None
        expr = self._filters.get(source)
        if expr is None:
            expr = self._filters[source] = compile_expression(source, ExpressionContext.AGENT)
        return expr

    def _entry(self, interaction: Interaction) -> WaitingEntry:
        queue = self.queues[interaction.queue_id]  # type: ignore[index]
        assert interaction.enqueued_at is not None
        return WaitingEntry(
            interaction_id=interaction.id, queue_id=queue.id, medium=interaction.medium,
            priority=float(interaction.priority + queue.priority), enqueued=_ts(interaction.enqueued_at),
            seq=interaction.seq, agent_filter=self._filter(interaction.agent_filter),
            excluded=interaction.excluded_agents, only_agent=interaction.only_agent_id,
            env=self._interaction_env(interaction),
        )

    def _enqueue(self, interaction: Interaction, now: datetime) -> None:
        interaction.state = S.QUEUED
        self._touch(interaction)
        entry = self._entry(interaction)
        agents = self.engine.agents_for(entry)
        if agents:  # someone is free for it: it is next in line, and never needs filing
            self._emit(EventName.INTERACTION_QUEUED, now, interaction=interaction,
                       priority=interaction.priority, position=1)
            self._make_offers(entry, [self.agents[a.agent_id] for a in agents], now)
            return
        self.engine.add(entry)
        self._emit(EventName.INTERACTION_QUEUED, now, interaction=interaction,
                   priority=interaction.priority, position=self.engine.position(entry))

    def _dispatch_entry(self, entry: WaitingEntry, now: datetime) -> None:
        agents = self.engine.agents_for(entry)
        if agents:
            self._make_offers(entry, [self.agents[a.agent_id] for a in agents], now)

    def _dispatch_agent(self, runtime: AgentRuntime, now: datetime) -> None:
        if not runtime.routing.accepting:
            return
        entry = self.engine.work_for(runtime.id, _ts(now))
        if entry is not None:
            self._make_offers(entry, [runtime], now)
        else:
            self.engine.file(runtime.id)

    def _offer_timeout(self, queue: Queue) -> int:
        return queue.offer_timeout_seconds or self.offer_timeout_seconds

    def _make_offers(self, entry: WaitingEntry, runtimes: list[AgentRuntime], now: datetime) -> None:
        interaction = self.interactions[entry.interaction_id]
        queue = self.queues[entry.queue_id]
        self.engine.remove(interaction.id)
        interaction.state = S.OFFERED
        self._touch(interaction)
        expires = now + timedelta(seconds=self._offer_timeout(queue))
        for runtime in runtimes:
            offer = Offer(OfferId(new_id()), interaction.id, runtime.id, now, expires)
            self.offers[offer.id] = offer
            self._touch_offer(offer)
            runtime.offer_id = offer.id
            self._offer_count += 1
            runtime.routing.last_offered[queue.id] = float(self._offer_count)
            self._emit(EventName.INTERACTION_OFFERED, now, interaction=interaction, agent_id=runtime.id,
                       offer_id=offer.id, expires_at=expires.isoformat(),
                       wait_seconds=round(interaction.wait_seconds(now), 3))
            self._update_agent(runtime, now)
        self._timer(expires, "offer_batch", interaction.id)

    def _pending_offers(self, interaction_id: InteractionId) -> list[Offer]:
        return [o for o in self.offers.values() if o.interaction_id == interaction_id]

    def _close_offer(self, offer: Offer, status: str, now: datetime) -> AgentRuntime | None:
        offer.status, offer.closed_at = status, now
        self.offers.pop(offer.id, None)
        self._touch_offer(offer)
        runtime = self.agents.get(offer.agent_id)
        if runtime is not None and runtime.offer_id == offer.id:
            runtime.offer_id = None
        return runtime

    def _revert_offer(self, offer: Offer, now: datetime, status: str) -> None:
        """Close one offer; if it was the contact's last, put the contact back in its place."""
        interaction = self.interactions[offer.interaction_id]
        runtime = self._close_offer(offer, status, now)
        name = {OfferStatus.REJECTED: EventName.OFFER_REJECTED, OfferStatus.TIMED_OUT: EventName.OFFER_TIMED_OUT,
                OfferStatus.WITHDRAWN: EventName.OFFER_WITHDRAWN, OfferStatus.REVERTED: EventName.OFFER_REVERTED}[status]
        self._emit(name, now, interaction=interaction, agent_id=offer.agent_id, offer_id=offer.id)
        if runtime is not None:
            self._update_agent(runtime, now)
        if not self._pending_offers(interaction.id) and interaction.state is S.OFFERED:
            self._requeue(interaction, now)

    def _requeue(self, interaction: Interaction, now: datetime) -> None:
        interaction.state = S.QUEUED
        self._touch(interaction)
        entry = self._entry(interaction)
        self.engine.add(entry)
        # A target time-out that fell due while the contact was ringing takes effect now.
        if interaction.target_deadline is not None and interaction.target_deadline <= now:
            if self._overflow(interaction.id, now):
                return
        self._dispatch_entry(entry, now)

    # ---- offers -----------------------------------------------------------------------------
    def accept_offer(self, offer_id: str, agent_id: str, now: datetime) -> Interaction:
        """The agent takes the contact. Raises NotFound if the offer is not hers or no longer
        pending (timed out, withdrawn or taken by another agent in ring-all)."""
        offer = self._offer(offer_id, agent_id)
        interaction = self.interactions[offer.interaction_id]
        runtime = self._close_offer(offer, OfferStatus.ACCEPTED, now)
        assert runtime is not None
        for other in self._pending_offers(interaction.id):
            rt = self._close_offer(other, OfferStatus.WITHDRAWN, now)
            self._emit(EventName.OFFER_WITHDRAWN, now, interaction=interaction, agent_id=other.agent_id,
                       offer_id=other.id, reason="taken by another agent")
            if rt is not None:
                self._update_agent(rt, now)
                self._dispatch_agent(rt, now)
        interaction.state = S.ACCEPTED
        interaction.agent_id = runtime.id
        interaction.answered_at = now
        interaction.only_agent_id = interaction.only_agent_until = None
        interaction.target_deadline = None
        self._touch(interaction)
        queue = self.queues[interaction.queue_id]  # type: ignore[index]
        wait = interaction.wait_seconds(now)
        self.queue_stats[queue.id].record_answer(wait, queue.service_level_seconds)
        interaction.answers = (*interaction.answers, (queue.id, round(wait, 3)))
        runtime.contacts.add(interaction.id)
        self._emit(EventName.OFFER_ACCEPTED, now, interaction=interaction, offer_id=offer.id,
                   wait_seconds=round(interaction.wait_seconds(now), 3))
        self._update_agent(runtime, now)
        self._dispatch_agent(runtime, now)  # chat/email agents may take more at once
        return interaction

    def reject_offer(self, offer_id: str, agent_id: str, now: datetime) -> None:
        """The agent declines; the contact goes back to its place and is not offered to her again."""
        offer = self._offer(offer_id, agent_id)
        interaction = self.interactions[offer.interaction_id]
        interaction.excluded_agents = interaction.excluded_agents | {offer.agent_id}
        if interaction.only_agent_id == offer.agent_id:  # she said no: stop waiting for her
            interaction.only_agent_id = interaction.only_agent_until = None
        self._revert_offer(offer, now, OfferStatus.REJECTED)
        self._dispatch_agent(self.agents[offer.agent_id], now)

    def _offers_expired(self, interaction_id: str, now: datetime) -> None:
        for offer in self._pending_offers(interaction_id):  # type: ignore[arg-type]
            if offer.expires_at > now:
                continue
            runtime = self.agents.get(offer.agent_id)
            if runtime is not None:
                runtime.presence, runtime.pause_reason = Presence.PAUSED, self.operator.missed_pause_code
            interaction = self.interactions[offer.interaction_id]
            if interaction.only_agent_id == offer.agent_id:  # she is paused now: stop waiting for her
                interaction.only_agent_id = interaction.only_agent_until = None
            self._revert_offer(offer, now, OfferStatus.TIMED_OUT)

    # ---- handling ---------------------------------------------------------------------------
    def _own(self, interaction_id: str, agent_id: str | None) -> Interaction:
        interaction = self.interaction(interaction_id)
        if agent_id is not None and interaction.agent_id != agent_id:
            raise NotFound("interaction", interaction_id)
        return interaction

    def hold(self, interaction_id: str, agent_id: str | None, now: datetime) -> Interaction:
        interaction = self._own(interaction_id, agent_id)
        interaction.require(S.ACCEPTED)
        interaction.state, interaction.hold_started_at = S.HELD, now
        self._touch(interaction)
        self._emit(EventName.INTERACTION_HELD, now, interaction=interaction)
        return interaction

    def resume(self, interaction_id: str, agent_id: str | None, now: datetime) -> Interaction:
        interaction = self._own(interaction_id, agent_id)
        interaction.require(S.HELD)
        self._end_hold(interaction, now)
        interaction.state = S.ACCEPTED
        self._touch(interaction)
        self._emit(EventName.INTERACTION_RESUMED, now, interaction=interaction)
        return interaction

    def _end_hold(self, interaction: Interaction, now: datetime) -> None:
        if interaction.hold_started_at is not None:
            interaction.hold_seconds += (now - interaction.hold_started_at).total_seconds()
            interaction.hold_started_at = None

    def end(self, interaction_id: str, agent_id: str | None, now: datetime) -> Interaction:
        """The conversation is over (either side hung up or closed); wrap-up starts, limited by
        the queue's wrap-up time. Ending a contact still waiting is an abandonment."""
        interaction = self._own(interaction_id, agent_id)
        if interaction.state.waiting:
            return self.abandon(interaction_id, now)
        interaction.require(S.ACCEPTED, S.HELD)
        self._end_hold(interaction, now)
        queue = self.queues[interaction.queue_id]  # type: ignore[index]
        interaction.state, interaction.ended_at = S.WRAP_UP, now
        interaction.wrap_up_deadline = now + timedelta(seconds=queue.wrap_up_seconds)
        self._touch(interaction)
        self._emit(EventName.INTERACTION_WRAP_UP_STARTED, now, interaction=interaction,
                   deadline=interaction.wrap_up_deadline.isoformat())
        self._timer(interaction.wrap_up_deadline, "wrap_up", interaction.id)
        self._update_agent(self.agents[interaction.agent_id], now)  # type: ignore[index]
        return interaction

    def complete(self, interaction_id: str, agent_id: str | None, now: datetime, *,
                 disposition: str | None = None, notes: str | None = None) -> Interaction:
        """Close the contact (from handling or wrap-up) and free the agent's capacity."""
        interaction = self._own(interaction_id, agent_id)
        interaction.require(S.ACCEPTED, S.HELD, S.WRAP_UP)
        program = self.programs.get(interaction.program_id)
        if program is not None:
            program.check_disposition(disposition if disposition is not None else interaction.disposition)
        if interaction.ended_at is None:
            interaction.ended_at = now
        self._end_hold(interaction, now)
        interaction.disposition = disposition if disposition is not None else interaction.disposition
        interaction.notes = notes if notes is not None else interaction.notes
        self._finish(interaction, S.COMPLETED, now)
        return interaction

    def _finish(self, interaction: Interaction, state: InteractionState, now: datetime, **data: Any) -> None:
        interaction.state = state
        interaction.completed_at = now
        interaction.wrap_up_deadline = None
        self._touch(interaction)
        runtime = self.agents.get(interaction.agent_id) if interaction.agent_id else None  # type: ignore[arg-type]
        handle = interaction.handle_seconds() or 0.0
        if interaction.queue_id in self.queue_stats and interaction.answered_at is not None:
            self.queue_stats[interaction.queue_id].record_completion(handle)  # type: ignore[index]
        self._emit(EventName.INTERACTION_COMPLETED, now, interaction=interaction,
                   disposition=interaction.disposition, handle_seconds=round(handle, 3), **data)
        self.interactions.pop(interaction.id, None)
        if runtime is not None:
            runtime.contacts.discard(interaction.id)
            runtime.stats.contacts += 1
            runtime.stats.handle_seconds += handle
            runtime.routing.contacts_today += 1
            key = interaction.customer.key
            if key:
                self.last_agent_of_customer[key] = runtime.id
            self._update_agent(runtime, now)
            self._dispatch_agent(runtime, now)

    def abandon(self, interaction_id: str, now: datetime) -> Interaction:
        """The customer left before an agent answered."""
        interaction = self.interaction(interaction_id)
        interaction.require(S.QUEUED, S.OFFERED, S.CREATED)
        self.engine.remove(interaction.id)
        for offer in self._pending_offers(interaction.id):
            runtime = self._close_offer(offer, OfferStatus.WITHDRAWN, now)
            self._emit(EventName.OFFER_WITHDRAWN, now, interaction=interaction, agent_id=offer.agent_id,
                       offer_id=offer.id, reason="customer left")
            if runtime is not None:
                self._update_agent(runtime, now)
                self._dispatch_agent(runtime, now)
        interaction.state, interaction.abandoned_at = S.ABANDONED, now
        self._touch(interaction)
        wait = interaction.wait_seconds(now)
        if interaction.queue_id in self.queue_stats:
            self.queue_stats[interaction.queue_id].record_abandon(wait)  # type: ignore[index]
        self._emit(EventName.INTERACTION_ABANDONED, now, interaction=interaction, wait_seconds=round(wait, 3))
        self.interactions.pop(interaction.id, None)
        return interaction

    def transfer(self, interaction_id: str, agent_id: str | None, kind: TransferKind, target: str,
                 now: datetime, *, note: str | None = None) -> Interaction:
        """Hand the contact on. To a queue: it waits there (as a new arrival of that queue, with
        its priority). To an agent: it waits for her alone for 30 s, then for anyone in its
        queue. External: the contact is completed with the referral recorded."""
        interaction = self._own(interaction_id, agent_id)
        interaction.require(S.ACCEPTED, S.HELD)
        from_agent = interaction.agent_id
        # Check the target before changing anything: a refused transfer records nothing.
        if kind is TransferKind.EXTERNAL:
            if not target.strip():
                raise InvalidInput("target", "name the external resource (a number or address)")
        elif kind is TransferKind.QUEUE:
            queue = self.queue(target)
            if queue.tenant_id != interaction.tenant_id:
                raise NotFound("queue", target)
            new_queue, only, until = queue.id, None, None
        else:
            runtime_to = self.agent(target)
            if runtime_to.id == from_agent:
                raise InvalidInput("target", "cannot transfer to yourself")
            new_queue, only = interaction.queue_id, runtime_to.id
            until = now + timedelta(seconds=TRANSFER_TO_AGENT_SECONDS)
        self._end_hold(interaction, now)
        interaction.transfer = {"kind": str(kind), "target": target, "note": note, "from_agent": from_agent,
                                "at": now.isoformat()}
        self._emit(EventName.INTERACTION_TRANSFERRED, now, interaction=interaction, kind=str(kind),
                   target=target, note=note)
        if kind is TransferKind.EXTERNAL:
            interaction.disposition = interaction.disposition or "referred"
            self._finish(interaction, S.COMPLETED, now, referred_to=target)
            return interaction
        self._release_agent(interaction, now)
        interaction.queue_id = new_queue
        interaction.workflow_id = None
        interaction.route = "transfer"
        interaction.agent_filter = None
        interaction.target_deadline = None
        interaction.excluded_agents = frozenset()
        interaction.answered_at = None
        interaction.enqueued_at = now
        interaction.only_agent_id, interaction.only_agent_until = only, until
        self._seq += 1
        interaction.seq = self._seq
        if until is not None:
            self._timer(until, "only_agent", interaction.id)
        self._count_offered(interaction, new_queue)  # type: ignore[arg-type]
        self._enqueue(interaction, now)
        return interaction

    def reopen(self, interaction: Interaction, now: datetime) -> Interaction:
        """A completed written contact comes back to life (the customer answered the thread): it
        waits again in its last queue, as a new arrival there, preferring the agent who last
        handled it for the queue's preferred-agent time-out when the queue uses that strategy.
        The caller loads `interaction` from the store (completed ones are not kept in memory)."""
        self._roll_day(now)
        interaction.require(S.COMPLETED)
        if interaction.id in self.interactions:
            raise InvalidTransition("interaction is live", interaction_id=interaction.id)
        queue = self.queue(interaction.queue_id) if interaction.queue_id else None
        if queue is None or queue.tenant_id != interaction.tenant_id:
            raise NotFound("queue", interaction.queue_id)
        last_agent = interaction.agent_id
        interaction.agent_id = None
        interaction.workflow_id = None
        interaction.route = "reopened"
        interaction.agent_filter = None
        interaction.target_deadline = None
        interaction.excluded_agents = frozenset()
        interaction.only_agent_id = interaction.only_agent_until = None
        interaction.answered_at = interaction.ended_at = interaction.completed_at = None
        interaction.wrap_up_deadline = interaction.hold_started_at = None
        interaction.disposition = None
        interaction.enqueued_at = now
        self._seq += 1
        interaction.seq = self._seq
        self.interactions[interaction.id] = interaction
        self._emit(EventName.INTERACTION_REOPENED, now, interaction=interaction, last_agent_id=last_agent)
        self._count_offered(interaction, queue.id)
        if queue.strategy is Strategy.PREFERRED_AGENT:
            self._reserve_for_preferred(interaction, queue, now)
        self._enqueue(interaction, now)
        return interaction

    def _release_agent(self, interaction: Interaction, now: datetime) -> None:
        runtime = self.agents.get(interaction.agent_id) if interaction.agent_id else None  # type: ignore[arg-type]
        interaction.agent_id = None
        if runtime is not None:
            runtime.contacts.discard(interaction.id)
            self._update_agent(runtime, now)
            self._dispatch_agent(runtime, now)

    # ---- time -------------------------------------------------------------------------------
    def tick(self, now: datetime) -> None:
        """Act on every timer due at `now`: offer time-outs, overflow, end of a preferred-agent
        wait, end of wrap-up, certification expiry."""
        self._roll_day(now)
        t = _ts(now)
        while self._timers and self._timers[0][0] <= t:
            _, _, kind, key = heapq.heappop(self._timers)
            if kind == "offer_batch":
                if key in self.interactions:
                    self._offers_expired(key, now)
            elif kind == "target":
                self._overflow(key, now)
            elif kind == "only_agent":
                self._release_reservation(key, now)
            elif kind == "wrap_up":
                interaction = self.interactions.get(key)  # type: ignore[arg-type]
                if interaction is not None and interaction.state is S.WRAP_UP and interaction.wrap_up_deadline \
                        and interaction.wrap_up_deadline <= now:
                    self._finish(interaction, S.COMPLETED, now, wrap_up_timed_out=True)
            elif kind == "certification":
                runtime = self.agents.get(key)  # type: ignore[arg-type]
                if runtime is not None:
                    self.set_agent(runtime.profile, now)

    def _overflow(self, interaction_id: str, now: datetime) -> bool:
        """Move a contact whose target timed out to the next target; True if it moved. While it
        is ringing an agent nothing happens: _requeue applies the time-out if the offer fails."""
        interaction = self.interactions.get(interaction_id)  # type: ignore[arg-type]
        if interaction is None or interaction.state is not S.QUEUED or interaction.target_deadline is None:
            return False
        if interaction.target_deadline > now:
            return False
        route = self._route_of(interaction)
        if route is None or interaction.target_index + 1 >= len(route.targets):
            interaction.target_deadline = None
            self._touch(interaction)
            return False
        self.engine.remove(interaction.id)
        self._apply_target(interaction, route, interaction.target_index + 1, now)
        return True

    def _release_reservation(self, interaction_id: str, now: datetime) -> None:
        interaction = self.interactions.get(interaction_id)  # type: ignore[arg-type]
        if interaction is None or interaction.only_agent_until is None or interaction.only_agent_until > now:
            return
        interaction.only_agent_id = interaction.only_agent_until = None
        self._touch(interaction)
        if interaction.state is S.QUEUED:
            self.engine.remove(interaction.id)
            self._requeue(interaction, now)
