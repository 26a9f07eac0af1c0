"""DatabaseManager: orders, trades, fills, positions, snapshots and bot state on both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from btb.core import (
    AccountSnapshot,
    ExitReason,
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    Trade,
)
from btb.core.order import OrderAccepted, OrderCanceled, OrderFilled, OrderSubmitted
from btb.database.manager import DatabaseManager
from btb.errors import DataError, StateError

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
D = Decimal


def _order(coid: str, side: Side = Side.BUY, qty: str = "0.5", price: str = "100") -> Order:
    order = Order(coid, "BTCUSDT", side, OrderType.LIMIT, D(qty), price=D(price), created_at=T0)
    order.apply(OrderSubmitted(T0))
    order.apply(OrderAccepted(T0 + timedelta(seconds=1), f"ex-{coid}"))
    return order


def _fill(order: Order, qty: str, price: str, seconds: int, trade_id: str = "") -> Fill:
    ts = T0 + timedelta(seconds=seconds)
    return Fill(
        order.client_order_id,
        order.symbol,
        order.side,
        D(qty),
        D(price),
        D("0.01"),
        ts,
        trade_id=trade_id,
    )


async def test_order_round_trip_keeps_the_whole_state(db: DatabaseManager) -> None:
    order = _order("c1")
    order.stop_loss, order.take_profit, order.tag = D("95.5"), D("110.25"), "entry"
    first = _fill(order, "0.2", "99.9", 5, trade_id="x1")
    order.apply(OrderFilled(first))
    await db.record_fill(order, first, Position("BTCUSDT"))

    loaded = await db.get_order("c1")
    assert loaded == order  # dataclass equality: every field, fills included


async def test_store_order_upserts_by_client_order_id(db: DatabaseManager) -> None:
    order = _order("c2")
    await db.store_order(order)
    order.apply(OrderCanceled(T0 + timedelta(minutes=1)))
    await db.store_order(order)
    loaded = await db.get_order("c2")
    assert loaded is not None
    assert loaded.status is OrderStatus.CANCELED
    assert loaded.created_at == T0  # the first store's creation time is kept
    assert await db.get_open_orders() == []


async def test_get_open_orders_filters_status_bot_and_symbol(db: DatabaseManager) -> None:
    await db.store_order(_order("a1"), bot_name="a")
    await db.store_order(_order("b1"), bot_name="b")
    done = _order("a2")
    done.apply(OrderCanceled(T0))
    await db.store_order(done, bot_name="a")
    new = Order("a3", "ETHUSDT", Side.SELL, OrderType.MARKET, D("1"), created_at=T0)
    await db.store_order(new, bot_name="a")  # initialized: not at the venue yet, not open

    assert [o.client_order_id for o in await db.get_open_orders()] == ["a1", "b1"]
    assert [o.client_order_id for o in await db.get_open_orders(bot_name="a")] == ["a1"]
    assert await db.get_open_orders(symbol="ETHUSDT") == []
    dicts = await db.get_open_orders(bot_name="b", as_dicts=True)
    assert dicts[0]["order_id"] == "b1" and dicts[0]["status"] == "accepted"


async def test_store_orders_in_bulk_mixing_orders_and_seed_dicts(db: DatabaseManager) -> None:
    seed = {
        "order_id": "s1",
        "symbol": "ETHUSDT",
        "side": "BUY",
        "order_type": "MARKET",
        "quantity": "2",
        "status": "PARTIALLY_FILLED",
    }
    await db.store_orders([_order("b1"), seed, _order("b2")], bot_name="bulk")
    found = {o.client_order_id: o.status for o in await db.get_open_orders(bot_name="bulk")}
    assert found == {
        "b1": OrderStatus.ACCEPTED,
        "s1": OrderStatus.PARTIALLY_FILLED,
        "b2": OrderStatus.ACCEPTED,
    }


async def test_seed_002_order_dicts_are_normalised(db: DatabaseManager) -> None:
    await db.store_order(
        {
            "order_id": "seed-1",
            "symbol": "ETHUSDT",
            "side": "SELL",
            "order_type": "LIMIT",
            "quantity": 0.25,
            "price": 3500.5,
            "status": "NEW",
            "timestamp": 1709287200000,  # epoch ms = 2024-03-01 10:00 UTC
        }
    )
    (order,) = await db.get_open_orders()
    assert (order.side, order.order_type, order.status) == (
        Side.SELL,
        OrderType.LIMIT,
        OrderStatus.ACCEPTED,
    )
    assert (order.quantity, order.price, order.created_at) == (D("0.25"), D("3500.5"), T0)
    with pytest.raises(DataError, match="unknown keys"):
        await db.store_order({"order_id": "x", "clientOrderId": "y"})
    with pytest.raises(DataError, match="unknown order status"):
        await db.store_order(
            {
                "order_id": "x",
                "symbol": "s",
                "side": "buy",
                "order_type": "limit",
                "quantity": 1,
                "status": "WEIRD",
            }
        )


async def test_record_fill_is_idempotent(db: DatabaseManager) -> None:
    order = _order("c3")
    position = Position("BTCUSDT")
    fill = _fill(order, "0.5", "100", 2, trade_id="venue-77")
    order.apply(OrderFilled(fill))
    position.apply(fill)
    assert await db.record_fill(order, fill, position, state={"fills": 1}) is True
    # Replayed after a reconnect: nothing changes, not even the state passed along.
    assert await db.record_fill(order, fill, position, state={"fills": 2}) is False
    assert await db.has_fill("c3:venue-77")
    assert await db.get_bot_state() == {"fills": 1}
    assert [p.quantity for p in await db.get_positions()] == [D("0.5")]


async def test_record_fill_is_all_or_nothing(db: DatabaseManager) -> None:
    order = _order("c4")
    position = Position("BTCUSDT")
    fill = _fill(order, "0.5", "100", 2)
    order.apply(OrderFilled(fill))
    position.apply(fill)
    # The last step (bot state) fails after order, fill and position rows were written.
    with pytest.raises(TypeError, match="cannot store object"):
        await db.record_fill(order, fill, position, state={"bad": object()})
    assert await db.get_order("c4") is None
    assert await db.get_positions() == []
    assert not await db.has_fill("c4#1")
    assert await db.get_bot_state() == {}


async def test_record_fill_with_closing_trade(db: DatabaseManager) -> None:
    entry, exit_ = _order("in", Side.BUY), _order("out", Side.SELL, price="110")
    position = Position("BTCUSDT")
    for order, price, secs in ((entry, "100", 1), (exit_, "110", 60)):
        fill = _fill(order, "0.5", price, secs)
        order.apply(OrderFilled(fill))
        position.apply(fill)
        trade = None
        if order is exit_:
            trade = Trade(
                "rt1",
                "BTCUSDT",
                PositionSide.LONG,
                D("0.5"),
                T0 + timedelta(seconds=1),
                D("100"),
                fill.ts,
                D("110"),
                D("5"),
                D("0.02"),
                ExitReason.TAKE_PROFIT,
            )
        await db.record_fill(order, fill, position, trade=trade, mark=D("110"))
    (stored,) = await db.get_round_trips()
    assert stored == trade
    assert (await db.get_trades())[0]["order_id"] == "out"
    assert await db.get_daily_pnl(T0.date()) == D("4.98")  # gross 5 - fees 0.02
    assert await db.get_positions() == []  # flat now
    (flat,) = await db.get_positions(include_flat=True)
    assert (flat.realized_pnl, flat.fees_paid) == (D("5"), D("0.02"))


async def test_positions_latest_row_per_symbol_and_bot(db: DatabaseManager) -> None:
    btc, eth = Position("BTCUSDT"), Position("ETHUSDT")
    buy = Fill("o", "BTCUSDT", Side.BUY, D("1"), D("100"), D("0"), T0)
    btc.apply(buy)
    await db.store_position(btc, ts=T0)
    btc.apply(replace(buy, quantity=D("0.25"), price=D("104"), ts=T0 + timedelta(1)))
    await db.store_position(btc, mark=D("105"), ts=T0 + timedelta(1))
    eth.apply(Fill("o", "ETHUSDT", Side.SELL, D("2"), D("3000"), D("0"), T0))
    await db.store_position(eth, ts=T0)
    await db.store_position(Position("BTCUSDT"), bot_name="other")

    current = {p.symbol: p for p in await db.get_positions()}
    assert current["BTCUSDT"].quantity == D("1.25")
    assert current["BTCUSDT"].avg_entry_price == D("100.8")  # (100 + 0.25 * 104) / 1.25
    assert current["ETHUSDT"].quantity == D("-2")
    assert current["ETHUSDT"].side is PositionSide.SHORT
    assert await db.get_positions(bot_name="other") == []


async def test_account_snapshots(db: DatabaseManager) -> None:
    first = AccountSnapshot(T0, D("1000"), D("900"), D("12.5"), D("100"), D("3"))
    await db.snapshot_account(first)
    await db.snapshot_account(
        {
            "total_balance": 1010.5,
            "available_balance": 1000.25,
            "timestamp": T0 + timedelta(hours=1),
        }
    )
    latest = await db.get_latest_snapshot()
    assert latest == AccountSnapshot(T0 + timedelta(hours=1), D("1010.5"), D("1000.25"))
    assert await db.get_latest_snapshot(bot_name="nobody") is None
    with pytest.raises(DataError, match="missing 'available_balance'"):
        await db.snapshot_account({"total_balance": 1})


async def test_bot_state_merges_and_is_per_bot(db: DatabaseManager) -> None:
    await db.update_bot_state({"mode": "running", "equity": D("1000.10"), "since": T0})
    await db.update_bot_state({"mode": "paused", "symbols": ["BTCUSDT"]})
    await db.update_bot_state({"mode": "other bot"}, bot_name="b2")
    assert await db.get_bot_state() == {
        "mode": "paused",
        "equity": "1000.10",  # Decimals are kept as exact text
        "since": T0.isoformat(),
        "symbols": ["BTCUSDT"],
    }
    assert await db.get_bot_state(bot_name="b2") == {"mode": "other bot"}
    await db.delete_bot_state(["mode", "since"])
    assert set(await db.get_bot_state()) == {"equity", "symbols"}


async def test_get_trades_filters_and_orders_newest_first(db: DatabaseManager) -> None:
    for i in range(4):
        await db.store_trade(
            {
                "trade_id": f"t{i}",
                "order_id": f"o{i}",
                "symbol": "BTCUSDT" if i % 2 else "ETHUSDT",
                "side": "sell",
                "quantity": 1,
                "price": 100 + i,
                "pnl": i,
                "timestamp": T0 + timedelta(hours=i),
            }
        )
    assert [t["trade_id"] for t in await db.get_trades()] == ["t3", "t2", "t1", "t0"]
    assert [t["trade_id"] for t in await db.get_trades(symbol="BTCUSDT")] == ["t3", "t1"]
    assert [t["trade_id"] for t in await db.get_trades(since=T0 + timedelta(hours=2))] == [
        "t3",
        "t2",
    ]
    assert len(await db.get_trades(limit=1)) == 1


async def test_default_url_is_a_file_under_the_data_dir(tmp_path: object) -> None:
    db = DatabaseManager(data_dir=f"{tmp_path}/data")
    assert db.url.endswith("/data/btb.db") and db.url.startswith("sqlite+aiosqlite:///")
    await db.initialize_database()  # seed 002's name
    await db.close()
    seed = DatabaseManager(db_file=f"{tmp_path}/async_bot_state.db")
    assert seed.url.endswith("/async_bot_state.db")
    await seed.close()


async def test_connection_settings(db: DatabaseManager) -> None:
    async with db.reading() as conn:
        if db.is_postgresql:  # sessions in UTC: date(timestamp) is the UTC day
            assert await conn.scalar(text("SHOW timezone")) == "UTC"
            return
        settings = {
            pragma: await conn.scalar(text(f"PRAGMA {pragma}"))
            for pragma in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert settings == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }  # synchronous 2 = FULL


async def test_same_venue_trade_id_on_two_orders_keeps_both_fills(db: DatabaseManager) -> None:
    # Binance numbers trades per symbol, and the two sides of one match (two accounts, two
    # bots) share its id: an execution is identified by its order AND the venue's trade id.
    btc = _order("btc-1")
    eth = Order("eth-1", "ETHUSDT", Side.BUY, OrderType.LIMIT, D("2"), price=D("3000"))
    eth.apply(OrderSubmitted(T0))
    eth.apply(OrderAccepted(T0, "ex-eth"))
    for order, price in ((btc, "100"), (eth, "3000")):
        position = Position(order.symbol)
        fill = _fill(order, str(order.quantity), price, 3, trade_id="12345")
        order.apply(OrderFilled(fill))
        position.apply(fill)
        assert await db.record_fill(order, fill, position) is True
    assert {p.symbol: p.quantity for p in await db.get_positions()} == {
        "BTCUSDT": D("0.5"),
        "ETHUSDT": D("2"),
    }
    for coid in ("btc-1", "eth-1"):
        loaded = await db.get_order(coid)
        assert loaded is not None and loaded.status is OrderStatus.FILLED
        assert [f.trade_id for f in loaded.fills] == ["12345"]


async def test_fills_without_a_venue_id_round_trip_exactly(db: DatabaseManager) -> None:
    order = _order("c9")
    position = Position("BTCUSDT")
    for i, qty in enumerate(("0.2", "0.3"), 1):
        fill = _fill(order, qty, "100", i)
        order.apply(OrderFilled(fill))
        position.apply(fill)
        assert await db.record_fill(order, fill, position) is True
    loaded = await db.get_order("c9")
    assert loaded == order  # trade ids stay empty: the stored key is not a venue id
    # The rebuilt order (after a restart) names its fills exactly as before: replaying the
    # last one changes nothing.
    assert loaded is not None
    assert await db.record_fill(loaded, loaded.fills[-1], position) is False
    assert len((await db.get_order("c9")).fills) == 2  # type: ignore[union-attr]


def _round_trip(trade_id: str, exit_price: str, minutes: int) -> Trade:
    gross = (D(exit_price) - D("100")) * D("0.5")
    return Trade(
        trade_id,
        "BTCUSDT",
        PositionSide.LONG,
        D("0.5"),
        T0,
        D("100"),
        T0 + timedelta(minutes=minutes),
        D(exit_price),
        gross,
        D("0.02"),
        ExitReason.SIGNAL,
    )


async def test_a_second_trade_under_a_stored_id_is_refused_not_dropped(
    db: DatabaseManager,
) -> None:
    # A bot restarted with a fresh trade counter names its next round trip "BTCUSDT-1"
    # again: silently skipping it would lose its P&L from every report.
    first = _round_trip("BTCUSDT-1", "110", 30)
    assert await db.store_trade(first) is True
    assert await db.store_trade(first) is False  # the same trade again: a harmless replay
    with pytest.raises(StateError, match=r"'BTCUSDT-1' is already stored .*price, pnl"):
        await db.store_trade(_round_trip("BTCUSDT-1", "90", 90))
    with pytest.raises(StateError, match="already stored for a different trade"):
        await db.store_trades(
            [_round_trip("BTCUSDT-2", "101", 5), _round_trip("BTCUSDT-1", "1", 9)]
        )
    # The refused batch stored nothing; the first trade is intact.
    assert [t.trade_id for t in await db.get_round_trips()] == ["BTCUSDT-1"]
    assert await db.get_daily_pnl(T0.date()) == D("4.98")  # (110 - 100) * 0.5 - 0.02
    # A seed-style replay with equal numbers written differently is still the same trade.
    seed = {"trade_id": "s1", "symbol": "ETHUSDT", "side": "buy", "quantity": 1.5, "price": 0.1}
    assert await db.store_trade(seed) is True
    assert await db.store_trade(seed | {"quantity": "1.50", "price": D("0.10")}) is False


async def test_bulk_store_beyond_the_drivers_parameter_cap(db: DatabaseManager) -> None:
    # asyncpg refuses statements with more than 32767 parameters: the id check must not
    # put every id of a large batch into one query.
    rows = [
        {"trade_id": f"b{i}", "symbol": "BTCUSDT", "side": "buy", "quantity": 1, "price": 1}
        for i in range(33_000)
    ]
    await db.store_trades(rows)
    await db.store_trades(rows[-5:])  # a replayed tail: no-op
    assert len(await db.get_trades(limit=None)) == 33_000
    with pytest.raises(StateError, match="'b32999'"):
        await db.store_trades([rows[0], rows[-1] | {"price": 2}])
