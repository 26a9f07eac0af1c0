"""Sizing rules: hand-computed quantities, lot-step flooring and the instrument minimums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btb.core import Instrument, MarketType
from btb.risk.sizing import equity_fraction, fixed_notional, risk_per_trade

D = Decimal
BTC = Instrument(
    "BTCUSDT", "BTC", "USDT", MarketType.LINEAR,
    tick_size=D("0.1"), lot_step=D("0.001"), min_qty=D("0.001"), min_notional=D("100"),
    max_qty=D("100"),
)  # fmt: skip


def test_risk_per_trade_seed_example() -> None:
    # 10,000 * 1 % = 100 at risk; a 2 % stop at 50,000 is 1,000 per BTC -> 0.1 BTC.
    assert risk_per_trade(D("10000"), D("0.01"), D("50000"), D("0.02")) == D("0.1")
    assert risk_per_trade(D("10000"), D("0.01"), D("50000"), D("0.02"), BTC) == D("0.100")


def test_risk_per_trade_floors_to_lot_step() -> None:
    # 100 / (30,000 * 0.02) = 0.1666.. -> 0.166 (never rounds up to more risk).
    assert risk_per_trade(10_000, 0.01, 30_000, 0.02, BTC) == D("0.166")


def test_risk_per_trade_below_min_notional_is_zero() -> None:
    # 4,000 * 1 % = 40; 40 / 1,000 = 0.04 BTC... at 50,000 that is 2,000 notional: fine.
    assert risk_per_trade(4_000, 0.01, 50_000, 0.02, BTC) == D("0.040")
    # 90 * 1 % / 1,000 = 0.0009 -> floors to 0 -> 0.
    assert risk_per_trade(90, 0.01, 50_000, 0.02, BTC) == 0
    # 200 * 1 % / (50,000 * 0.01) = 0.004 BTC = 200 notional >= 100: kept.
    assert risk_per_trade(200, 0.01, 50_000, 0.01, BTC) == D("0.004")
    # 80 * 1 % / (50,000 * 0.01) = 0.0016 -> 0.001 BTC = 50 notional < 100: refused as 0.
    assert risk_per_trade(80, 0.01, 50_000, 0.01, BTC) == 0


def test_fixed_notional_and_min_notional() -> None:
    assert fixed_notional(D("150"), D("50000"), BTC) == D("0.003")
    # 99 / 50,000 = 0.00198 -> 0.001 = 50 notional, below 100.
    assert fixed_notional(D("99"), D("50000"), BTC) == 0
    assert fixed_notional(D("100"), D("4")) == D("25")


def test_floats_are_read_through_str() -> None:
    # 0.1 as a float is 0.1000000000000000055...; read through str it is exactly 0.1.
    assert equity_fraction(10_000.0, 0.1, 2_500.0) == D("0.4")


def test_equity_fraction_caps_at_max_qty_and_negative_equity_sizes_zero() -> None:
    assert equity_fraction(D("1e9"), D("1"), D("1000"), BTC) == D("100.000")
    assert equity_fraction(D("-5"), D("0.5"), D("1000")) == 0


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: risk_per_trade(1000, 0.01, 0, 0.02), "price must be > 0"),
        (lambda: risk_per_trade(1000, 1.5, 100, 0.02), "risk must be <= 1"),
        (lambda: risk_per_trade(1000, 0.01, 100, 0), "stop_distance_pct must be > 0"),
        (lambda: risk_per_trade(1000, 0.01, 100, 1), "stop_distance_pct must be < 1"),
        (lambda: fixed_notional(float("nan"), 100), "notional must be finite"),
        (lambda: fixed_notional(-1, 100), "notional must be >= 0"),
        (lambda: equity_fraction(1000, 2, 100), "fraction must be <= 1"),
        (lambda: equity_fraction(1000, True, 100), "fraction must be a number"),
    ],
)
def test_bad_inputs_name_the_argument(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
