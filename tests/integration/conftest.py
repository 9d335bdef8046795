"""Fixtures for the integration suite: a started and migrated SqlStore on SQLite and on PostgreSQL.

SQLite gets a fresh file per test. PostgreSQL gets a fresh database per test module
(`hl_<random>`, created through the server named by HEARTHLINE_TEST_POSTGRES_URL and dropped at
the end), so tests in one module share it and must build their data with unique ids. Tests on
PostgreSQL carry the `postgres` marker: deselect them with `-m "not postgres"`. The
`postgres_database` fixture itself lives in tests/conftest.py (the e2e tests use it too).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import time
from datetime import datetime, timedelta, timezone

from hearthline.adapters.sql.store import SqlStore
from hearthline.adapters.tone import VaderTone
from hearthline.services.bus import InProcessEventBus
from hearthline.services.platform import Platform

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a temporary SQLite file, or this module's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hearthline.db'}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A started SqlStore with every migration applied."""
    sql_store = SqlStore(store_url)
    sql_store.start()
    try:
        sql_store.upgrade()
        yield sql_store
    finally:
        sql_store.close()


class MiddayClock:
    """Real time passing, starting at noon: today's statistics must not reset at midnight in the
    middle of a test that runs at 23:59."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> datetime:
        return datetime(2026, 6, 1, 12, tzinfo=timezone.utc) + timedelta(seconds=time.monotonic() - self._start)


@pytest.fixture
def platform(store: SqlStore) -> Iterator[Platform]:
    """The services over the real store (each backend), the in-process bus and a midday clock."""
    yield Platform(store, InProcessEventBus(), MiddayClock(), tone=VaderTone())
