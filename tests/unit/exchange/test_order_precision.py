"""Rounding to the instrument's grid and refusal below its limits, with hand-computed values."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from btb.core.enums import MarketType, Side
from btb.core.instrument import Instrument
from btb.errors import InvalidOrderError
from btb.exchange.precision import (
    format_decimal,
    prepare_order,
    round_limit_price,
    round_quantity,
    round_trigger_price,
)

# Bybit's recorded BTCUSDT linear rules (tick 0.5, lot 0.001, min 0.001, min notional 5).
BTC = Instrument(
    symbol="BTCUSDT", base="BTC", quote="USDT", market_type=MarketType.LINEAR,
    tick_size=D("0.5"), lot_step=D("0.001"), min_qty=D("0.001"), min_notional=D("5"),
    max_qty=D("100"),
)  # fmt: skip
# A small-price coin with a coarse lot (1) and fine tick.
DOGE = Instrument(
    symbol="DOGEUSDT", base="DOGE", quote="USDT", market_type=MarketType.LINEAR,
    tick_size=D("0.00001"), lot_step=D("1"), min_qty=D("1"), min_notional=D("5"),
)  # fmt: skip


@pytest.mark.parametrize(
    ("qty", "expected"),
    [("0.0019", "0.001"), ("0.001", "0.001"), ("1.23456", "1.234"), (0.1 + 0.2, "0.3"),
     ("99.9999", "99.999"), (D("2"), "2.000")],
)  # fmt: skip
def test_quantity_is_floored_to_the_lot(qty: object, expected: str) -> None:
    # 0.1 + 0.2 is 0.30000000000000004 as a float: str() keeps it from becoming 0.299...
    assert round_quantity(BTC, qty) == D(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("side", "price", "expected"),
    [(Side.BUY, "30000.4", "30000.0"), (Side.SELL, "30000.1", "30000.5"),
     (Side.BUY, "30000.5", "30000.5"), (Side.SELL, "29999.99", "30000.0")],
)  # fmt: skip
def test_limit_price_rounds_passively(side: Side, price: str, expected: str) -> None:
    assert round_limit_price(BTC, price, side) == D(expected)


def test_trigger_price_goes_to_the_nearest_tick() -> None:
    assert round_trigger_price(BTC, "31000.3") == D("31000.5")
    assert round_trigger_price(BTC, "29000.2") == D("29000.0")
    assert round_trigger_price(DOGE, "0.123456") == D("0.12346")


@pytest.mark.parametrize(
    ("qty", "message"),
    [("0.0009", "below min_qty 0.001"), ("0", "must be > 0"), ("-1", "must be > 0"),
     ("100.001", "above max_qty 100"), ("abc", "not a number"), ("NaN", "not a finite")],
)  # fmt: skip
def test_quantity_limits_are_named(qty: str, message: str) -> None:
    with pytest.raises(InvalidOrderError, match=message) as caught:
        round_quantity(BTC, qty)
    assert "BTCUSDT" in str(caught.value)


def test_min_notional_is_checked_after_rounding() -> None:
    # 0.0019 BTC rounds to 0.001; at 4999 that is 4.999 USDT < 5
    with pytest.raises(InvalidOrderError, match=r"notional 4\.999.*min_notional 5"):
        prepare_order(BTC, Side.BUY, "0.0019", "4999")
    ok = prepare_order(BTC, Side.BUY, "0.0019", "5000.4")  # 0.001 * 5000 = 5
    assert (ok.quantity, ok.price) == (D("0.001"), D("5000.0"))


def test_market_orders_use_the_reference_price_for_notional() -> None:
    with pytest.raises(InvalidOrderError, match="min_notional"):
        prepare_order(DOGE, Side.SELL, "30", reference_price="0.1")  # 3 USDT
    order = prepare_order(DOGE, Side.SELL, "50.7", reference_price="0.1")  # 50 * 0.1 = 5
    assert (order.quantity, order.price) == (D("50"), None)
    unchecked = prepare_order(DOGE, Side.SELL, "2")  # no price known: only quantity rules
    assert unchecked.quantity == D("2")


def test_reduce_only_orders_are_exempt_from_min_notional_only() -> None:
    """Both venues let a reduce-only order below min notional through (the rest of a
    position must stay closable); the quantity rules still apply."""
    small = prepare_order(BTC, Side.SELL, "0.001", "4000", reduce_only=True)  # 4 USDT < 5
    assert (small.quantity, small.price) == (D("0.001"), D("4000.0"))
    market = prepare_order(DOGE, Side.BUY, "3", reference_price="0.1", reduce_only=True)
    assert market.quantity == D("3")  # 0.3 USDT
    with pytest.raises(InvalidOrderError, match="below min_qty"):
        prepare_order(BTC, Side.SELL, "0.0004", "4000", reduce_only=True)


def test_prepare_rounds_the_trigger_price() -> None:
    order = prepare_order(BTC, Side.SELL, "0.01", "30000", trigger_price="30100.26")
    assert order.trigger_price == D("30100.5")


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("0.0010"), "0.001"), (D("1E+1"), "10"), (D("25000.00"), "25000"), (D("0"), "0"),
     (D("-0.0"), "0"), (D("0.00000001"), "0.00000001"), (D("123.4500"), "123.45")],
)  # fmt: skip
def test_format_decimal_is_plain_text(value: D, text: str) -> None:
    assert format_decimal(value) == text
