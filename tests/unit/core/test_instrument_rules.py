"""Instrument rounding and pre-send checks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import pytest

from btb.core import Bar, Instrument, MarketType, timeframe_seconds
from btb.errors import InvalidOrderError

D = Decimal
BTC = Instrument(
    "BTCUSDT", "BTC", "USDT", MarketType.LINEAR,
    tick_size=D("0.10"), lot_step=D("0.001"), min_qty=D("0.001"), min_notional=D("5"),
    max_qty=D("100"),
)  # fmt: skip


@pytest.mark.parametrize(
    "price,rounding,expected",
    [
        ("43210.149", None, "43210.10"),
        ("43210.15", None, "43210.20"),  # half-even: 432101.5 ticks -> 432102
        ("43210.25", None, "43210.20"),  # half-even: 432102.5 ticks -> 432102
        ("43210.19", ROUND_DOWN, "43210.10"),
        ("43210.11", ROUND_UP, "43210.20"),
    ],
)
def test_round_price_to_tick(price: str, rounding: str | None, expected: str) -> None:
    got = BTC.round_price(D(price)) if rounding is None else BTC.round_price(D(price), rounding)
    assert got == D(expected) and str(got) == expected


@pytest.mark.parametrize(
    "qty,expected", [("0.0019", "0.001"), ("1.23456", "1.234"), ("2", "2.000")]
)
def test_round_qty_floors_to_lot_step(qty: str, expected: str) -> None:
    assert str(BTC.round_qty(D(qty))) == expected


@pytest.mark.parametrize(
    "qty,price,match",
    [
        ("0", "100", "must be > 0"),
        ("0.0015", "40000", "lot step 0.001"),
        ("0.001", "4000.0", "min_notional 5"),  # 4 USDT notional
        ("101", "40000", "max_qty 100"),
        ("0.01", "40000.05", "tick size 0.10"),
    ],
)
def test_check_order_names_the_broken_limit(qty: str, price: str, match: str) -> None:
    with pytest.raises(InvalidOrderError, match=match):
        BTC.check_order(D(qty), D(price))


def test_check_order_accepts_valid_and_min_qty_for_meets_both_minimums() -> None:
    BTC.check_order(D("0.001"), D("40000.0"))
    qty = BTC.min_qty_for(D("3000"))  # 5 / 3000 = 0.001666.. -> 0.002
    assert qty == D("0.002")
    BTC.check_order(qty, D("3000.0"))
    with pytest.raises(InvalidOrderError, match="below min_qty"):
        Instrument("X", "X", "USDT", MarketType.SPOT, D("0.01"), D("0.1"), D("1")).check_order(
            D("0.5"), None
        )


def test_bar_close_time_and_timeframes() -> None:
    bar = Bar("BTCUSDT", "5m", datetime(2024, 1, 1, tzinfo=UTC), 1.0, 2.0, 0.5, 1.5, 10.0)
    assert bar.close_time == datetime(2024, 1, 1, 0, 5, tzinfo=UTC)
    assert timeframe_seconds("4h") == 14400 and timeframe_seconds("1w") == 604800
    with pytest.raises(ValueError, match="unknown timeframe '7x'"):
        timeframe_seconds("7x")
    with pytest.raises(ValueError, match="timezone-aware"):
        Bar("BTCUSDT", "1m", datetime(2024, 1, 1), 1, 1, 1, 1, 1)
