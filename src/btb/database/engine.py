"""Database URLs and engines: SQLite (embedded default) and PostgreSQL (shared accounts).

SQLite connections are set up for a bot that must survive being killed at any moment:
write-ahead logging, ``synchronous=FULL`` (a committed transaction survives power loss),
foreign keys on, and a busy timeout so several processes can share the file. The sqlite3
driver's own transaction handling is switched off and every write transaction starts with
``BEGIN IMMEDIATE``: it takes the write lock up front, so two writers queue on the busy
timeout instead of one failing half way, and DDL (migrations) is transactional too.
Read-only work uses :func:`read_only` engines, which start with a plain ``BEGIN``.

PostgreSQL sessions run in UTC so that ``date(timestamp)`` means the UTC day.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Insert, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from btb.errors import ConfigError

DEFAULT_DATA_DIR = Path("user_data/data")
DEFAULT_DB_NAME = "btb.db"
READ_ONLY = "btb_read_only"
SQLITE_BUSY_TIMEOUT_MS = 30_000

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ALIASES = {"postgres": "postgresql"}


def resolve_url(
    database_url: str | URL | None = None,
    *,
    db_file: str | Path | None = None,
    data_dir: str | Path = DEFAULT_DATA_DIR,
) -> URL:
    """The async URL to use: ``database_url``, else ``db_file``, else ``<data_dir>/btb.db``.

    ``sqlite:///x.db`` and ``postgresql://…`` are given their async drivers (aiosqlite,
    asyncpg); any other backend is a ConfigError naming ``database_url``.
    """
    if database_url is not None and db_file is not None:
        raise ConfigError("give database_url or db_file, not both", key_path="database_url")
    if database_url is None:
        path = Path(db_file) if db_file is not None else Path(data_dir) / DEFAULT_DB_NAME
        return URL.create("sqlite+aiosqlite", database=str(path))
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError("not a database URL", key_path="database_url") from None
    backend = _ALIASES.get(url.get_backend_name(), url.get_backend_name())
    if backend not in _DRIVERS:
        raise ConfigError(
            f"unsupported database {backend!r}; use sqlite or postgresql", key_path="database_url"
        )
    return url.set(drivername=_DRIVERS[backend])


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def create_engine(url: URL, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` (already resolved) with btb's connection settings."""
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        _install_sqlite_hooks(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        connect_args={"server_settings": {"timezone": "UTC", "application_name": "btb"}},
    )


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """A view of ``engine`` (same pool) whose transactions do not take SQLite's write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver; _on_begin emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA foreign_keys=ON",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


async def create_database(admin_url: str | URL, name: str) -> URL:
    """Create PostgreSQL database ``name`` through ``admin_url``; return the new database's URL.

    For throwaway databases (tests, benchmarks) and first-time setup.
    """
    url = await _admin_execute(admin_url, name, 'CREATE DATABASE "{name}"')
    return url.set(database=name)


async def drop_database(admin_url: str | URL, name: str) -> None:
    """Drop PostgreSQL database ``name`` (disconnecting its sessions) if it exists."""
    await _admin_execute(admin_url, name, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin_execute(admin_url: str | URL, name: str, statement: str) -> URL:
    """Run ``statement`` (naming database ``name``) outside a transaction; the admin URL."""
    url = resolve_url(admin_url)
    _check_identifier(name)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement.format(name=name)))
    finally:
        await engine.dispose()
    return url


def _check_identifier(name: str) -> None:
    # Database names cannot be bound parameters; allow only a safe alphabet.
    if (
        not name
        or len(name) > 63
        or not all(c.isascii() and (c.isalnum() or c == "_") for c in name)
    ):
        raise ConfigError(f"invalid database name {name!r}", key_path="database_url")


def upsert(
    dialect_name: str, table: Table, keys: list[str], update: list[str] | None = None
) -> Insert:
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` (or ``DO NOTHING`` when ``update`` is empty).

    SQLite and PostgreSQL spell this the same way; ``update`` lists the columns a conflicting
    row takes from the new values (default: all but the keys and ``id``).
    """
    stmt = (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(table)
    if update is None:
        update = [c.name for c in table.columns if c.name not in keys and c.name != "id"]
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={name: stmt.excluded[name] for name in update}
    )
