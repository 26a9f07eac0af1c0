"""Migrations: a database made by the first migration, with seed-002 data, upgrades to head
without loss; the head schema equals btb.database.tables; upgrades are reversible."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from btb.core import OrderStatus, PositionSide, Side
from btb.database import migrate
from btb.database.manager import DatabaseManager
from btb.database.tables import metadata

D = Decimal

# Rows as seed 002's bot wrote them: upper-case exchange spellings, unsigned quantities,
# bot_state values that are plain text. The second order relies on the column default time.
SEED_002_ROWS = [
    "INSERT INTO orders (order_id, symbol, side, order_type, quantity, price, status, timestamp)"
    " VALUES ('o1', 'BTCUSDT', 'BUY', 'LIMIT', '0.005', '61000.5', 'NEW', '2024-03-01 10:00:00')",
    "INSERT INTO orders (order_id, symbol, side, order_type, quantity, price, status)"
    " VALUES ('o2', 'ETHUSDT', 'SELL', 'MARKET', '1.25', NULL, 'FILLED')",
    "INSERT INTO trades (trade_id, order_id, symbol, side, quantity, price, commission, pnl,"
    " timestamp) VALUES ('t1', 'o2', 'ETHUSDT', 'SELL', '1.25', '3400.1', '0.85', '12.34',"
    " '2024-03-01 11:00:00')",
    "INSERT INTO trades (trade_id, order_id, symbol, side, quantity, price, commission, pnl,"
    " timestamp) VALUES ('t2', 'o3', 'BTCUSDT', 'BUY', '0.01', '61500', '0.31', '-2.5',"
    " '2024-03-01 12:00:00')",
    "INSERT INTO account_snapshot (total_balance, available_balance, total_pnl, total_margin,"
    " timestamp) VALUES ('1000.5', '900.25', '9.84', '100.25', '2024-03-01 12:30:00')",
    "INSERT INTO positions (symbol, side, quantity, entry_price, current_price, unrealized_pnl,"
    " margin, timestamp) VALUES ('BTCUSDT', 'SHORT', '0.02', '61200', '61100', '2', '244.8',"
    " '2024-03-01 12:45:00')",
    "INSERT INTO bot_state (key, value) VALUES ('last_signal', '\"buy\"')",
    "INSERT INTO bot_state (key, value) VALUES ('note', 'plain text, not JSON')",
]
COUNTS = {"orders": 2, "trades": 2, "account_snapshot": 1, "positions": 1, "bot_state": 2}


async def _at_first_revision_with_seed_data(url: str) -> None:
    db = DatabaseManager(url)
    await migrate.upgrade(db.engine, "0001")
    async with db.transaction() as conn:
        for statement in SEED_002_ROWS:
            await conn.execute(text(statement))
    await db.close()


async def test_upgrade_from_first_migration_keeps_seed_002_data(database_url: str) -> None:
    await _at_first_revision_with_seed_data(database_url)
    db = DatabaseManager(database_url)
    try:
        assert await migrate.current_revision(db.engine) == "0001"
        await db.initialize()  # what a bot does on start
        assert await migrate.current_revision(db.engine) == migrate.head_revision()
        async with db.reading() as conn:
            for table, count in COUNTS.items():
                assert (await conn.scalar(text(f"SELECT COUNT(*) FROM {table}"))) == count, table

        (o1,) = await db.get_open_orders()
        assert (o1.client_order_id, o1.side, o1.status) == ("o1", Side.BUY, OrderStatus.ACCEPTED)
        assert (o1.quantity, o1.price, o1.filled_qty) == (D("0.005"), D("61000.5"), D(0))
        assert o1.created_at == datetime(2024, 3, 1, 10, tzinfo=UTC)
        o2 = await db.get_order("o2")
        assert o2 is not None and o2.status is OrderStatus.FILLED and o2.created_at is not None

        assert await db.daily_pnl_report() == [(date(2024, 3, 1), D("9.84"))]  # 12.34 - 2.5
        assert await db.win_rate() == 50.0
        snapshot = await db.get_latest_snapshot()
        assert snapshot is not None
        assert (snapshot.total_balance, snapshot.total_margin) == (D("1000.5"), D("100.25"))
        (position,) = await db.get_positions()
        assert (position.quantity, position.side) == (D("-0.02"), PositionSide.SHORT)
        assert await db.get_bot_state() == {"last_signal": "buy", "note": "plain text, not JSON"}

        # What 0002 added works on the upgraded database: per-bot state keys, new tables.
        await db.update_bot_state({"last_signal": "sell"}, bot_name="second_bot")
        assert (await db.get_bot_state())["last_signal"] == "buy"
        await db.store_event("status_change", {"state": "running"})
        assert len(await db.get_events()) == 1
    finally:
        await db.close()


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_equals_the_table_definitions(database_url: str) -> None:
    db = DatabaseManager(database_url)
    try:
        await db.initialize()
        async with db.reading() as conn:
            assert await conn.run_sync(_schema_differences) == []
    finally:
        await db.close()


async def test_downgrade_to_first_and_upgrade_again(database_url: str) -> None:
    await _at_first_revision_with_seed_data(database_url)
    db = DatabaseManager(database_url)
    try:
        await db.initialize()
        await migrate.downgrade(db.engine, "0001")
        assert await migrate.current_revision(db.engine) == "0001"
        async with db.reading() as conn:
            assert (await conn.scalar(text("SELECT COUNT(*) FROM orders"))) == 2
        await db.initialize()
        assert len(await db.get_trades()) == 2
    finally:
        await db.close()


async def test_initialize_twice_is_a_no_op(database_url: str) -> None:
    db = DatabaseManager(database_url)
    try:
        await db.initialize()
        await db.update_bot_state({"k": 1})
        await db.initialize()
        assert await db.get_bot_state() == {"k": 1}
    finally:
        await db.close()
