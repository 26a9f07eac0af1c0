"""Seed 003's bots, grid levels and bot logs, and the dashboard's events and equity curve."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from btb.database.base import DatabaseBase
from btb.database.engine import upsert
from btb.database.mappers import loads_json
from btb.database.records import BotRecord, EquityPoint, GridLevel, LogRecord, StoredEvent
from btb.database.tables import bot_logs, bots, equity, events, grid_levels
from btb.database.types import dumps_json
from btb.errors import ConfigError

_BOT_FIELDS = ("name", "strategy", "exchange", "symbol", "credential_name", "status")
_GRID_FIELDS = ("level_index", "price", "side", "quantity", "status", "order_id", "updated_at")


class RegistryMixin(DatabaseBase):
    """Bots (seed 003 ``BotModel``), grid levels, logs, events and equity points."""

    # --- bots -----------------------------------------------------------------------------

    async def save_bot(self, bot: BotRecord) -> None:
        """Insert or update a bot by name (its created_at is kept on update)."""
        values = {field: getattr(bot, field) for field in _BOT_FIELDS}
        now = datetime.now(UTC)
        values |= {"config": dumps_json(bot.config), "created_at": now, "updated_at": now}
        update = [key for key in values if key not in ("name", "created_at")]
        async with self.transaction() as conn:
            await conn.execute(upsert(conn.dialect.name, bots, ["name"], update), values)

    async def get_bot(self, name: str) -> BotRecord | None:
        """The bot called ``name``, or None."""
        found = await self.list_bots(name=name)
        return found[0] if found else None

    async def list_bots(self, *, name: str | None = None) -> list[BotRecord]:
        """All bots by name (or the one called ``name``)."""
        stmt = select(bots).order_by(bots.c.name)
        if name is not None:
            stmt = stmt.where(bots.c.name == name)
        async with self.reading() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            BotRecord(
                **{field: row[field] for field in _BOT_FIELDS},
                config=loads_json(row["config"]),
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
            for row in rows
        ]

    async def set_bot_status(self, name: str, status: str) -> None:
        """Record a bot's run status (e.g. running, paused, stopped, error)."""
        stmt = (
            bots.update()
            .where(bots.c.name == name)
            .values(status=status, updated_at=datetime.now(UTC))
        )
        async with self.transaction() as conn:
            if not (await conn.execute(stmt)).rowcount:
                raise ConfigError(f"no bot named {name!r} in the database", key_path="bots")

    async def delete_bot(self, name: str) -> bool:
        """Delete a bot and its grid levels; False if there was no such bot."""
        async with self.transaction() as conn:
            result = await conn.execute(bots.delete().where(bots.c.name == name))
            return bool(result.rowcount)

    # --- grid levels ----------------------------------------------------------------------

    async def save_grid_levels(self, bot_name: str, levels: Iterable[GridLevel]) -> None:
        """Replace the bot's grid with ``levels`` in one transaction (the bot must exist)."""
        now = datetime.now(UTC)
        rows = [
            {field: getattr(level, field) for field in _GRID_FIELDS}
            | {"bot_name": bot_name, "updated_at": level.updated_at or now}
            for level in levels
        ]
        async with self.transaction() as conn:
            await conn.execute(grid_levels.delete().where(grid_levels.c.bot_name == bot_name))
            if rows:
                await conn.execute(grid_levels.insert(), rows)

    async def update_grid_level(
        self, bot_name: str, level_index: int, *, status: str, order_id: str | None = None
    ) -> None:
        """Set one level's status and working order id."""
        where = (grid_levels.c.bot_name == bot_name) & (grid_levels.c.level_index == level_index)
        values = {"status": status, "order_id": order_id, "updated_at": datetime.now(UTC)}
        async with self.transaction() as conn:
            if not (await conn.execute(grid_levels.update().where(where).values(values))).rowcount:
                raise ConfigError(
                    f"bot {bot_name!r} has no grid level {level_index}", key_path="grid_levels"
                )

    async def get_grid_levels(self, bot_name: str) -> list[GridLevel]:
        """The bot's grid levels by index."""
        stmt = (
            select(*(grid_levels.c[field] for field in _GRID_FIELDS))
            .where(grid_levels.c.bot_name == bot_name)
            .order_by(grid_levels.c.level_index)
        )
        async with self.reading() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [GridLevel(**row) for row in rows]

    # --- logs, events, equity -------------------------------------------------------------

    async def log(
        self,
        level: str,
        message: str,
        *,
        context: Mapping[str, Any] | None = None,
        bot_name: str | None = None,
        ts: datetime | None = None,
    ) -> None:
        """Keep a structured log line (callers redact secrets before logging anything)."""
        values = {
            "bot_name": self._writer(bot_name),
            "timestamp": ts or datetime.now(UTC),
            "level": level.upper(),
            "message": message,
            "context": dumps_json(context) if context is not None else None,
        }
        async with self.transaction() as conn:
            await conn.execute(bot_logs.insert(), values)

    async def get_logs(self, *, bot_name: str | None = None, limit: int = 100) -> list[LogRecord]:
        """The newest ``limit`` log lines, newest first."""
        stmt = (
            select(bot_logs)
            .where(self._bot_filter(bot_logs, bot_name))
            .order_by(bot_logs.c.timestamp.desc(), bot_logs.c.id.desc())
            .limit(limit)
        )
        async with self.reading() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            LogRecord(
                r["timestamp"], r["bot_name"], r["level"], r["message"], loads_json(r["context"])
            )
            for r in rows
        ]

    async def store_event(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        *,
        bot_name: str | None = None,
        ts: datetime | None = None,
    ) -> int:
        """Append a trading event; returns its id (ids grow, so pollers ask for newer ids)."""
        values = {
            "bot_name": self._writer(bot_name),
            "event_type": event_type,
            "timestamp": ts or datetime.now(UTC),
            "data": dumps_json(dict(data or {})),
        }
        async with self.transaction() as conn:
            result = await conn.execute(events.insert().returning(events.c.id), values)
            return int(result.scalar_one())

    async def get_events(
        self, *, bot_name: str | None = None, after_id: int = 0, limit: int = 500
    ) -> list[StoredEvent]:
        """Events with an id above ``after_id``, oldest first.

        With several writers on PostgreSQL an id can become visible a moment after a higher
        one (ids are drawn before commit), so a poller should re-read a few ids back.
        """
        stmt = (
            select(events)
            .where(self._bot_filter(events, bot_name) & (events.c.id > after_id))
            .order_by(events.c.id)
            .limit(limit)
        )
        async with self.reading() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            StoredEvent(
                r["id"], r["timestamp"], r["bot_name"], r["event_type"], loads_json(r["data"])
            )
            for r in rows
        ]

    async def store_equity_point(
        self,
        ts: datetime,
        equity_value: Decimal,
        *,
        balance: Decimal | None = None,
        unrealized_pnl: Decimal | None = None,
        bot_name: str | None = None,
    ) -> None:
        """Record the bot's equity at ``ts`` (storing the same time again replaces it)."""
        values = {
            "bot_name": self._writer(bot_name),
            "timestamp": ts,
            "equity": equity_value,
            "balance": balance,
            "unrealized_pnl": unrealized_pnl,
        }
        async with self.transaction() as conn:
            await conn.execute(upsert(conn.dialect.name, equity, ["bot_name", "timestamp"]), values)

    async def get_equity_curve(
        self, *, bot_name: str | None = None, since: datetime | None = None
    ) -> list[EquityPoint]:
        """The bot's equity points (default: this manager's bot), oldest first."""
        where = equity.c.bot_name == self._writer(bot_name)
        if since is not None:
            where &= equity.c.timestamp >= since
        stmt = select(equity).where(where).order_by(equity.c.timestamp)
        async with self.reading() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            EquityPoint(r["timestamp"], r["equity"], r["balance"], r["unrealized_pnl"])
            for r in rows
        ]
