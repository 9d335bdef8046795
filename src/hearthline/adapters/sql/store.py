"""The SQL store: SQLite (WAL) by default, PostgreSQL by URL, the same schema and code for both.

Blocking by design (SQLAlchemy Core, sync drivers): callers on the event loop run it in a thread.
Every read takes a Scope and filters on the operator and, for a client viewer, on her tenant;
an object outside the scope is reported exactly like a missing one (NotFound → 404).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ...domain.agents import Agent, Presence, StateSegment
from ...domain.center import Changes, Offer, OfferStatus
from ...domain.errors import Conflict, NotFound
from ...domain.interactions import Interaction
from ...domain.organization import Scope
from . import mapping as m
from . import tables as t

log = logging.getLogger(__name__)

TENANT_SCOPED = {t.tenants, t.programs, t.queues, t.workflows, t.interactions, t.webhooks, t.webhook_deliveries,
                 t.referrals, t.customers, t.messages, t.attachments, t.chat_sessions, t.mail_addresses, t.mailboxes,
                 t.scripts, t.knowledge_articles, t.canned_responses}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; NORMAL sync is durable across a process kill
    # (not across power loss of the host), which is the failure the tests exercise.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


class SqlStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"future": True}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self._engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self._engine, "connect", _sqlite_pragmas)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("store not started")
        return self._engine

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        from .migrate import upgrade

        upgrade(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError as err:
            raise Conflict("the data conflicts with what is stored (a duplicate name or a missing parent)",
                           detail=str(err.orig)[:200]) from err

    # ---- generic scoped access --------------------------------------------------------------
    @staticmethod
    def _scoped(table: Table, scope: Scope):  # type: ignore[no-untyped-def]
        owner = table.c.id if table is t.operators else table.c.operator_id
        query = select(table).where(owner == scope.operator_id)
        if scope.tenant_ids is not None and table in TENANT_SCOPED:
            column = table.c.id if table is t.tenants else table.c.tenant_id
            query = query.where(column.in_(sorted(scope.tenant_ids)))
        return query

    def get_row(self, table: Table, kind: str, ident: str, scope: Scope) -> dict[str, Any]:
        with self.begin() as conn:
            row = conn.execute(self._scoped(table, scope).where(table.c.id == ident)).mappings().first()
        if row is None:
            raise NotFound(kind, ident)
        return dict(row)

    def list_rows(self, table: Table, scope: Scope, *, order_by: str = "created_at", limit: int = 1000,
                  offset: int = 0, **equals: Any) -> list[dict[str, Any]]:
        query = self._scoped(table, scope)
        for name, value in equals.items():
            if value is not None:
                query = query.where(table.c[name] == value)
        order = [table.c[order_by]]
        if order_by != "id" and "id" in table.c:
            order.append(table.c.id)  # a stable order of ties, so pages neither skip nor repeat rows
        query = query.order_by(*order).limit(limit).offset(offset)
        with self.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def insert_row(self, table: Table, row: dict[str, Any]) -> None:
        with self.begin() as conn:
            conn.execute(insert(table).values(**row))

    def update_row(self, table: Table, kind: str, ident: str, scope: Scope, values: dict[str, Any]) -> None:
        self.get_row(table, kind, ident, scope)
        with self.begin() as conn:
            conn.execute(update(table).where(table.c.id == ident).values(**values))

    def delete_row(self, table: Table, kind: str, ident: str, scope: Scope) -> None:
        self.get_row(table, kind, ident, scope)
        with self.begin() as conn:
            conn.execute(delete(table).where(table.c.id == ident))

    # ---- operator-wide keyed tables (skills, pause reasons) ---------------------------------
    def upsert_keyed(self, table: Table, key: str, row: dict[str, Any]) -> None:
        with self.begin() as conn:
            where = (table.c.operator_id == row["operator_id"]) & (table.c[key] == row[key])
            if conn.execute(select(table.c[key]).where(where)).first() is None:
                conn.execute(insert(table).values(**row))
            else:
                conn.execute(update(table).where(where).values(**row))

    def delete_keyed(self, table: Table, kind: str, key: str, value: str, operator_id: str) -> None:
        with self.begin() as conn:
            result = conn.execute(delete(table).where((table.c.operator_id == operator_id) & (table.c[key] == value)))
        if result.rowcount == 0:
            raise NotFound(kind, value)

    # ---- router persistence -----------------------------------------------------------------
    def save_changes(self, operator_id: str, changes: Changes) -> None:
        """Persist one batch of router changes in a single transaction."""
        with self.begin() as conn:
            self._upsert_interactions(conn, list(changes.interactions.values()))
            self._upsert_offers(conn, operator_id, list(changes.offers.values()))
            for runtime in changes.agents.values():
                conn.execute(update(t.agents).where(t.agents.c.id == runtime.id).values(
                    presence=str(runtime.presence), pause_reason=runtime.pause_reason))
            self._upsert_segments(conn, operator_id, changes.segments)
            if changes.events:  # one executemany; ids follow the order of the list
                conn.execute(insert(t.events), [m.event_row(e) for e in changes.events])

    def _upsert(self, conn: Connection, table: Table, rows: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE, in one executemany (SQLite and PostgreSQL)."""
        if not rows:
            return
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        stmt = dialect_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys],
            set_={name: stmt.excluded[name] for name in rows[0] if name not in keys},
        )
        conn.execute(stmt, rows)

    def _upsert_interactions(self, conn: Connection, items: list[Interaction]) -> None:
        self._upsert(conn, t.interactions, [m.interaction_row(i) for i in items], ("id",))

    def _upsert_offers(self, conn: Connection, operator_id: str, items: list[Offer]) -> None:
        self._upsert(conn, t.offers, [m.offer_row(o, operator_id) for o in items], ("id",))

    def _upsert_segments(self, conn: Connection, operator_id: str, segments: list[StateSegment]) -> None:
        latest: dict[tuple[str, int], StateSegment] = {}
        for s in segments:
            latest[(s.agent_id, s.seq)] = s
        self._upsert(conn, t.agent_segments, [m.segment_row(s, operator_id) for s in latest.values()],
                     ("agent_id", "seq"))

    def load_router_state(self, operator_id: str, since: datetime) -> dict[str, Any]:
        """Everything a router needs to rebuild: configuration, agents with presence and open
        segment, live interactions plus those created since `since`, pending offers. The
        operator's latest interaction comes too, however old, so the arrival sequence (`seq`)
        continues after a restart instead of starting again at 1."""
        op = t.interactions.c.operator_id == operator_id
        latest_seq = select(func.max(t.interactions.c.seq)).where(op).scalar_subquery()
        live_states = ("created", "queued", "offered", "accepted", "held", "wrap_up")
        with self.begin() as conn:
            operator = conn.execute(select(t.operators).where(t.operators.c.id == operator_id)).mappings().first()
            if operator is None:
                raise NotFound("operator", operator_id)
            agents = []
            open_segments = {
                r["agent_id"]: m.segment_from_row(r)
                for r in conn.execute(select(t.agent_segments).where(
                    (t.agent_segments.c.operator_id == operator_id) & t.agent_segments.c.end.is_(None))).mappings()
            }
            for r in conn.execute(select(t.agents).where(t.agents.c.operator_id == operator_id)
                                  .order_by(t.agents.c.created_at, t.agents.c.id)).mappings():
                presence, reason = m.presence_from_row(r)
                agents.append((m.agent_from_row(r), presence, reason, open_segments.get(r["id"])))
            interactions = [m.interaction_from_row(r) for r in conn.execute(
                select(t.interactions).where(op & (t.interactions.c.state.in_(live_states)
                                                   | (t.interactions.c.created_at >= since)
                                                   | (t.interactions.c.seq == latest_seq)))
                .order_by(t.interactions.c.seq)).mappings()]
            offers = [m.offer_from_row(r) for r in conn.execute(select(t.offers).where(
                (t.offers.c.operator_id == operator_id) & (t.offers.c.status == OfferStatus.PENDING))).mappings()]
            return {
                "operator": m.operator_from_row(operator),
                "queues": [m.queue_from_row(r) for r in conn.execute(
                    select(t.queues).where(t.queues.c.operator_id == operator_id).order_by(t.queues.c.created_at))
                    .mappings()],
                "workflows": [m.workflow_from_row(r) for r in conn.execute(
                    select(t.workflows).where(t.workflows.c.operator_id == operator_id)).mappings()],
                "programs": [m.program_from_row(r) for r in conn.execute(
                    select(t.programs).where(t.programs.c.operator_id == operator_id)).mappings()],
                "skills": [m.skill_from_row(r) for r in conn.execute(
                    select(t.skills).where(t.skills.c.operator_id == operator_id)).mappings()],
                "pause_reasons": [m.pause_reason_from_row(r) for r in conn.execute(
                    select(t.pause_reasons).where(t.pause_reasons.c.operator_id == operator_id)).mappings()],
                "agents": agents,
                "interactions": interactions,
                "offers": offers,
            }

    def operator_ids(self) -> list[str]:
        with self.begin() as conn:
            return [r[0] for r in conn.execute(select(t.operators.c.id).order_by(t.operators.c.created_at))]

    def count(self, table: Table, **equals: Any) -> int:
        query = select(func.count()).select_from(table)
        for name, value in equals.items():
            query = query.where(table.c[name] == value)
        with self.begin() as conn:
            return int(conn.execute(query).scalar_one())

    def agent(self, agent_id: str, scope: Scope) -> Agent:
        return m.agent_from_row(self.get_row(t.agents, "agent", agent_id, scope))

    def agent_presence(self, agent_id: str) -> Presence:
        with self.begin() as conn:
            value = conn.execute(select(t.agents.c.presence).where(t.agents.c.id == agent_id)).scalar_one()
        return Presence(value)

    def ping(self) -> bool:
        try:
            with self.begin() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            log.exception("store ping failed")
            return False
