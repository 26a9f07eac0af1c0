"""Database fixtures shared by tests/unit/database and tests/integration/database.

Every persistence test runs twice: on a SQLite file in the test's tmp_path and on a
throwaway PostgreSQL database on the server at 127.0.0.1:5432 (created before the test,
dropped after it). PostgreSQL being unreachable fails the test; it is never skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from btb.database.engine import create_database, drop_database
from btb.database.manager import DatabaseManager

PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
ENGINES = ["sqlite", "postgresql"]


async def make_database(engine: str, tmp_path: Path) -> tuple[str, str | None]:
    """(URL of a new empty database, PostgreSQL database name or None for SQLite)."""
    if engine == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'btb_test.db'}", None
    name = f"btb_test_{uuid.uuid4().hex[:16]}"
    try:
        url = await create_database(PG_ADMIN_URL, name)
    except (OSError, ConnectionError) as exc:
        pytest.fail(
            f"PostgreSQL at 127.0.0.1:5432 is unreachable ({exc}); the persistence tests "
            "need it: start it (.ci/run does) and rerun",
            pytrace=False,
        )
    return url.render_as_string(hide_password=False), name


@pytest.fixture(params=ENGINES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """URL of an empty throwaway database on each engine."""
    url, pg_name = await make_database(request.param, tmp_path)
    try:
        yield url
    finally:
        if pg_name is not None:
            await drop_database(PG_ADMIN_URL, pg_name)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[DatabaseManager]:
    """An initialised (migrated) DatabaseManager on each engine."""
    manager = DatabaseManager(database_url)
    await manager.initialize()
    try:
        yield manager
    finally:
        await manager.close()
