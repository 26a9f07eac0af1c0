"""Engine ownership shared by the parts of :class:`btb.database.manager.DatabaseManager`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import ColumnElement, Table, true
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from btb.database import migrate
from btb.database.engine import DEFAULT_DATA_DIR, create_engine, read_only, resolve_url
from btb.database.tables import DEFAULT_BOT


class DatabaseBase:
    """Owns the engine; every write is one transaction (:meth:`transaction`)."""

    def __init__(
        self,
        database_url: str | URL | None = None,
        *,
        db_file: str | Path | None = None,
        data_dir: str | Path = DEFAULT_DATA_DIR,
        bot_name: str = DEFAULT_BOT,
        echo: bool = False,
    ) -> None:
        """Prepare (without connecting) a database at ``database_url``.

        ``database_url`` is ``sqlite+aiosqlite:///path.db`` or ``postgresql+asyncpg://…``
        (plain ``sqlite:``/``postgresql:`` get their async driver). Without it, ``db_file``
        (seed 002's argument) or ``<data_dir>/btb.db`` is used. ``bot_name`` is the bot that
        writes go to when a method is not given one.
        """
        self._url = resolve_url(database_url, db_file=db_file, data_dir=data_dir)
        self.bot_name = bot_name
        self._engine = create_engine(self._url, echo=echo)
        self._reader = read_only(self._engine)

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self._url.render_as_string(hide_password=True)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def is_postgresql(self) -> bool:
        return self._url.get_backend_name() == "postgresql"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, bot_name={self.bot_name!r})"

    async def initialize(self) -> None:
        """Create the database if needed and upgrade it to the newest schema."""
        await migrate.upgrade(self._engine)

    async def initialize_database(self) -> None:
        """Seed 002's name for :meth:`initialize`."""
        await self.initialize()

    async def close(self) -> None:
        """Close all pooled connections."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self._engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection (does not take SQLite's write lock)."""
        async with self._reader.connect() as conn:
            yield conn

    def _writer(self, bot_name: str | None) -> str:
        return self.bot_name if bot_name is None else bot_name

    @staticmethod
    def _bot_filter(table: Table, bot_name: str | None) -> ColumnElement[bool]:
        """``bot_name = …`` or, for None, every bot."""
        return true() if bot_name is None else table.c.bot_name == bot_name
