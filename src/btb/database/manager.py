"""DatabaseManager: the one persistence layer for both seeds (seed 002 and seed 003).

Async SQLAlchemy 2.0 on an embedded SQLite file by default, or PostgreSQL when several bots
share an account. Each method that changes state runs in exactly one transaction, so a bot
killed at any moment leaves either the whole change or none of it. Storing is idempotent:
orders are upserted by client order id, trades by their ids and fills by order and venue
trade id (:func:`btb.database.mappers.fill_id`), so replaying events after a restart does not
duplicate anything. A trade id stored for a *different* trade is a StateError, never a
silent skip (the second trade's P&L would vanish).

Reads that aggregate (daily P&L, reports, trades, open orders) cover every bot when
``bot_name`` is None; writes and bot state default to the manager's own ``bot_name``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, overload

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from btb.core.account import AccountSnapshot
from btb.core.enums import OrderStatus
from btb.core.fill import Fill
from btb.core.order import Order
from btb.core.position import Position
from btb.core.trade import Trade
from btb.database import mappers
from btb.database.engine import upsert
from btb.database.registry import RegistryMixin
from btb.database.reporting import ReportingMixin
from btb.database.tables import account_snapshot, bot_state, fills, orders, positions, trades
from btb.database.types import canonical, dumps_json, to_decimal
from btb.errors import StateError

OPEN_STATUSES = tuple(s.value for s in OrderStatus if s.is_open)
#: columns that tell two trades apart when they arrive under one trade id.
_TRADE_IDENTITY = ("bot_name", "symbol", "side", "quantity", "price", "pnl", "entry_time")
#: trade ids looked up per query (asyncpg and SQLite cap the parameters of one statement).
_IDS_PER_QUERY = 5_000


def _same(stored: Any, new: Any) -> bool:
    """Whether a stored value is what storing ``new`` would have written (money is stored
    rounded to 18 places)."""
    if isinstance(stored, Decimal) and new is not None:
        return stored == canonical(to_decimal(new))
    return bool(stored == new)


class _AlreadyStored(Exception):
    """Raised inside a transaction to roll it back when a fill is a duplicate."""


class DatabaseManager(ReportingMixin, RegistryMixin):
    """Orders, trades, fills, positions, account snapshots, bot state, bots, logs, events."""

    # --- orders ---------------------------------------------------------------------------

    async def store_order(
        self, order: Order | Mapping[str, Any], *, bot_name: str | None = None
    ) -> None:
        """Insert or update the order (keyed by client order id) with its whole state."""
        async with self.transaction() as conn:
            await self._put_order(conn, mappers.order_values(order, self._writer(bot_name)))

    async def store_orders(
        self, items: Iterable[Order | Mapping[str, Any]], *, bot_name: str | None = None
    ) -> None:
        """Upsert many orders in one transaction (bulk load, reconciliation)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in items:  # Orders and seed dicts fill different columns: one batch each
            row = mappers.order_values(item, self._writer(bot_name))
            groups.setdefault(tuple(row), []).append(row)
        if groups:
            async with self.transaction() as conn:
                for rows in groups.values():
                    await self._put_order(conn, rows)

    async def _put_order(
        self, conn: AsyncConnection, values: dict[str, Any] | list[dict[str, Any]]
    ) -> None:
        first = values[0] if isinstance(values, list) else values
        update = [key for key in first if key not in ("order_id", "timestamp")]
        await conn.execute(upsert(conn.dialect.name, orders, ["order_id"], update), values)

    async def get_order(self, client_order_id: str) -> Order | None:
        """The stored order with this client order id (fills included), or None."""
        found = await self._orders(orders.c.order_id == client_order_id)
        return found[0] if found else None

    @overload
    async def get_open_orders(
        self,
        *,
        bot_name: str | None = ...,
        symbol: str | None = ...,
        as_dicts: Literal[False] = ...,
    ) -> list[Order]: ...

    @overload
    async def get_open_orders(
        self, *, bot_name: str | None = ..., symbol: str | None = ..., as_dicts: Literal[True]
    ) -> list[dict[str, Any]]: ...

    async def get_open_orders(
        self, *, bot_name: str | None = None, symbol: str | None = None, as_dicts: bool = False
    ) -> list[Order] | list[dict[str, Any]]:
        """Orders that may still fill (submitted, accepted, partially filled, pending cancel).

        ``as_dicts`` returns seed 002's dicts instead of Order objects.
        """
        where = orders.c.status.in_(OPEN_STATUSES) & self._bot_filter(orders, bot_name)
        if symbol is not None:
            where &= orders.c.symbol == symbol
        if as_dicts:
            async with self.reading() as conn:
                result = await conn.execute(select(orders).where(where).order_by(orders.c.id))
                return [mappers.order_dict(row) for row in result.mappings()]
        return await self._orders(where)

    async def _orders(self, where: Any) -> list[Order]:
        async with self.reading() as conn:
            rows = (await conn.execute(select(orders).where(where).order_by(orders.c.id))).all()
            ids = [row.order_id for row in rows]
            stmt = select(fills).where(fills.c.order_id.in_(ids)).order_by(fills.c.id)
            fill_rows = (await conn.execute(stmt)).mappings().all() if ids else []
        by_order: dict[str, list[Fill]] = {}
        for fill_row in fill_rows:
            by_order.setdefault(fill_row["order_id"], []).append(mappers.fill_from_row(fill_row))
        return [mappers.order_from_row(r._mapping, by_order.get(r.order_id)) for r in rows]

    # --- trades ---------------------------------------------------------------------------

    async def store_trade(
        self,
        trade: Trade | Mapping[str, Any],
        *,
        bot_name: str | None = None,
        order_id: str = "",
    ) -> bool:
        """Store a round trip (or seed 002 trade dict); False if it is already stored (a
        replay), StateError if its trade_id is stored for a different trade."""
        values = mappers.trade_values(trade, self._writer(bot_name), order_id)
        async with self.transaction() as conn:
            return await self._put_trade(conn, values)

    async def store_trades(
        self, items: Iterable[Trade | Mapping[str, Any]], *, bot_name: str | None = None
    ) -> None:
        """Store many trades in one transaction; trade ids already stored are skipped (see
        :meth:`store_trade` for an id stored for a different trade)."""
        rows = [mappers.trade_values(t, self._writer(bot_name)) for t in items]
        if rows:
            async with self.transaction() as conn:
                await self._check_trade_ids(conn, rows)
                await conn.execute(upsert(conn.dialect.name, trades, ["trade_id"], []), rows)

    async def _put_trade(self, conn: AsyncConnection, values: dict[str, Any]) -> bool:
        await self._check_trade_ids(conn, [values])
        result = await conn.execute(upsert(conn.dialect.name, trades, ["trade_id"], []), values)
        return bool(result.rowcount)

    @staticmethod
    async def _check_trade_ids(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """StateError when a trade id is already stored for a different trade.

        Storing the same trade again (a replay after a restart) is a no-op; but a second,
        different trade under a stored id would otherwise be skipped silently and its P&L
        would vanish from every report.
        """
        columns = [trades.c[name] for name in _TRADE_IDENTITY]
        ids = sorted({row["trade_id"] for row in rows})
        stored: dict[str, Any] = {}
        for start in range(0, len(ids), _IDS_PER_QUERY):  # drivers cap bound parameters
            chunk = trades.c.trade_id.in_(ids[start : start + _IDS_PER_QUERY])
            result = await conn.execute(select(trades.c.trade_id, *columns).where(chunk))
            stored.update((found["trade_id"], found) for found in result.mappings())
        for row in rows:
            old = stored.get(row["trade_id"])
            differs = [
                k for k in _TRADE_IDENTITY if old is not None and not _same(old[k], row.get(k))
            ]
            if differs:
                raise StateError(
                    f"trade id {row['trade_id']!r} is already stored for a different trade "
                    f"(its {', '.join(differs)} differ); not storing this one: trade ids must "
                    "be unique in the database"
                )

    async def get_trades(
        self,
        *,
        bot_name: str | None = None,
        symbol: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Trades as seed 002 dicts, newest first."""
        where = self._bot_filter(trades, bot_name)
        if symbol is not None:
            where &= trades.c.symbol == symbol
        if since is not None:
            where &= trades.c.timestamp >= since
        stmt = select(trades).where(where).order_by(trades.c.timestamp.desc(), trades.c.id.desc())
        async with self.reading() as conn:
            result = await conn.execute(stmt.limit(limit))
            return [mappers.trade_dict(row) for row in result.mappings()]

    async def get_round_trips(self, *, bot_name: str | None = None) -> list[Trade]:
        """Stored round trips as core Trades, oldest first (seed-style rows are left out)."""
        stmt = select(trades).where(self._bot_filter(trades, bot_name))
        async with self.reading() as conn:
            result = await conn.execute(stmt.order_by(trades.c.timestamp, trades.c.id))
            found = [mappers.trade_from_row(row) for row in result.mappings()]
        return [trade for trade in found if trade is not None]

    # --- fills: one transaction for everything a fill changes ------------------------------

    async def record_fill(
        self,
        order: Order,
        fill: Fill,
        position: Position,
        *,
        trade: Trade | None = None,
        mark: Decimal | None = None,
        state: Mapping[str, Any] | None = None,
        bot_name: str | None = None,
    ) -> bool:
        """Persist a fill and every change it caused, all or nothing.

        ``order`` and ``position`` are the objects after the fill was applied; ``trade`` is
        the round trip the fill closed, if any; ``state`` is merged into the bot state. A
        fill already stored (same execution id) changes nothing and returns False.
        """
        bot = self._writer(bot_name)
        try:
            async with self.transaction() as conn:
                await self._put_order(conn, mappers.order_values(order, bot))
                fill_row = mappers.fill_values(order, fill, bot)
                stmt = upsert(conn.dialect.name, fills, ["fill_id"], [])
                if not (await conn.execute(stmt, fill_row)).rowcount:
                    raise _AlreadyStored  # undo the order upsert too
                position_row = mappers.position_values(position, bot, fill.ts, mark)
                await conn.execute(positions.insert(), position_row)
                if trade is not None:
                    trade_row = mappers.trade_values(trade, bot, order.client_order_id)
                    await self._put_trade(conn, trade_row)
                if state:
                    await self._put_state(conn, state, bot)
        except _AlreadyStored:
            return False
        return True

    async def has_fill(self, fill_key: str) -> bool:
        """Whether an execution id (see :func:`btb.database.mappers.fill_id`) is stored."""
        async with self.reading() as conn:
            stmt = select(func.count()).select_from(fills).where(fills.c.fill_id == fill_key)
            return bool((await conn.execute(stmt)).scalar_one())

    # --- positions ------------------------------------------------------------------------

    async def store_position(
        self,
        position: Position,
        *,
        mark: Decimal | None = None,
        ts: datetime | None = None,
        bot_name: str | None = None,
    ) -> None:
        """Record the position as it is now (a new row; the newest row per symbol is current)."""
        values = mappers.position_values(
            position, self._writer(bot_name), ts or datetime.now(UTC), mark
        )
        async with self.transaction() as conn:
            await conn.execute(positions.insert(), values)

    async def get_positions(
        self, *, bot_name: str | None = None, include_flat: bool = False
    ) -> list[Position]:
        """The current position of each symbol of ``bot_name`` (default: this manager's bot)."""
        bot = self._writer(bot_name)
        latest = (
            select(func.max(positions.c.id))
            .where(positions.c.bot_name == bot)
            .group_by(positions.c.symbol)
        )
        stmt = select(positions).where(positions.c.id.in_(latest)).order_by(positions.c.symbol)
        async with self.reading() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        found = [mappers.position_from_row(row) for row in rows]
        return [p for p in found if include_flat or not p.is_flat]

    # --- account snapshots ----------------------------------------------------------------

    async def snapshot_account(
        self, snapshot: AccountSnapshot | Mapping[str, Any], *, bot_name: str | None = None
    ) -> None:
        """Append an account snapshot (an AccountSnapshot or seed 002's dict)."""
        values = mappers.snapshot_values(snapshot, self._writer(bot_name))
        async with self.transaction() as conn:
            await conn.execute(account_snapshot.insert(), values)

    async def get_latest_snapshot(self, *, bot_name: str | None = None) -> AccountSnapshot | None:
        """The newest account snapshot of ``bot_name`` (default: this manager's bot)."""
        stmt = (
            select(account_snapshot)
            .where(account_snapshot.c.bot_name == self._writer(bot_name))
            .order_by(account_snapshot.c.timestamp.desc(), account_snapshot.c.id.desc())
            .limit(1)
        )
        async with self.reading() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return mappers.snapshot_from_row(row) if row is not None else None

    # --- bot state ------------------------------------------------------------------------

    async def update_bot_state(
        self, state_data: Mapping[str, Any], *, bot_name: str | None = None
    ) -> None:
        """Merge ``state_data`` (JSON-able values) into the bot's key/value state atomically."""
        async with self.transaction() as conn:
            await self._put_state(conn, state_data, self._writer(bot_name))

    async def _put_state(
        self, conn: AsyncConnection, state_data: Mapping[str, Any], bot: str
    ) -> None:
        now = datetime.now(UTC)
        rows = [
            {"bot_name": bot, "key": str(key), "value": dumps_json(value), "timestamp": now}
            for key, value in state_data.items()
        ]
        if rows:
            stmt = upsert(conn.dialect.name, bot_state, ["bot_name", "key"], ["value", "timestamp"])
            await conn.execute(stmt, rows)

    async def get_bot_state(self, *, bot_name: str | None = None) -> dict[str, Any]:
        """The bot's state as a dict (values decoded from JSON)."""
        stmt = select(bot_state.c.key, bot_state.c.value).where(
            bot_state.c.bot_name == self._writer(bot_name)
        )
        async with self.reading() as conn:
            rows = (await conn.execute(stmt.order_by(bot_state.c.key))).all()
        return {key: mappers.loads_json(value) for key, value in rows}

    async def delete_bot_state(self, keys: Iterable[str], *, bot_name: str | None = None) -> None:
        """Remove ``keys`` from the bot's state in one transaction."""
        where = (bot_state.c.bot_name == self._writer(bot_name)) & bot_state.c.key.in_(list(keys))
        async with self.transaction() as conn:
            await conn.execute(bot_state.delete().where(where))
