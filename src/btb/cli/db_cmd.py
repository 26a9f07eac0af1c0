"""``btb db``: create and upgrade the database schema (Alembic migrations shipped with btb).

The database is ``--database-url``, else ``BTB_DATABASE_URL``, else the config file's
``database.url`` (``-c``), else the SQLite file ``<data dir>/btb.db``. Bots upgrade the
database themselves on start; ``btb db upgrade`` does it ahead of time (e.g. for PostgreSQL
shared by several bots), ``btb db current`` shows where a database stands.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from btb.database import migrate
from btb.database.engine import DEFAULT_DATA_DIR
from btb.database.manager import DatabaseManager


def open_database(
    database_url: str | None, data_dir: str | None, config_path: str | None
) -> DatabaseManager:
    """The DatabaseManager the options, the environment or the config file point at."""
    if config_path and not database_url:
        from btb.utils.config import load_config

        cfg = load_config(config_path)
        database_url = cfg.database.url
        data_dir = data_dir or str(cfg.data.data_dir)
    return DatabaseManager(database_url, data_dir=Path(data_dir or DEFAULT_DATA_DIR))


def data_dir_of(data_dir: str | None, config_path: str | None) -> Path:
    """The data directory from ``--data-dir``, the config file, or the default."""
    if data_dir:
        return Path(data_dir)
    if config_path:
        from btb.utils.config import load_config

        return Path(load_config(config_path).data.data_dir)
    return DEFAULT_DATA_DIR


database_options = [
    click.option(
        "--database-url",
        envvar="BTB_DATABASE_URL",
        default=None,
        help="sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db.",
    ),
    click.option(
        "--data-dir",
        envvar="BTB_DATA_DIR",
        default=None,
        help="Data folder (default user_data/data).",
    ),
    click.option("--config", "-c", "config_path", default=None, help="YAML config file."),
]


def with_database_options(command: click.decorators.FC) -> click.decorators.FC:
    """Add --database-url, --data-dir and --config to ``command``."""
    for option in reversed(database_options):
        command = option(command)
    return command


@click.group("db")
def db() -> None:
    """Create, upgrade and inspect the database schema."""


@db.command("upgrade")
@with_database_options
@click.option("--revision", default=migrate.HEAD, show_default=True, help="Target revision.")
def upgrade(
    database_url: str | None, data_dir: str | None, config_path: str | None, revision: str
) -> None:
    """Create the database if needed and apply migrations up to REVISION."""
    manager = open_database(database_url, data_dir, config_path)

    async def _run() -> str | None:
        try:
            await migrate.upgrade(manager.engine, revision)
            return await migrate.current_revision(manager.engine)
        finally:
            await manager.close()

    click.echo(f"{manager.url}: at revision {asyncio.run(_run())}")


@db.command("current")
@with_database_options
def current(database_url: str | None, data_dir: str | None, config_path: str | None) -> None:
    """Show the database's revision and the newest one this btb ships."""
    manager = open_database(database_url, data_dir, config_path)

    async def _run() -> str | None:
        try:
            return await migrate.current_revision(manager.engine)
        finally:
            await manager.close()

    revision = asyncio.run(_run())
    head = migrate.head_revision()
    state = "up to date" if revision == head else "needs `btb db upgrade`"
    click.echo(f"{manager.url}: revision {revision or 'none (empty)'}, newest {head} ({state})")
