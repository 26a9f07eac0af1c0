"""Row <-> btb.core mapping rules and seed/exchange spellings (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from btb.core import ExitReason, MarketType, OrderStatus, PositionSide, Side, Trade
from btb.database import mappers, seed_input
from btb.errors import DataError

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        T0,
        T0.astimezone(timezone(timedelta(hours=-5))),
        "2024-03-01T10:00:00Z",
        "2024-03-01T12:00:00+02:00",
        "2024-03-01 10:00:00",  # naive: seed 002 wrote UTC
        1709287200,  # epoch seconds
        1709287200000,  # epoch milliseconds
        1709287200000.0,
    ],
)
def test_parse_time_reads_every_seed_form_as_utc(value: object) -> None:
    parsed = seed_input.parse_time(value)
    assert parsed == T0 and parsed.tzinfo is UTC


@pytest.mark.parametrize("bad", ["yesterday", None, True, [1]])
def test_parse_time_rejects_non_times(bad: object) -> None:
    with pytest.raises(DataError, match="timestamp"):
        seed_input.parse_time(bad)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("NEW", OrderStatus.ACCEPTED),
        ("open", OrderStatus.ACCEPTED),
        ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED),
        ("closed", OrderStatus.FILLED),
        ("CANCELLED", OrderStatus.CANCELED),
        ("canceled", OrderStatus.CANCELED),
        ("EXPIRED", OrderStatus.EXPIRED),
    ],
)
def test_exchange_status_spellings(text: str, status: OrderStatus) -> None:
    assert seed_input.order_status(text) is status


def test_sides() -> None:
    assert seed_input.order_side("BUY") is Side.BUY
    assert seed_input.order_side("Sell") is Side.SELL
    with pytest.raises(DataError, match="unknown order side 'hold'"):
        seed_input.order_side("hold")


def test_round_trip_is_stored_as_net_pnl_on_its_exit_day() -> None:
    trade = Trade(
        "rt",
        "ETHUSDT",
        PositionSide.SHORT,
        Decimal("2"),
        T0,
        Decimal("3000"),
        T0 + timedelta(days=1),
        Decimal("2900"),
        Decimal("200"),
        Decimal("3.5"),
        ExitReason.STOP_LOSS,
    )
    row = mappers.trade_values(trade, "bot", "exit-order")
    assert (row["pnl"], row["commission"], row["price"]) == (
        Decimal("196.5"),
        Decimal("3.5"),
        Decimal("2900"),
    )
    assert row["timestamp"] == T0 + timedelta(days=1)
    assert mappers.trade_from_row(row) == trade  # type: ignore[arg-type]


def test_seed_trade_rows_are_not_round_trips() -> None:
    row = mappers.trade_values(
        {"trade_id": "t", "symbol": "BTCUSDT", "side": "BUY", "quantity": 1, "price": 2}, "bot"
    )
    assert row["side"] == "buy" and row["order_id"] == ""
    assert (
        mappers.trade_from_row(row | {"entry_time": None, "entry_price": None, "gross_pnl": None})
        is None
    )  # type: ignore[arg-type]


def test_seed_position_rows_get_their_sign_from_the_side() -> None:
    row = {
        "symbol": "BTCUSDT",
        "side": "SHORT",
        "quantity": Decimal("0.3"),
        "entry_price": Decimal("60000"),
        "market_type": "linear",
        "leverage": Decimal("5"),
        "realized_pnl": Decimal(0),
        "fees_paid": Decimal(0),
        "opened_at": None,
    }
    position = mappers.position_from_row(row)  # type: ignore[arg-type]
    assert position.quantity == Decimal("-0.3") and position.side is PositionSide.SHORT
    assert position.market_type is MarketType.LINEAR and position.leverage == Decimal(5)
    signed = mappers.position_from_row(row | {"quantity": Decimal("-0.3"), "side": "short"})  # type: ignore[arg-type]
    assert signed.quantity == Decimal("-0.3")  # btb's signed rows are not negated twice


def test_bad_numbers_name_the_field() -> None:
    with pytest.raises(DataError, match=r"trade t7\.price: 'abc' is not a number"):
        mappers.trade_values(
            {"trade_id": "t7", "symbol": "X", "side": "buy", "quantity": 1, "price": "abc"}, "b"
        )
    with pytest.raises(DataError, match="trade t8: missing 'price'"):
        mappers.trade_values({"trade_id": "t8", "symbol": "X", "side": "buy", "quantity": 1}, "b")


def test_fill_ids_are_scoped_by_order_and_survive_a_reload() -> None:
    from btb.core import Fill, Order, OrderType
    from btb.core.order import OrderAccepted, OrderFilled, OrderSubmitted

    order = Order("coid-1", "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("3"))
    order.apply(OrderSubmitted(T0))
    order.apply(OrderAccepted(T0, "ex-1"))
    fills = [
        Fill("coid-1", "BTCUSDT", Side.BUY, Decimal(1), Decimal(100), Decimal(0), T0, trade_id=t)
        for t in ("987", "", "")
    ]
    for fill in fills:
        order.apply(OrderFilled(fill))
    keys = [mappers.fill_id(order, fill) for fill in fills]
    assert keys == ["coid-1:987", "coid-1#2", "coid-1#3"]
    for key, fill in zip(keys, fills, strict=True):
        row = mappers.fill_values(order, fill, "bot")
        assert row["fill_id"] == key
        assert mappers.fill_from_row(row) == fill  # type: ignore[arg-type]
