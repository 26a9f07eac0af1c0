"""Bots, grid levels, bot logs, events and equity points on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from btb.database.engine import resolve_url
from btb.database.manager import DatabaseManager
from btb.database.records import BotRecord, EquityPoint, GridLevel
from btb.errors import ConfigError

T0 = datetime(2024, 3, 1, tzinfo=UTC)
D = Decimal


async def test_bots_crud(db: DatabaseManager) -> None:
    bot = BotRecord("btc_grid", "grid", "bybit", "BTCUSDT", {"levels": 10, "step": "0.5"})
    await db.save_bot(bot)
    await db.save_bot(BotRecord("eth_smc", "smc", "binance", "ETHUSDT", credential_name="main"))
    stored = await db.get_bot("btc_grid")
    assert stored is not None
    assert (stored.strategy, stored.config, stored.status) == ("grid", bot.config, "stopped")
    created = stored.created_at

    await db.save_bot(BotRecord("btc_grid", "grid", "bybit", "BTCUSDT", {"levels": 12}))
    await db.set_bot_status("btc_grid", "running")
    updated = await db.get_bot("btc_grid")
    assert updated is not None
    assert (updated.config, updated.status, updated.created_at) == (
        {"levels": 12},
        "running",
        created,
    )
    assert [b.name for b in await db.list_bots()] == ["btc_grid", "eth_smc"]

    assert await db.delete_bot("eth_smc") is True
    assert await db.delete_bot("eth_smc") is False
    assert await db.get_bot("eth_smc") is None
    with pytest.raises(ConfigError, match="no bot named 'ghost'"):
        await db.set_bot_status("ghost", "running")


async def test_grid_levels_replace_update_and_cascade(db: DatabaseManager) -> None:
    await db.save_bot(BotRecord("grid1", "grid", "bybit", "BTCUSDT"))
    levels = [
        GridLevel(i, D(60000 + 500 * i), "buy" if i < 2 else "sell", D("0.001")) for i in range(4)
    ]
    await db.save_grid_levels("grid1", levels)
    await db.update_grid_level("grid1", 2, status="open", order_id="g-2")
    stored = await db.get_grid_levels("grid1")
    assert [(g.level_index, g.price, g.status, g.order_id) for g in stored] == [
        (0, D("60000"), "pending", None),
        (1, D("60500"), "pending", None),
        (2, D("61000"), "open", "g-2"),
        (3, D("61500"), "pending", None),
    ]
    await db.save_grid_levels("grid1", levels[:2])  # a new grid replaces the old one
    assert len(await db.get_grid_levels("grid1")) == 2
    with pytest.raises(ConfigError, match="no grid level 3"):
        await db.update_grid_level("grid1", 3, status="open")
    await db.delete_bot("grid1")  # its levels go with it (foreign key, on delete cascade)
    assert await db.get_grid_levels("grid1") == []


async def test_grid_levels_need_an_existing_bot(db: DatabaseManager) -> None:
    with pytest.raises(IntegrityError):
        await db.save_grid_levels("nobot", [GridLevel(0, D(1), "buy", D(1))])


async def test_logs_newest_first_with_context(db: DatabaseManager) -> None:
    await db.log("info", "started", context={"symbols": ["BTCUSDT"]}, ts=T0)
    await db.log("warning", "slow fill", bot_name="b2", ts=T0 + timedelta(seconds=1))
    await db.log("error", "rejected", context={"price": D("1.5")}, ts=T0 + timedelta(seconds=2))
    logs = await db.get_logs()
    assert [(r.level, r.message) for r in logs] == [
        ("ERROR", "rejected"),
        ("WARNING", "slow fill"),
        ("INFO", "started"),
    ]
    assert logs[0].context == {"price": "1.5"}
    assert [r.message for r in await db.get_logs(bot_name="b2")] == ["slow fill"]
    assert len(await db.get_logs(limit=2)) == 2


async def test_events_poll_by_id(db: DatabaseManager) -> None:
    first = await db.store_event("order_placed", {"symbol": "BTCUSDT", "amount": D("0.001")}, ts=T0)
    second = await db.store_event("order_filled", {"symbol": "BTCUSDT"}, bot_name="b2")
    assert second > first
    events = await db.get_events()
    assert [(e.event_type, e.bot_name) for e in events] == [
        ("order_placed", "default"),
        ("order_filled", "b2"),
    ]
    assert events[0].data == {"symbol": "BTCUSDT", "amount": "0.001"}
    assert events[0].ts == T0
    assert [e.id for e in await db.get_events(after_id=first)] == [second]
    assert await db.get_events(bot_name="nobody") == []


async def test_equity_curve_replaces_same_time(db: DatabaseManager) -> None:
    await db.store_equity_point(T0 + timedelta(minutes=1), D("1001"), balance=D("1000"))
    await db.store_equity_point(T0, D("1000"))
    await db.store_equity_point(T0 + timedelta(minutes=1), D("1002.5"), unrealized_pnl=D("2.5"))
    assert await db.get_equity_curve() == [
        EquityPoint(T0, D("1000")),
        EquityPoint(T0 + timedelta(minutes=1), D("1002.5"), None, D("2.5")),
    ]
    assert await db.get_equity_curve(since=T0 + timedelta(seconds=30)) == [
        EquityPoint(T0 + timedelta(minutes=1), D("1002.5"), None, D("2.5"))
    ]


def test_urls_get_async_drivers_and_bad_ones_are_config_errors() -> None:
    assert resolve_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert resolve_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    with pytest.raises(ConfigError, match="database_url: unsupported database 'mysql'"):
        resolve_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="database_url"):
        resolve_url("not a url")
    with pytest.raises(ConfigError, match="not both"):
        resolve_url("sqlite:///x.db", db_file="y.db")


async def test_repr_masks_the_database_password() -> None:
    db = DatabaseManager("postgresql://trader:hunter2@127.0.0.1:5432/btb")
    try:
        assert "hunter2" not in repr(db) and "hunter2" not in db.url
        assert "***" in db.url
    finally:
        await db.close()
