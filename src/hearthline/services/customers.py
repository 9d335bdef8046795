"""Customer records and the screen-pop: who is this, and what happened with them before.

A customer record belongs to a client company (tenant): the client's own customer number, name,
e-mail, phone and free attributes (account, plan, address …). Contacts are tied to a customer by
the interaction's customer key (id, else phone, else e-mail — domain.interactions.Customer.key),
so the desk shows the past contacts of every channel together.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select

from ..adapters.sql import tables as t
from ..domain.errors import InvalidInput, NotFound, PermissionDenied
from ..domain.ids import new_id
from ..domain.organization import Role, Scope
from . import interactions as work
from .platform import Platform

HISTORY_LIMIT = 20
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def _check(fields: dict[str, Any]) -> dict[str, Any]:
    email = fields.get("email")
    if email is not None:
        email = email.strip().lower()
        if not _EMAIL.match(email):
            raise InvalidInput("email", "not an e-mail address")
        fields["email"] = email
    attributes = fields.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise InvalidInput("attributes", "must be an object")
    return fields


def customer_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "tenant_id": row["tenant_id"], "external_id": row["external_id"],
            "first_name": row["first_name"], "last_name": row["last_name"], "email": row["email"],
            "phone": row["phone"], "attributes": row["attributes"], "created_at": row["created_at"].isoformat()}


def _writer(scope: Scope) -> None:
    if scope.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDenied("customer records are changed by supervisors and admins")


async def create_customer(p: Platform, scope: Scope, tenant_id: str, **fields: Any) -> dict[str, Any]:
    _writer(scope)
    await p.run(p.store.get_row, t.tenants, "tenant", tenant_id, scope)
    row = {"id": new_id(), "operator_id": scope.operator_id, "tenant_id": tenant_id, "external_id": None,
           "first_name": None, "last_name": None, "email": None, "phone": None, "attributes": {},
           "created_at": p.clock.now()} | _check(dict(fields))
    await p.run(p.store.insert_row, t.customers, row)
    return customer_dict(row)


async def get_customer(p: Platform, scope: Scope, customer_id: str) -> dict[str, Any]:
    if scope.role is Role.CLIENT_VIEWER:
        raise NotFound("customer", customer_id)
    return customer_dict(await p.run(p.store.get_row, t.customers, "customer", customer_id, scope))


async def update_customer(p: Platform, scope: Scope, customer_id: str, **fields: Any) -> dict[str, Any]:
    _writer(scope)
    await p.run(p.store.update_row, t.customers, "customer", customer_id, scope, _check(dict(fields)))
    return await get_customer(p, scope, customer_id)


async def list_customers(p: Platform, scope: Scope, *, tenant_id: str | None = None, email: str | None = None,
                         phone: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    if scope.role is Role.CLIENT_VIEWER:
        return []
    rows = await p.run(p.store.list_rows, t.customers, scope, limit=limit, offset=offset, tenant_id=tenant_id,
                       email=email.strip().lower() if email else None, phone=phone)
    return [customer_dict(r) for r in rows]


def find_record(p: Platform, tenant_id: str, customer: dict[str, Any]) -> dict[str, Any] | None:
    """Blocking: the tenant's record for an interaction's customer, matched by id (ours or the
    client's), else e-mail, else phone."""
    c = t.customers
    tests = []
    if customer.get("id"):
        tests += [c.c.id == customer["id"], c.c.external_id == customer["id"]]
    if customer.get("email"):
        tests.append(func.lower(c.c.email) == customer["email"].strip().lower())
    if customer.get("phone"):
        tests.append(c.c.phone == customer["phone"])
    if not tests:
        return None
    with p.store.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(c).where((c.c.tenant_id == tenant_id) & or_(*tests))
                                              .order_by(c.c.created_at).limit(10)).mappings()]
    for key, column in (("id", "id"), ("id", "external_id"), ("email", "email"), ("phone", "phone")):
        value = customer.get(key)
        if value and key == "email":
            value = value.strip().lower()
        match = next((r for r in rows if value and r[column]
                      and (r[column].lower() if key == "email" else r[column]) == value), None)
        if match is not None:
            return match
    return None


async def screen_pop(p: Platform, scope: Scope, interaction_id: str) -> dict[str, Any]:
    """Everything the desk shows beside a contact: the customer's record (or what the contact
    itself says about the customer), the attributes gathered by IVR, bot or form, and the
    customer's earlier contacts on every channel, newest first."""
    interaction, _ = await work.get_interaction(p, scope, interaction_id)
    customer = interaction.customer.as_dict()
    key = interaction.customer.key

    def query() -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        record = find_record(p, interaction.tenant_id, customer)
        history: list[dict[str, Any]] = []
        if key:
            i = t.interactions
            rows = p.store.engine.connect()
            with rows as conn:
                for r in conn.execute(select(i.c.id, i.c.channel, i.c.direction, i.c.state, i.c.created_at,
                                             i.c.completed_at, i.c.agent_id, i.c.disposition, i.c.notes, i.c.queue_id)
                                      .where((i.c.tenant_id == interaction.tenant_id) & (i.c.customer_key == key)
                                             & (i.c.id != interaction.id))
                                      .order_by(i.c.created_at.desc()).limit(HISTORY_LIMIT)).mappings():
                    history.append({"id": r["id"], "channel": r["channel"], "direction": r["direction"],
                                    "state": r["state"], "created_at": r["created_at"].isoformat(),
                                    "completed_at": r["completed_at"].isoformat() if r["completed_at"] else None,
                                    "agent_id": r["agent_id"], "queue_id": r["queue_id"],
                                    "disposition": r["disposition"], "notes": (r["notes"] or "")[:300] or None})
        return record, history

    record, history = await p.run(query)
    return {"interaction_id": interaction.id, "customer": customer,
            "record": customer_dict(record) if record else None, "attributes": interaction.attributes,
            "history": history}
