"""Seed 002's reporting queries (daily P&L, win rate, per-symbol performance) as methods.

The answers follow the seed's SQL exactly, NULL handling included: ``SUM`` and ``AVG`` skip
trades without a P&L, the win rate divides by all trades. PostgreSQL aggregates in SQL on
exact NUMERIC columns. SQLite stores money as text (see :mod:`btb.database.types`) and its
``SUM`` would go through floats, so there the rows are fetched and added up as Decimals.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Date, cast, func, select

from btb.database.base import DatabaseBase
from btb.database.records import DailyPnl, SymbolPerformance
from btb.database.tables import trades
from btb.database.types import MONEY_CONTEXT, canonical

ZERO = Decimal(0)


class ReportingMixin(DatabaseBase):
    """P&L queries over the ``trades`` table; ``bot_name`` None means every bot."""

    async def get_daily_pnl(
        self, day: date | None = None, *, bot_name: str | None = None
    ) -> Decimal:
        """Net P&L of the trades closed on UTC day ``day`` (default: today)."""
        start = datetime.combine(day or datetime.now(UTC).date(), time(), UTC)
        where = (
            (trades.c.timestamp >= start)
            & (trades.c.timestamp < start + timedelta(days=1))
            & self._bot_filter(trades, bot_name)
        )
        async with self.reading() as conn:
            if self.is_postgresql:
                total = (await conn.execute(select(func.sum(trades.c.pnl)).where(where))).scalar()
                return total if total is not None else ZERO
            pnls = (await conn.execute(select(trades.c.pnl).where(where))).scalars().all()
        return canonical(sum((p for p in pnls if p is not None), ZERO))

    async def daily_pnl_report(self, *, bot_name: str | None = None) -> list[DailyPnl]:
        """``(date, daily_pnl)`` for every UTC day with trades, newest first (seed 002 query).

        A day whose trades all lack a P&L reports None, as the seed's ``SUM`` does.
        """
        where = self._bot_filter(trades, bot_name)
        async with self.reading() as conn:
            if self.is_postgresql:
                day = cast(trades.c.timestamp, Date)  # sessions run in UTC
                stmt = select(day, func.sum(trades.c.pnl)).where(where).group_by(day)
                rows = (await conn.execute(stmt.order_by(day.desc()))).all()
                return [DailyPnl(d, p) for d, p in rows]
            stmt = select(trades.c.timestamp, trades.c.pnl).where(where)
            rows = (await conn.execute(stmt)).all()
        totals: dict[date, Decimal | None] = {}
        for ts, pnl in rows:
            before = totals.get(ts.date())
            totals[ts.date()] = before if pnl is None else (before or ZERO) + pnl
        ordered = sorted(totals.items(), reverse=True)
        return [DailyPnl(d, None if p is None else canonical(p)) for d, p in ordered]

    async def win_rate(self, *, bot_name: str | None = None) -> float:
        """Percentage of trades with a positive P&L (0.0 when there are no trades)."""
        where = self._bot_filter(trades, bot_name)
        async with self.reading() as conn:
            if self.is_postgresql:
                stmt = select(func.count().filter(trades.c.pnl > 0), func.count()).where(where)
                won, total = (await conn.execute(stmt)).one()
            else:
                pnls = (await conn.execute(select(trades.c.pnl).where(where))).scalars().all()
                won, total = sum(1 for p in pnls if p is not None and p > 0), len(pnls)
        return won * 100.0 / total if total else 0.0

    async def symbol_performance(self, *, bot_name: str | None = None) -> list[SymbolPerformance]:
        """Per symbol: number of trades, total and average P&L (seed 002), by symbol name."""
        where = self._bot_filter(trades, bot_name)
        rows: list[tuple[str, int, Decimal | None, int]]
        async with self.reading() as conn:
            if self.is_postgresql:
                pnl = trades.c.pnl
                stmt = select(trades.c.symbol, func.count(), func.sum(pnl), func.count(pnl))
                result = await conn.execute(stmt.where(where).group_by(trades.c.symbol))
                rows = [(s, n, total, valued) for s, n, total, valued in result]
            else:
                result = await conn.execute(select(trades.c.symbol, trades.c.pnl).where(where))
                rows = _group_symbols([(s, p) for s, p in result])
        return [_performance(*row) for row in sorted(rows)]


def _group_symbols(
    rows: list[tuple[str, Decimal | None]],
) -> list[tuple[str, int, Decimal | None, int]]:
    """(symbol, trades, sum of pnl or None, trades with a pnl) like SQL COUNT/SUM/COUNT(pnl)."""
    count: dict[str, int] = defaultdict(int)
    total: dict[str, Decimal | None] = defaultdict(lambda: None)
    valued: dict[str, int] = defaultdict(int)
    for symbol, pnl in rows:
        count[symbol] += 1
        if pnl is not None:
            total[symbol] = (total[symbol] or ZERO) + pnl
            valued[symbol] += 1
    return [(s, count[s], total[s], valued[s]) for s in count]


def _performance(symbol: str, count: int, total: Decimal | None, valued: int) -> SymbolPerformance:
    # AVG is computed here for both engines so that both round it the same way (18 places).
    avg = canonical(MONEY_CONTEXT.divide(total, valued)) if total is not None and valued else None
    return SymbolPerformance(symbol, count, canonical(total) if total is not None else None, avg)
