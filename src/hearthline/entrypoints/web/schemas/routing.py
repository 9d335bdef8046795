"""Queues and workflows."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ....domain.queues import Queue
from ....domain.workflows import Route, Target, Workflow
from .common import Expression, In, Language, Name, Out, Ref, Slug

StrategyName = Literal["longest_idle", "most_skilled", "round_robin", "fewest_contacts", "ring_all", "performance",
                       "preferred_agent"]
Seconds = Annotated[int, Field(ge=0, le=86_400)]
Priority = Annotated[int, Field(ge=-1000, le=1000)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class _QueueSettings(In):
    strategy: StrategyName = "longest_idle"
    skills: dict[Slug, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, max_length=20, description="required skill → minimum proficiency 1..5")
    language: Language | None = None
    priority: Priority = 0
    ageing_per_minute: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 0.0
    service_level_seconds: Seconds = 20
    wrap_up_seconds: Seconds = 60
    offer_timeout_seconds: Annotated[int, Field(ge=1, le=600)] | None = None
    preferred_agent_seconds: Seconds = 30
    default_handle_seconds: Annotated[float, Field(ge=1, le=86_400, allow_inf_nan=False)] = 180.0
    target_service_level: Fraction = Field(0.8, description="the console turns amber under this service level")
    max_asa_seconds: Seconds = 30
    max_abandonment_rate: Fraction = 0.05
    max_ewt_seconds: Seconds = 120


class QueueIn(_QueueSettings):
    program_id: Ref
    name: Name


class QueuePatch(In):
    name: Name | None = None
    strategy: StrategyName | None = None
    skills: dict[Slug, Annotated[int, Field(ge=1, le=5)]] | None = Field(None, max_length=20)
    language: Language | None = None
    priority: Priority | None = None
    ageing_per_minute: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None
    service_level_seconds: Seconds | None = None
    wrap_up_seconds: Seconds | None = None
    offer_timeout_seconds: Annotated[int, Field(ge=1, le=600)] | None = None
    preferred_agent_seconds: Seconds | None = None
    default_handle_seconds: Annotated[float, Field(ge=1, le=86_400, allow_inf_nan=False)] | None = None
    target_service_level: Fraction | None = None
    max_asa_seconds: Seconds | None = None
    max_abandonment_rate: Fraction | None = None
    max_ewt_seconds: Seconds | None = None


# Fields of QueuePatch for which null means "clear it" rather than "leave it".
QUEUE_NULLABLE = frozenset({"language", "offer_timeout_seconds"})


class QueueOut(Out):
    id: str
    tenant_id: str
    program_id: str
    name: str
    strategy: StrategyName
    skills: dict[str, int]
    language: str | None
    priority: int
    ageing_per_minute: float
    service_level_seconds: int
    wrap_up_seconds: int
    offer_timeout_seconds: int | None
    preferred_agent_seconds: int
    default_handle_seconds: float
    target_service_level: float
    max_asa_seconds: int
    max_abandonment_rate: float
    max_ewt_seconds: int

    @classmethod
    def of(cls, q: Queue) -> QueueOut:
        return cls(id=q.id, tenant_id=q.tenant_id, program_id=q.program_id, name=q.name, strategy=q.strategy.value,
                   skills=dict(q.skills), language=q.language, priority=q.priority,
                   ageing_per_minute=q.ageing_per_minute, service_level_seconds=q.service_level_seconds,
                   wrap_up_seconds=q.wrap_up_seconds, offer_timeout_seconds=q.offer_timeout_seconds,
                   preferred_agent_seconds=q.preferred_agent_seconds, default_handle_seconds=q.default_handle_seconds,
                   target_service_level=q.target_service_level, max_asa_seconds=q.max_asa_seconds,
                   max_abandonment_rate=q.max_abandonment_rate, max_ewt_seconds=q.max_ewt_seconds)


class TargetIn(In):
    queue_id: Ref
    agent_expression: Expression | None = Field(None, description='e.g. agent.skills.billing >= 3')
    priority: Priority | None = Field(None, description="replaces the contact's priority; null keeps it")
    timeout_seconds: Annotated[int, Field(ge=1, le=86_400)] | None = Field(
        None, description="overflow to the next target after this long; null waits here for good")
    skip_if: Expression | None = Field(None, description="e.g. queue.waiting > 20")

    def to_domain(self) -> Target:
        return Target(self.queue_id, self.agent_expression, self.priority, self.timeout_seconds, self.skip_if)


class RouteIn(In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*\S[^\x00]*$")]
    filter: Expression = Field(description='e.g. language == "es" AND tier IN ["gold", "platinum"]')
    targets: list[TargetIn] = Field(min_length=1, max_length=10)


class WorkflowPut(In):
    name: Name
    routes: list[RouteIn] = Field(default_factory=list, max_length=50)
    default_target: TargetIn

    def routes_domain(self) -> tuple[Route, ...]:
        return tuple(Route(r.name, r.filter, tuple(t.to_domain() for t in r.targets)) for r in self.routes)


class WorkflowIn(WorkflowPut):
    program_id: Ref


class TargetOut(Out):
    queue_id: str
    agent_expression: str | None
    priority: int | None
    timeout_seconds: int | None
    skip_if: str | None

    @classmethod
    def of(cls, t: Target) -> TargetOut:
        return cls(queue_id=t.queue_id, agent_expression=t.agent_expression, priority=t.priority,
                   timeout_seconds=t.timeout_seconds, skip_if=t.skip_if)


class RouteOut(Out):
    name: str
    filter: str
    targets: list[TargetOut]


class WorkflowOut(Out):
    id: str
    tenant_id: str
    program_id: str
    name: str
    routes: list[RouteOut]
    default_target: TargetOut | None

    @classmethod
    def of(cls, w: Workflow) -> WorkflowOut:
        routes = [RouteOut(name=r.name, filter=r.filter, targets=[TargetOut.of(t) for t in r.targets])
                  for r in w.routes]
        return cls(id=w.id, tenant_id=w.tenant_id, program_id=w.program_id, name=w.name, routes=routes,
                   default_target=TargetOut.of(w.default_target) if w.default_target else None)
