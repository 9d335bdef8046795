"""Workflows: routing as data.

A workflow is an ordered list of routes. Each route has a filter (an expression over the
interaction, e.g. `language == "es" AND tier IN ["gold", "platinum"]`) and ordered targets; the
first route whose filter holds is taken, else the default target. A target names a queue, an
optional agent expression (`agent.skills.billing >= 3`), a priority, a time-out after which the
contact overflows to the next target (keeping its original enqueue time), and a skip-if condition
over the queue's live numbers (`queue.waiting > 20`). Every expression is compiled when the
workflow is saved, so a bad one is refused with its position, never discovered on a live call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput
from .expressions import Expression, ExpressionContext, InvalidExpression, compile_expression
from .ids import OperatorId, ProgramId, QueueId, TenantId, WorkflowId


RESERVED_ROUTE_NAMES = frozenset({"default", "direct", "transfer"})


@dataclass(frozen=True, slots=True)
class Target:
    queue_id: QueueId
    agent_expression: str | None = None
    priority: int | None = None  # None keeps the contact's priority
    timeout_seconds: int | None = None  # None: wait here for good
    skip_if: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    filter: str
    targets: tuple[Target, ...]


@dataclass(slots=True)
class Workflow:
    id: WorkflowId
    operator_id: OperatorId
    tenant_id: TenantId
    program_id: ProgramId
    name: str
    routes: tuple[Route, ...] = ()
    default_target: Target | None = None


@dataclass(frozen=True, slots=True)
class CompiledTarget:
    target: Target
    agent_filter: Expression | None
    skip_if: Expression | None


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    name: str
    filter: Expression | None  # None for the default route
    targets: tuple[CompiledTarget, ...]


@dataclass(slots=True)
class CompiledWorkflow:
    workflow: Workflow
    routes: tuple[CompiledRoute, ...] = field(default_factory=tuple)

    def choose(self, env: dict[str, Any]) -> CompiledRoute:
        """The first route whose filter holds for the interaction, else the default route."""
        for route in self.routes:
            if route.filter is None or route.filter(env):
                return route
        raise AssertionError("unreachable: compile() always ends with the default route")


def _compile(text: str | None, context: ExpressionContext, field_name: str) -> Expression | None:
    if text is None or not text.strip():
        return None
    try:
        return compile_expression(text, context)
    except InvalidExpression as err:
        err.details["field"] = field_name
        raise


def _compile_target(target: Target, where: str, queue_ids: set[str] | None) -> CompiledTarget:
    if queue_ids is not None and target.queue_id not in queue_ids:
        raise InvalidInput(f"{where}.queue_id", f"no such queue: {target.queue_id}")
    if target.timeout_seconds is not None and not 1 <= target.timeout_seconds <= 86_400:
        raise InvalidInput(f"{where}.timeout_seconds", "must be 1 to 86400 seconds")
    if target.priority is not None and not -1000 <= target.priority <= 1000:
        raise InvalidInput(f"{where}.priority", "must be -1000 to 1000")
    return CompiledTarget(
        target,
        _compile(target.agent_expression, ExpressionContext.AGENT, f"{where}.agent_expression"),
        _compile(target.skip_if, ExpressionContext.SKIP, f"{where}.skip_if"),
    )


def compile_workflow(workflow: Workflow, queue_ids: set[str] | None = None) -> CompiledWorkflow:
    """Check and compile every expression and target. Raises InvalidExpression (with the field
    and position) or InvalidInput naming the field; `queue_ids`, if given, are the queues a
    target may name."""
    if workflow.default_target is None:
        raise InvalidInput("default_target", "a workflow needs a default target")
    routes = []
    names = [route.name for route in workflow.routes]
    for i, name in enumerate(names):
        # the router finds a contact's route again by its name (after a restart, on overflow)
        if name in RESERVED_ROUTE_NAMES or names.index(name) != i:
            raise InvalidInput(f"routes[{i}].name", "route names must be unique and not "
                               + ", ".join(sorted(RESERVED_ROUTE_NAMES)))
    for i, route in enumerate(workflow.routes):
        if not route.targets:
            raise InvalidInput(f"routes[{i}].targets", "a route needs at least one target")
        expr = _compile(route.filter, ExpressionContext.INTERACTION, f"routes[{i}].filter")
        if expr is None:
            raise InvalidInput(f"routes[{i}].filter", "a route needs a filter")
        targets = tuple(
            _compile_target(t, f"routes[{i}].targets[{j}]", queue_ids) for j, t in enumerate(route.targets)
        )
        routes.append(CompiledRoute(route.name, expr, targets))
    default = _compile_target(workflow.default_target, "default_target", queue_ids)
    routes.append(CompiledRoute("default", None, (default,)))
    return CompiledWorkflow(workflow, tuple(routes))
