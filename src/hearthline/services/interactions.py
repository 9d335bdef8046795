"""Work in and out: create interactions (any channel hands work in here), handle them, transfer
them, and the agent side — presence, offers. Reads of history come from the store; live numbers
(position, estimated wait, queue and agent statistics) from the router.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..adapters.sql import mapping as m
from ..adapters.sql import tables as t
from ..domain.agents import Presence
from ..domain.center import ContactCenter
from ..domain.errors import InvalidInput, NotFound, PermissionDenied
from ..domain.ids import new_id
from ..domain.interactions import Channel, Customer, Direction, Interaction, TransferKind
from ..domain.organization import Role, Scope
from .platform import Platform


@dataclass(slots=True)
class NewInteraction:
    program_id: str
    channel: Channel
    direction: Direction = Direction.INBOUND
    customer: Customer | None = None
    attributes: dict[str, Any] | None = None
    priority: int = 0
    queue_id: str | None = None
    workflow_id: str | None = None


async def create_interaction(p: Platform, scope: Scope, new: NewInteraction) -> Interaction:
    """Queue new work. Routed to `queue_id` if given, else through `workflow_id`, else through the
    program's default workflow. All of it happens inside the router (which knows the programs),
    so taking in a contact costs no store read."""
    created, _ = await _create(p, scope, new, view=False)
    return created


async def create_and_view(p: Platform, scope: Scope, new: NewInteraction) -> tuple[Interaction, dict[str, Any]]:
    """Create, and return a snapshot of the interaction with its live facts (position, estimated
    wait) as of its creation."""
    return await _create(p, scope, new, view=True)


async def _create(p: Platform, scope: Scope, new: NewInteraction, *, view: bool) -> tuple[Interaction, dict[str, Any]]:
    def create(center: ContactCenter, now: datetime) -> tuple[Interaction, dict[str, Any]]:
        program = center.program(new.program_id)
        if not scope.sees_tenant(program.tenant_id):
            raise NotFound("program", new.program_id)
        workflow_id = new.workflow_id
        if new.queue_id is None and workflow_id is None:
            workflow_id = program.default_workflow_id
            if workflow_id is None:
                raise InvalidInput("queue_id", "give a queue_id or a workflow_id; the program has no default workflow")
        interaction = Interaction(
            id=new_id(), operator_id=scope.operator_id, tenant_id=program.tenant_id, program_id=program.id,
            channel=new.channel, direction=new.direction, created_at=now, customer=new.customer or Customer(),
            attributes=dict(new.attributes or {}), priority=new.priority,
        )
        center.create_interaction(interaction, now, queue_id=new.queue_id, workflow_id=workflow_id)
        if not view:
            return interaction, {}
        return copy.deepcopy(interaction), _live(center, interaction.id, now)

    return await p.in_router(scope, create)


def _agent_guard(scope: Scope) -> str | None:
    """Agents act only on their own contacts; supervisors and admins on any."""
    if scope.role is Role.AGENT:
        if scope.agent_id is None:
            raise PermissionDenied("this user is not linked to an agent")
        return scope.agent_id
    return None


async def get_interaction(p: Platform, scope: Scope, interaction_id: str) -> tuple[Interaction, dict[str, Any]]:
    """The stored interaction plus live facts (position and estimated wait while waiting)."""
    row = await p.run(p.store.get_row, t.interactions, "interaction", interaction_id, scope)
    interaction = m.interaction_from_row(row)
    if scope.role is Role.AGENT and interaction.agent_id != scope.agent_id and not await _offered_to(
            p, interaction_id, scope.agent_id):
        raise NotFound("interaction", interaction_id)

    return interaction, await p.in_router(scope, lambda center, now: _live(center, interaction_id, now))


def _live(center: ContactCenter, interaction_id: str, now: datetime) -> dict[str, Any]:
    """Position, estimated wait and time waited of a contact still waiting; {} otherwise."""
    current = center.interactions.get(interaction_id)  # type: ignore[arg-type]
    if current is None or not current.state.waiting:
        return {}
    position, ewt = center.estimated_wait(interaction_id)
    return {"position": position, "estimated_wait_seconds": None if ewt is None else round(ewt, 1),
            "wait_seconds": round(current.wait_seconds(now), 1)}


async def _offered_to(p: Platform, interaction_id: str, agent_id: str | None) -> bool:
    def query() -> bool:
        with p.store.begin() as conn:
            return conn.execute(select(t.offers.c.id).where(
                (t.offers.c.interaction_id == interaction_id) & (t.offers.c.agent_id == agent_id))).first() is not None

    return await p.run(query)


async def list_interactions(p: Platform, scope: Scope, *, state: str | None = None, queue_id: str | None = None,
                            channel: str | None = None, agent_id: str | None = None, tenant_id: str | None = None,
                            limit: int = 100, offset: int = 0) -> list[Interaction]:
    if scope.role is Role.AGENT:
        agent_id = scope.agent_id
    rows = await p.run(p.store.list_rows, t.interactions, scope, order_by="seq", limit=limit, offset=offset,
                       state=state, queue_id=queue_id, channel=channel, agent_id=agent_id, tenant_id=tenant_id)
    return [m.interaction_from_row(r) for r in rows]


async def interaction_events(p: Platform, scope: Scope, interaction_id: str) -> list[dict[str, Any]]:
    await get_interaction(p, scope, interaction_id)

    def query() -> list[dict[str, Any]]:
        with p.store.begin() as conn:
            rows = conn.execute(select(t.events).where(t.events.c.interaction_id == interaction_id)
                                .order_by(t.events.c.id)).mappings()
            return [{"id": r["id"], "name": r["name"], "at": r["at"].isoformat(), "agent_id": r["agent_id"],
                     "queue_id": r["queue_id"], "data": r["data"]} for r in rows]

    return await p.run(query)


async def _visible_live(p: Platform, scope: Scope, interaction_id: str) -> None:
    """NotFound unless the interaction exists within the caller's scope."""
    await p.run(p.store.get_row, t.interactions, "interaction", interaction_id, scope)


async def hold(p: Platform, scope: Scope, interaction_id: str) -> Interaction:
    await _visible_live(p, scope, interaction_id)
    agent = _agent_guard(scope)
    return await p.in_router(scope, lambda c, now: c.hold(interaction_id, agent, now))


async def resume(p: Platform, scope: Scope, interaction_id: str) -> Interaction:
    await _visible_live(p, scope, interaction_id)
    agent = _agent_guard(scope)
    return await p.in_router(scope, lambda c, now: c.resume(interaction_id, agent, now))


async def end(p: Platform, scope: Scope, interaction_id: str) -> Interaction:
    await _visible_live(p, scope, interaction_id)
    agent = _agent_guard(scope)
    return await p.in_router(scope, lambda c, now: c.end(interaction_id, agent, now))


async def abandon(p: Platform, scope: Scope, interaction_id: str) -> Interaction:
    """The customer left (reported by the channel that carries the contact)."""
    await _visible_live(p, scope, interaction_id)
    return await p.in_router(scope, lambda c, now: c.abandon(interaction_id, now))


async def complete(p: Platform, scope: Scope, interaction_id: str, *, disposition: str | None,
                   notes: str | None) -> Interaction:
    await _visible_live(p, scope, interaction_id)
    agent = _agent_guard(scope)
    if notes is not None and len(notes) > 10_000:
        raise InvalidInput("notes", "at most 10,000 characters")
    return await p.in_router(scope, lambda c, now: c.complete(interaction_id, agent, now, disposition=disposition,
                                                               notes=notes))


async def transfer(p: Platform, scope: Scope, interaction_id: str, kind: TransferKind, target: str,
                   note: str | None) -> Interaction:
    await _visible_live(p, scope, interaction_id)
    agent = _agent_guard(scope)
    if kind is TransferKind.QUEUE:
        await p.run(p.store.get_row, t.queues, "queue", target, scope)
    return await p.in_router(scope, lambda c, now: c.transfer(interaction_id, agent, kind, target, now, note=note))


# ---- agents' side ---------------------------------------------------------------------------
def _own_agent(scope: Scope, agent_id: str) -> None:
    if scope.role is Role.AGENT and scope.agent_id != agent_id:
        raise NotFound("agent", agent_id)
    if scope.role is Role.CLIENT_VIEWER:
        raise NotFound("agent", agent_id)


async def agent_state(p: Platform, scope: Scope, agent_id: str) -> dict[str, Any]:
    _own_agent(scope, agent_id)
    return await p.in_router(scope, lambda c, now: c.agent_snapshot(agent_id, now))


async def set_agent_state(p: Platform, scope: Scope, agent_id: str, presence: Presence,
                          reason: str | None) -> dict[str, Any]:
    _own_agent(scope, agent_id)

    def change(center: ContactCenter, now: datetime) -> dict[str, Any]:
        center.set_presence(agent_id, presence, reason, now)
        return center.agent_snapshot(agent_id, now)

    return await p.in_router(scope, change)


async def agent_timeline(p: Platform, scope: Scope, agent_id: str, start: datetime,
                         end: datetime) -> list[dict[str, Any]]:
    """The agent's state segments that overlap [start, end), in order; the open one (still
    going) has `end` None. Adherence and pay are computed from these."""
    _own_agent(scope, agent_id)
    if end <= start:
        raise InvalidInput("end", "must be after start")
    await p.run(p.store.get_row, t.agents, "agent", agent_id, scope)

    def query() -> list[dict[str, Any]]:
        seg = t.agent_segments
        with p.store.begin() as conn:
            rows = conn.execute(select(seg).where(
                (seg.c.agent_id == agent_id) & (seg.c.operator_id == scope.operator_id) & (seg.c.start < end)
                & (seg.c.end.is_(None) | (seg.c.end > start))).order_by(seg.c.seq)).mappings()
            return [{"seq": r["seq"], "state": r["state"], "reason": r["reason"], "start": r["start"],
                     "end": r["end"]} for r in rows]

    return await p.run(query)


async def list_offers(p: Platform, scope: Scope, agent_id: str) -> list[dict[str, Any]]:
    _own_agent(scope, agent_id)

    def pending(center: ContactCenter, now: datetime) -> list[dict[str, Any]]:
        return [offer_view(center, o.id) for o in center.offers.values() if o.agent_id == agent_id]

    return await p.in_router(scope, pending)


def offer_view(center: ContactCenter, offer_id: str) -> dict[str, Any]:
    offer = center.offers[offer_id]  # type: ignore[index]
    interaction = center.interactions[offer.interaction_id]
    queue = center.queues.get(interaction.queue_id)  # type: ignore[arg-type]
    return {
        "id": offer.id, "interaction_id": interaction.id, "agent_id": offer.agent_id,
        "created_at": offer.created_at.isoformat(), "expires_at": offer.expires_at.isoformat(),
        "channel": str(interaction.channel), "queue_id": interaction.queue_id,
        "queue_name": queue.name if queue else None, "customer": interaction.customer.as_dict(),
        "wait_seconds": round(interaction.wait_seconds(offer.created_at), 1),
    }


async def accept_offer(p: Platform, scope: Scope, agent_id: str, offer_id: str) -> Interaction:
    _own_agent(scope, agent_id)
    return await p.in_router(scope, lambda c, now: c.accept_offer(offer_id, agent_id, now))


async def reject_offer(p: Platform, scope: Scope, agent_id: str, offer_id: str) -> None:
    _own_agent(scope, agent_id)
    await p.in_router(scope, lambda c, now: c.reject_offer(offer_id, agent_id, now))


# ---- live statistics ------------------------------------------------------------------------
async def queue_stats(p: Platform, scope: Scope) -> list[dict[str, Any]]:
    def snapshot(center: ContactCenter, now: datetime) -> list[dict[str, Any]]:
        return [center.queue_snapshot(q.id, now) for q in center.queues.values() if scope.sees_tenant(q.tenant_id)]

    return await p.in_router(scope, snapshot)


async def agent_stats(p: Platform, scope: Scope) -> list[dict[str, Any]]:
    if scope.role is Role.CLIENT_VIEWER:
        return []

    def snapshot(center: ContactCenter, now: datetime) -> list[dict[str, Any]]:
        return [center.agent_snapshot(a, now) for a in sorted(center.agents, key=lambda a: center.agents[a].profile.name)]

    return await p.in_router(scope, snapshot)


async def transfer_targets(p: Platform, scope: Scope, interaction_id: str) -> dict[str, Any]:
    """Where the desk can hand a contact on: the queues of its client company (with how many
    wait there and the estimated wait) and the other agents (with their state, free ones first)."""
    interaction, _ = await get_interaction(p, scope, interaction_id)

    def targets(center: ContactCenter, now: datetime) -> dict[str, Any]:
        queues = []
        for queue in center.queues.values():
            if queue.tenant_id != interaction.tenant_id:
                continue
            live = center.queue_snapshot(queue.id, now)
            queues.append({"id": queue.id, "name": queue.name, "program_id": queue.program_id,
                           "waiting": live.get("waiting"), "ewt_seconds": live.get("ewt_seconds")})
        agents = []
        for agent_id, runtime in center.agents.items():
            if agent_id == interaction.agent_id:
                continue
            snap = center.agent_snapshot(agent_id, now)
            agents.append({"id": agent_id, "name": runtime.profile.name, "state": snap.get("state"),
                           "free": center.is_free_for(agent_id, interaction.medium)})
        queues.sort(key=lambda q: q["name"].lower())
        agents.sort(key=lambda a: (not a["free"], a["name"].lower()))
        return {"queues": queues, "agents": agents}

    return await p.in_router(scope, targets)
