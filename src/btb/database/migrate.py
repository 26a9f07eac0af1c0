"""Alembic migrations run from code: no alembic.ini, works from an installed package.

Each upgrade runs inside one transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL with an
advisory lock), so two bots starting at once upgrade the database once, and a crash during
an upgrade leaves the database at the previous revision.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION = "btb.database:migrations"
HEAD = "head"
# pg_advisory_xact_lock key: any constant btb alone uses ("btb" + "mig" as bytes).
_PG_LOCK_KEY = 0x6274626D6967


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration pointing at btb's migration scripts (package data)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this btb."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(engine: AsyncEngine, revision: str = HEAD) -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (default: the newest)."""
    async with engine.begin() as conn:
        await conn.run_sync(_run, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Downgrade to ``revision`` (for development; data in dropped tables is lost)."""
    async with engine.begin() as conn:
        await conn.run_sync(_run, command.downgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def _run(connection: Connection, action: Any, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    action(alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
