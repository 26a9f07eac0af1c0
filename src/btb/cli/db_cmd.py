"""``btb db``: create and upgrade the database schema (Alembic migrations shipped with btb).

The database is ``--database-url``, else ``BTB_DATABASE_URL``, else the config file's
``database.url`` (``-c``), else the SQLite file ``<data dir>/btb.db``. Bots upgrade the
database themselves on start; ``btb db upgrade`` does it ahead of time (e.g. for PostgreSQL
shared by several bots), ``btb db current`` shows where a database stands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

from btb.database import migrate
from btb.database.engine import DEFAULT_DATA_DIR
from btb.database.manager import DatabaseManager
from btb.errors import ConfigError

T = TypeVar("T")


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


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Driver, connection and migration failures as one ConfigError naming the database.

    Only the first line of the driver's message is kept: later lines can quote the SQL and
    its parameters (values the user did not ask to see, encrypted credentials among them).
    ``url`` is shown with its password masked.
    """
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    try:
        yield
    except DBAPIError as exc:
        reason = _first_line(exc.orig if exc.orig is not None else exc)
        raise ConfigError(f"cannot use database {url}: {reason}", key_path="database_url") from None
    except SQLAlchemyError as exc:
        raise ConfigError(f"database {url}: {_first_line(exc)}", key_path="database_url") from None
    except CommandError as exc:
        raise ConfigError(
            f"cannot migrate database {url}: {_first_line(exc)} (a database written by a newer "
            "btb, or a --revision this btb does not ship?)",
            key_path="database_url",
        ) from None
    except OSError as exc:  # server not listening, host unknown
        raise ConfigError(
            f"cannot connect to database {url}: {_first_line(exc)}", key_path="database_url"
        ) from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def run_on_database(
    database_url: str | None,
    data_dir: str | None,
    config_path: str | None,
    work: Callable[[DatabaseManager], Awaitable[T]],
) -> tuple[DatabaseManager, T]:
    """Run ``work(manager)`` on the database the options select, then close it; failures of
    the database itself are one-line ConfigErrors (see :func:`database_errors`)."""
    manager = open_database(database_url, data_dir, config_path)

    async def _run() -> T:
        try:
            return await work(manager)
        finally:
            await manager.close()

    with database_errors(manager.url):
        return manager, asyncio.run(_run())


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

    async def _upgrade(manager: DatabaseManager) -> str | None:
        await migrate.upgrade(manager.engine, revision)
        return await migrate.current_revision(manager.engine)

    manager, reached = run_on_database(database_url, data_dir, config_path, _upgrade)
    click.echo(f"{manager.url}: at revision {reached}")


@db.command("current")
@with_database_options
def current(database_url: str | None, data_dir: str | None, config_path: str | None) -> None:
    """Show the database's revision and the newest one this btb ships."""

    async def _current(manager: DatabaseManager) -> str | None:
        return await migrate.current_revision(manager.engine)

    manager, revision = run_on_database(database_url, data_dir, config_path, _current)
    head = migrate.head_revision()
    state = "up to date" if revision == head else "needs `btb db upgrade`"
    click.echo(f"{manager.url}: revision {revision or 'none (empty)'}, newest {head} ({state})")
