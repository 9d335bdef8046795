"""Rows ↔ domain objects. One function each way per object; nothing else lives here."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Mapping

from ...domain.agents import Agent, AgentKind, AgentState, Medium, Presence, StateSegment
from ...domain.center import Offer
from ...domain.events import Event
from ...domain.interactions import Channel, Customer, Direction, Interaction, InteractionState
from ...domain.organization import Disposition, Operator, PauseReason, Program, Role, SkillDefinition, Tenant, User
from ...domain.queues import Queue, Strategy
from ...domain.workflows import Route, Target, Workflow


def _dt(value: str | None) -> datetime | None:
    """A datetime kept as text inside a JSON column, back as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(timezone.utc) if value else None


def _iso(value: datetime | None) -> str | None:
    """Datetimes inside JSON columns are stored as ISO text in UTC, like the datetime columns."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(timezone.utc).isoformat()


def operator_from_row(r: Mapping[str, Any]) -> Operator:
    return Operator(r["id"], r["name"], r["missed_pause_code"])


def tenant_from_row(r: Mapping[str, Any]) -> Tenant:
    return Tenant(r["id"], r["operator_id"], r["name"])


def program_from_row(r: Mapping[str, Any]) -> Program:
    return Program(r["id"], r["operator_id"], r["tenant_id"], r["name"], r["default_workflow_id"],
                   tuple(Disposition(d["code"], d["label"]) for d in r["dispositions"]))


def dispositions_row(dispositions: tuple[Disposition, ...]) -> list[dict[str, str]]:
    return [{"code": d.code, "label": d.label} for d in dispositions]


def user_from_row(r: Mapping[str, Any]) -> User:
    return User(r["id"], r["operator_id"], r["username"], Role(r["role"]), r["password_hash"], r["tenant_id"],
                r["agent_id"], r["display_name"], r["active"])


def skill_from_row(r: Mapping[str, Any]) -> SkillDefinition:
    return SkillDefinition(r["name"], r["description"], r["requires_certification"])


def pause_reason_from_row(r: Mapping[str, Any]) -> PauseReason:
    return PauseReason(r["code"], r["label"], r["paid"])


def agent_row(a: Agent) -> dict[str, Any]:
    return {
        "id": a.id, "operator_id": a.operator_id, "name": a.name, "kind": str(a.kind), "skills": a.skills,
        "languages": sorted(a.languages),
        "certifications": {k: _iso(v) for k, v in a.certifications.items()},
        "home_state": a.home_state, "time_zone": a.time_zone,
        "capacity": {str(k): v for k, v in a.capacity.items()}, "score": a.score, "attributes": a.attributes,
    }


def agent_from_row(r: Mapping[str, Any]) -> Agent:
    return Agent(
        id=r["id"], operator_id=r["operator_id"], name=r["name"], kind=AgentKind(r["kind"]),
        skills=dict(r["skills"]), languages=frozenset(r["languages"]),
        certifications={k: _dt(v) for k, v in r["certifications"].items()},  # type: ignore[misc]
        home_state=r["home_state"], time_zone=r["time_zone"],
        capacity={Medium(k): v for k, v in r["capacity"].items()}, score=r["score"],
        attributes=dict(r["attributes"]),
    )


def presence_from_row(r: Mapping[str, Any]) -> tuple[Presence, str | None]:
    return Presence(r["presence"]), r["pause_reason"]


_QUEUE_SETTINGS = ("strategy", "skills", "language", "priority", "ageing_per_minute", "service_level_seconds",
                   "wrap_up_seconds", "offer_timeout_seconds", "preferred_agent_seconds", "default_handle_seconds",
                   "target_service_level", "max_asa_seconds", "max_abandonment_rate", "max_ewt_seconds")


def queue_row(q: Queue) -> dict[str, Any]:
    settings = {k: getattr(q, k) for k in _QUEUE_SETTINGS}
    settings["strategy"] = str(q.strategy)
    return {"id": q.id, "operator_id": q.operator_id, "tenant_id": q.tenant_id, "program_id": q.program_id,
            "name": q.name, "settings": settings}


def queue_from_row(r: Mapping[str, Any]) -> Queue:
    settings = dict(r["settings"])
    settings["strategy"] = Strategy(settings["strategy"])
    return Queue(r["id"], r["operator_id"], r["tenant_id"], r["program_id"], r["name"], **settings)


def workflow_row(w: Workflow) -> dict[str, Any]:
    definition = {
        "routes": [{"name": r.name, "filter": r.filter, "targets": [asdict(t) for t in r.targets]} for r in w.routes],
        "default_target": asdict(w.default_target) if w.default_target else None,
    }
    return {"id": w.id, "operator_id": w.operator_id, "tenant_id": w.tenant_id, "program_id": w.program_id,
            "name": w.name, "definition": definition}


def workflow_from_row(r: Mapping[str, Any]) -> Workflow:
    d = r["definition"]
    routes = tuple(Route(x["name"], x["filter"], tuple(Target(**t) for t in x["targets"])) for x in d["routes"])
    default = Target(**d["default_target"]) if d.get("default_target") else None
    return Workflow(r["id"], r["operator_id"], r["tenant_id"], r["program_id"], r["name"], routes, default)


def interaction_row(i: Interaction) -> dict[str, Any]:
    routing = {
        "workflow_id": i.workflow_id, "target_index": i.target_index, "route": i.route,
        "agent_filter": i.agent_filter, "only_agent_id": i.only_agent_id,
        "only_agent_until": _iso(i.only_agent_until), "target_deadline": _iso(i.target_deadline),
        "excluded_agents": sorted(i.excluded_agents), "visited_queues": list(i.visited_queues),
        "answers": [list(a) for a in i.answers],
        "wrap_up_deadline": _iso(i.wrap_up_deadline),
        "hold_started_at": _iso(i.hold_started_at), "hold_seconds": i.hold_seconds,
    }
    return {
        "id": i.id, "operator_id": i.operator_id, "tenant_id": i.tenant_id, "program_id": i.program_id,
        "channel": str(i.channel), "direction": str(i.direction), "state": str(i.state), "queue_id": i.queue_id,
        "agent_id": i.agent_id, "priority": i.priority, "seq": i.seq, "created_at": i.created_at,
        "enqueued_at": i.enqueued_at, "answered_at": i.answered_at, "ended_at": i.ended_at,
        "completed_at": i.completed_at, "abandoned_at": i.abandoned_at, "customer": i.customer.as_dict(),
        "attributes": i.attributes, "routing": routing, "disposition": i.disposition, "notes": i.notes,
        "transfer": i.transfer, "customer_key": i.customer.key,
    }


def interaction_from_row(r: Mapping[str, Any]) -> Interaction:
    routing = r["routing"]
    return Interaction(
        id=r["id"], operator_id=r["operator_id"], tenant_id=r["tenant_id"], program_id=r["program_id"],
        channel=Channel(r["channel"]), direction=Direction(r["direction"]), created_at=r["created_at"],
        customer=Customer(**r["customer"]), attributes=dict(r["attributes"]), priority=r["priority"],
        state=InteractionState(r["state"]), queue_id=r["queue_id"], workflow_id=routing["workflow_id"],
        target_index=routing["target_index"], route=routing["route"], agent_filter=routing["agent_filter"],
        only_agent_id=routing["only_agent_id"], only_agent_until=_dt(routing["only_agent_until"]),
        target_deadline=_dt(routing["target_deadline"]), excluded_agents=frozenset(routing["excluded_agents"]),
        visited_queues=tuple(routing.get("visited_queues", ())),
        answers=tuple((q, w) for q, w in routing.get("answers", ())),
        seq=r["seq"], enqueued_at=r["enqueued_at"], answered_at=r["answered_at"], ended_at=r["ended_at"],
        completed_at=r["completed_at"], abandoned_at=r["abandoned_at"], agent_id=r["agent_id"],
        wrap_up_deadline=_dt(routing["wrap_up_deadline"]), hold_started_at=_dt(routing["hold_started_at"]),
        hold_seconds=routing["hold_seconds"], disposition=r["disposition"], notes=r["notes"],
        transfer=r["transfer"],
    )


def offer_row(o: Offer, operator_id: str) -> dict[str, Any]:
    return {"id": o.id, "operator_id": operator_id, "interaction_id": o.interaction_id, "agent_id": o.agent_id,
            "created_at": o.created_at, "expires_at": o.expires_at, "status": o.status, "closed_at": o.closed_at}


def offer_from_row(r: Mapping[str, Any]) -> Offer:
    return Offer(r["id"], r["interaction_id"], r["agent_id"], r["created_at"], r["expires_at"], r["status"],
                 r["closed_at"])


def segment_row(s: StateSegment, operator_id: str) -> dict[str, Any]:
    return {"agent_id": s.agent_id, "seq": s.seq, "operator_id": operator_id, "state": str(s.state),
            "reason": s.reason, "start": s.start, "end": s.end}


def segment_from_row(r: Mapping[str, Any]) -> StateSegment:
    return StateSegment(r["agent_id"], AgentState(r["state"]), r["start"], r["reason"], r["end"], r["seq"])


def event_row(e: Event) -> dict[str, Any]:
    return {"operator_id": e.operator_id, "tenant_id": e.tenant_id, "name": str(e.name), "at": e.at,
            "interaction_id": e.interaction_id, "agent_id": e.agent_id, "queue_id": e.queue_id, "data": e.data}
