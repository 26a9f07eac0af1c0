"""Benchmark: DatabaseManager on SQLite (file, WAL, synchronous=FULL) and PostgreSQL.

Figures per engine, each with the size it ran at (``sizes``):

* ``order_inserts_per_s`` / ``trade_inserts_per_s``: ``store_order`` / ``store_trade`` calls,
  one transaction (one durable commit) each, as a running bot makes them;
* ``record_fill_per_s``: the all-or-nothing fill write (order + fill + position + state);
* ``bulk_trade_rows_per_s``: ``store_trades`` in batches of 10,000 (executemany), the load of
  the large table;
* ``daily_pnl_query_ms_*``: ``get_daily_pnl(day)`` on a table of 1,000,000 trades spread over a
  year (about 2,700 trades a day), over random days;
* ``daily_pnl_report_s``: seed 002's whole daily P&L report over the same table.

PostgreSQL runs in a throwaway database on 127.0.0.1:5432 (created and dropped here).

    .venv/bin/python bench/bench_database.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from btb.core import Fill, Order, OrderType, Position, Side
from btb.core.order import OrderAccepted, OrderFilled, OrderSubmitted
from btb.database.engine import create_database, drop_database
from btb.database.manager import DatabaseManager

PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 365
BATCH = 10_000
QUERIES = 50


def run(quick: bool = False) -> dict[str, Any]:
    """Run the database benchmark on both engines; ``quick`` uses 10x smaller sizes."""
    sizes = {
        "single_inserts": 300 if quick else 2_000,
        "record_fills": 300 if quick else 1_000,
        "stored_trades": 100_000 if quick else 1_000_000,
        "days": DAYS,
        "daily_pnl_queries": QUERIES,
        "bulk_batch": BATCH,
    }
    results: dict[str, Any] = {"name": "database.DatabaseManager", "sizes": sizes}
    for engine in ("sqlite", "postgresql"):
        results[engine] = asyncio.run(_bench_engine(engine, sizes))
    return results


async def _bench_engine(engine: str, sizes: dict[str, int]) -> dict[str, float]:
    async with _throwaway(engine) as url:
        db = DatabaseManager(url)
        await db.initialize()
        try:
            figures = {
                "order_inserts_per_s": await _single_orders(db, sizes["single_inserts"]),
                "trade_inserts_per_s": await _single_trades(db, sizes["single_inserts"]),
                "record_fill_per_s": await _record_fills(db, sizes["record_fills"]),
            }
            figures["bulk_trade_rows_per_s"] = await _bulk_trades(db, sizes["stored_trades"])
            figures |= await _daily_pnl_queries(db)
        finally:
            await db.close()
    return {key: round(value, 3) for key, value in figures.items()}


@asynccontextmanager
async def _throwaway(engine: str) -> AsyncIterator[str]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="btb_bench_") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"btb_bench_{uuid.uuid4().hex[:12]}"
    url = await create_database(PG_ADMIN_URL, name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        await drop_database(PG_ADMIN_URL, name)


async def _single_orders(db: DatabaseManager, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        order = Order(
            f"bench-{i}",
            "BTCUSDT",
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.001"),
            price=Decimal("60000.5") + i,
            created_at=T0,
        )
        order.apply(OrderSubmitted(T0))
        await db.store_order(order)
    return n / (time.perf_counter() - start)


async def _single_trades(db: DatabaseManager, n: int) -> float:
    start = time.perf_counter()
    for row in _trade_rows(n, prefix="single"):
        await db.store_trade(row)
    return n / (time.perf_counter() - start)


async def _record_fills(db: DatabaseManager, n: int) -> float:
    position = Position("ETHUSDT")
    start = time.perf_counter()
    for i in range(n):
        ts = T0 + timedelta(seconds=i)
        order = Order(f"fill-{i}", "ETHUSDT", Side.BUY, OrderType.MARKET, Decimal("0.01"))
        order.apply(OrderSubmitted(ts))
        order.apply(OrderAccepted(ts, f"x{i}"))
        fill = Fill(
            order.client_order_id,
            "ETHUSDT",
            Side.BUY,
            Decimal("0.01"),
            Decimal("3000") + i,
            Decimal("0.003"),
            ts,
            trade_id=f"fx{i}",
        )
        order.apply(OrderFilled(fill))
        position.apply(fill)
        await db.record_fill(order, fill, position, state={"fills": i + 1})
    return n / (time.perf_counter() - start)


def _trade_rows(n: int, prefix: str) -> Iterator[dict[str, Any]]:
    """``n`` closed trades spread evenly over DAYS days, P&L between -1 and +0.99."""
    step = timedelta(days=DAYS) / n
    for i in range(n):
        yield {
            "trade_id": f"{prefix}-{i}",
            "order_id": f"o-{i}",
            "symbol": ("BTCUSDT", "ETHUSDT", "SOLUSDT")[i % 3],
            "side": "sell",
            "quantity": Decimal("0.001"),
            "price": Decimal("60000.5"),
            "commission": Decimal("0.024"),
            "pnl": Decimal(i % 200 - 100) / 100,
            "timestamp": T0 + step * i,
        }


async def _bulk_trades(db: DatabaseManager, n: int) -> float:
    """Load ``n`` more trades (the table then holds ``n`` + the single inserts)."""
    rows = _trade_rows(n, prefix="bulk")
    start = time.perf_counter()
    while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
        await db.store_trades(batch)
    return n / (time.perf_counter() - start)


async def _daily_pnl_queries(db: DatabaseManager) -> dict[str, float]:
    rng = random.Random(7)
    await db.get_daily_pnl(T0.date())  # warm the connection and the statement cache
    times = []
    for _ in range(QUERIES):
        day = (T0 + timedelta(days=rng.randrange(DAYS))).date()
        start = time.perf_counter()
        await db.get_daily_pnl(day)
        times.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    await db.daily_pnl_report()
    report_s = time.perf_counter() - start
    return {
        "daily_pnl_query_ms_median": statistics.median(times),
        "daily_pnl_query_ms_p95": statistics.quantiles(times, n=20)[-1],
        "daily_pnl_report_s": report_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10x smaller sizes")
    print(json.dumps(run(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
