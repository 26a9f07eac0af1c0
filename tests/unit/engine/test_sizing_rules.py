"""btb.engine.sizing: the three sizing rules, the cash cap, the lot floor, the minimums."""

from __future__ import annotations

import math

import pytest

from btb.engine.sizing import (
    ENTRY_GAP_ALLOWANCE,
    SIZING_EQUITY_FRACTION,
    SIZING_FIXED_NOTIONAL,
    SIZING_RISK_PER_TRADE,
    entry_lots,
    raw_quantity,
)


def _raw(mode: int, **kw: float) -> float:
    args = {
        "equity": 10_000.0,
        "price": 50.0,
        "stop_fraction": 0.02,
        "fixed_notional": 1_000.0,
        "equity_fraction": 0.2,
        "risk_per_trade": 0.01,
        "leverage": 1.0,
    }
    args.update(kw)
    return raw_quantity(mode, **args)  # type: ignore[arg-type]


def test_fixed_notional() -> None:
    assert _raw(SIZING_FIXED_NOTIONAL) == pytest.approx(20.0)  # 1,000 / 50


def test_equity_fraction_scales_with_leverage() -> None:
    assert _raw(SIZING_EQUITY_FRACTION) == pytest.approx(40.0)  # 10,000 * 0.2 / 50
    assert _raw(SIZING_EQUITY_FRACTION, leverage=3.0) == pytest.approx(120.0)


def test_risk_per_trade_is_seed_002_formula() -> None:
    # balance * risk / (price * stop_loss_pct) = 10,000 * 0.01 / (50 * 0.02) = 100
    assert _raw(SIZING_RISK_PER_TRADE) == pytest.approx(100.0)
    assert _raw(SIZING_RISK_PER_TRADE, stop_fraction=math.nan) == 0.0  # needs a stop


def _lots(qty: float, **kw: float) -> float:
    args = {
        "free_cash": 1e9,
        "price": 50.0,
        "leverage": 1.0,
        "fee_rate": 0.0,
        "slippage": 0.0,
        "lot_step": 0.001,
        "min_qty": 0.001,
        "min_notional": 0.0,
    }
    args.update(kw)
    return entry_lots(qty, **args)  # type: ignore[arg-type]


def test_lots_floor_to_the_step_without_binary_noise() -> None:
    assert _lots(10.0) == 10_000.0  # 10 / 0.001 is 9999.999999999998 in binary
    assert _lots(1.23456) == 1234.0


def test_min_qty_and_min_notional_zero_rule() -> None:
    assert _lots(0.5, min_qty=1.0) == 0.0
    assert _lots(0.5, min_notional=30.0) == 0.0  # 0.5 * 50 = 25 < 30
    assert _lots(0.5, min_notional=25.0) == 500.0


def test_cap_to_free_cash_including_the_fee_and_margin() -> None:
    # priced at the buffered fill 50 * (1 + 0.002 gap allowance) = 50.1
    # spot: 1,000 / (50.1 * (1 + 0.001)) = 1,000 / 50.1501 = 19.94014 -> 19.940 (0.001 step)
    assert _lots(100.0, free_cash=1_000.0, fee_rate=0.001) == 19_940.0
    # 5x futures: margin is notional / 5: 1,000 / (50.1 * (0.2 + 0.001)) = 1,000 / 10.0701 = 99.3039
    assert _lots(200.0, free_cash=1_000.0, fee_rate=0.001, leverage=5.0) == 99_303.0
    assert _lots(10.0, free_cash=-5.0) == 0.0


def test_cap_leaves_room_for_slippage_and_the_gap_allowance() -> None:
    assert ENTRY_GAP_ALLOWANCE == 0.002  # the documented 0.2 %
    # 5 bps slippage: 50 * (1 + 0.0005 + 0.002) = 50.125; 1,000 / (50.125 * 1.001)
    # = 1,000 / 50.175125 = 19.93019 -> 19.930
    assert _lots(100.0, free_cash=1_000.0, fee_rate=0.001, slippage=0.0005) == 19_930.0
    # what the cap allows is payable at a next open up to 0.2 % above the decision price:
    qty = _lots(100.0, free_cash=1_000.0, fee_rate=0.001) * 0.001
    assert qty * 50.1 * 1.001 <= 1_000.0 < (qty + 0.001) * 50.1 * 1.001
    # a quantity below the cap is left alone
    assert _lots(5.0, free_cash=1_000.0, fee_rate=0.001, slippage=0.0005) == 5_000.0


@pytest.mark.parametrize(
    ("mode", "equity", "price", "stop"),
    [
        (SIZING_FIXED_NOTIONAL, 10_000.0, 43_211.57, 0.02),
        (SIZING_EQUITY_FRACTION, 12_345.67, 2_987.1, 0.02),
        (SIZING_RISK_PER_TRADE, 9_876.5, 0.61234, 0.013),
        (SIZING_RISK_PER_TRADE, 250.0, 150.0, 0.02),  # 0.833 units, min qty 1 -> zero
    ],
)
def test_agrees_with_the_decimal_rules_of_btb_risk(mode, equity, price, stop) -> None:
    """The float rules (compiled for the fast path) and btb.risk.sizing (Decimal) agree."""
    from decimal import Decimal

    from btb.core import Instrument, MarketType
    from btb.risk import sizing as risk_sizing

    inst = Instrument(
        "XUSDT", "X", "USDT", MarketType.SPOT, Decimal("0.01"), Decimal("0.001"), Decimal(1)
    )
    if mode == SIZING_FIXED_NOTIONAL:
        want = risk_sizing.fixed_notional(1000.0, price, inst)
    elif mode == SIZING_EQUITY_FRACTION:
        want = risk_sizing.equity_fraction(equity, 0.2, price, inst)
    else:
        want = risk_sizing.risk_per_trade(equity, 0.01, price, stop, inst)
    raw = raw_quantity(mode, equity, price, stop, 1000.0, 0.2, 0.01, 1.0)
    lots = entry_lots(raw, 1e12, price, 1.0, 0.0, 0.0, 0.001, 1.0, 0.0)
    assert Decimal(int(lots)) * Decimal("0.001") == want
