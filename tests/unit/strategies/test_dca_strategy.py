"""DCA: base order, scaled safety orders, take-profit on the average entry, through the engine."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from btb.core import Bar, Position
from btb.errors import ConfigError
from btb.risk import AccountState, RiskManager
from btb.strategies.dca import DCAStrategy, safety_levels

from .strategy_candles import fills_by_bar, frame, run_strategy

# Safety orders 2 % and 2 % + 4 % = 6 % below the base fill, sized 100 and 200 quote.
PARAMS = {
    "base_order": 100.0, "safety_order": 100.0, "max_safety_orders": 2, "price_deviation": 0.02,
    "step_scale": 2.0, "volume_scale": 2.0, "take_profit": 0.02, "qty_step": 0.001,
}  # fmt: skip
AVG = (100.0 * 1.0 + 98.0 * 1.02) / 2.02  # average entry after the first safety fill
TP = AVG * 1.02


class _Ctx:
    """The smallest strategy context: one closed bar, a flat position, no orders."""

    def __init__(self, df: pd.DataFrame) -> None:
        ts, row = df.index[-1].to_pydatetime(), df.iloc[-1]
        self.symbol = "TESTUSDT"
        self.bar = Bar(self.symbol, "1h", ts, *row[["open", "high", "low", "close", "volume"]])
        self.position = Position(self.symbol)
        self.open_orders = ()


def test_safety_levels_follow_step_scale() -> None:
    # gaps 1.5, 2.25, 3.375, 5.0625, 7.59375 % -> cumulative 1.5, 3.75, 7.125, 12.1875, 19.78125 %
    assert safety_levels(100.0, 5, 0.015, 1.5) == pytest.approx(
        [98.5, 96.25, 92.875, 87.8125, 80.21875]
    )


def test_cycle_base_safety_take_profit_and_restart() -> None:
    bars = [
        (100.0, 100.0, 100.0, 100.0),  # 0: base buy 100 / 100 = 1.0 at market
        (100.0, 100.5, 99.5, 100.0),  # 1: base fills @ 100; safety 1.020 @ 98, 2.127 @ 94
        (100.0, 100.2, 97.5, 98.0),  # 2: safety 1 fills @ 98; take-profit moves to AVG * 1.02
        (98.0, 101.5, 97.9, 101.0),  # 3: take-profit fills; safety 2 cancelled; new base 0.990
        (101.0, 101.0, 93.0, 95.0),  # 4: new base fills @ 101; the old 94 order is gone
    ]
    df = frame(bars)
    dca = DCAStrategy(PARAMS)
    out = run_strategy(dca, df)
    assert fills_by_bar(out, df) == sorted(
        [
            (1, 1.0, 100.0),
            (2, 1.02, 98.0),
            (3, -2.02, round(TP, 9)),
            (4, 0.99, 101.0),
            (4, -0.99, 95.0),  # end of data: closed at the last close
        ]
    )
    trades = out.trades  # type: ignore[attr-defined]
    first = trades.iloc[0]
    assert first["exit_reason"] == "take_profit"
    assert first["entry_price"] == pytest.approx(AVG)
    assert first["net_pnl"] == pytest.approx(2.02 * AVG * 0.02)
    assert dca.cycles == 1 and dca.safety_filled == 0  # counters of the running cycle


def test_optional_stop_loss_from_average_entry() -> None:
    bars = [
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 100.5, 99.5, 100.0),  # base fills @ 100; stop at 95
        (99.0, 99.0, 90.0, 91.0),  # stop-loss fills @ 95
    ]
    df = frame(bars)
    out = run_strategy(DCAStrategy({**PARAMS, "max_safety_orders": 0, "stop_loss": 0.05}), df)
    fills = fills_by_bar(out, df)
    assert fills[:2] == [(1, 1.0, 100.0), (2, -1.0, 95.0)]
    assert out.trades["exit_reason"].iloc[0] == "stop_loss"  # type: ignore[attr-defined]


def test_cooldown_delays_the_next_cycle() -> None:
    bars = [
        (100.0, 100.0, 100.0, 100.0),  # 0: base order
        (100.0, 100.0, 100.0, 100.0),  # 1: fills @ 100, take-profit at 102
        (100.0, 103.0, 100.0, 102.5),  # 2: take-profit @ 102; the cycle ends at this close
        (102.5, 102.5, 102.5, 102.5),  # 3: cooling down (1)
        (102.5, 102.5, 102.5, 102.5),  # 4: cooling down (2): new base order at this close
        (102.5, 102.5, 102.5, 102.5),  # 5: fills @ 102.5 (100 / 102.5 = 0.975)
        (102.5, 102.5, 102.5, 102.5),  # 6: end of data
    ]
    df = frame(bars)
    params = {**PARAMS, "max_safety_orders": 0, "cooldown_bars": 2}
    fills = fills_by_bar(run_strategy(DCAStrategy(params), df), df)
    assert [f[:2] for f in fills] == [(1, 1.0), (2, -1.0), (5, 0.975), (6, -0.975)]


def test_safety_orders_must_stay_above_zero() -> None:
    # 30 % + 60 % + 120 % reaches below zero
    with pytest.raises(ConfigError) as info:
        DCAStrategy({"price_deviation": 0.3, "step_scale": 2.0, "max_safety_orders": 3})
    assert info.value.key_path == "strategy_params.price_deviation"


def test_seed_003_standalone_base_order() -> None:
    df = frame([(100.0, 100.0, 100.0, 100.0)])
    dca = DCAStrategy(PARAMS)
    assert dca.generate_signal(df, Decimal("50")) is None  # cannot pay the 100 base order
    signal = dca.generate_signal(df, Decimal("1000"))
    assert signal is not None and signal.action == "enter"
    assert (signal.quantity, signal.take_profit) == (Decimal("1"), Decimal("102"))
    # no stop configured: one price_deviation beyond the deepest safety order (6 % + 2 %)
    assert signal.stop_loss == Decimal("92")
    assert dca.open_position().entry_price == Decimal("100")
    assert dca.generate_signal(df, Decimal("1000")) is None  # one cycle at a time


def test_default_stop_sits_beyond_the_last_safety_order() -> None:
    # PARAMS: safety orders 2 % and 6 % below the base fill, so the automatic stop is 8 %
    # below the average entry, re-placed after every fill.
    assert DCAStrategy(PARAMS).stop_distance() == pytest.approx(0.08)
    bars = [
        (100.0, 100.0, 100.0, 100.0),  # 0: base buy 1.0 at market
        (100.0, 100.5, 99.5, 100.0),  # 1: base fills @ 100 (stop 92); safety @ 98 and @ 94
        (100.0, 100.0, 93.0, 93.5),  # 2: both safety orders fill: 1.02 @ 98, 2.127 @ 94
        (93.5, 94.0, 85.0, 86.0),  # 3: the stop at 8 % under the new average fills
    ]
    df = frame(bars)
    out = run_strategy(DCAStrategy(PARAMS), df)
    qty = 1.0 + 1.02 + 2.127  # 200 / 94 = 2.1276... floored to 2.127
    avg = (100.0 + 1.02 * 98.0 + 2.127 * 94.0) / qty
    assert fills_by_bar(out, df) == [
        (1, 1.0, 100.0), (2, 1.02, 98.0), (2, 2.127, 94.0), (3, -qty, round(avg * 0.92, 9)),
    ]  # fmt: skip
    trade = out.trades.iloc[0]  # type: ignore[attr-defined]
    assert trade["exit_reason"] == "stop_loss"
    assert trade["net_pnl"] == pytest.approx(-qty * avg * 0.08)  # 8 % of all it bought


def test_automatic_stop_must_stay_below_100_percent() -> None:
    # 30 % * 3 safety orders = 90 % deep; the automatic stop would be 120 %
    deep = {"price_deviation": 0.3, "step_scale": 1.0, "max_safety_orders": 3}
    with pytest.raises(ConfigError) as info:
        DCAStrategy(deep)
    assert info.value.key_path == "strategy_params.stop_loss"
    assert DCAStrategy({**deep, "stop_loss": 0.5}).stop_distance() == 0.5


def test_entries_pass_the_risk_gate_only_through_the_declared_exemption() -> None:
    # A base order as DCA sends it: take-profit 2 % against the automatic 8 % stop (0.25:1).
    df = frame([(100.0, 100.0, 100.0, 100.0)])
    dca = DCAStrategy(PARAMS)
    (base,) = dca.on_bar(_Ctx(df))  # type: ignore[arg-type]
    assert (base.stop_loss, base.take_profit) == (pytest.approx(0.08), 0.02)
    acct = AccountState(equity=Decimal(10_000), available=Decimal(10_000),
                        day_start_equity=Decimal(10_000))  # fmt: skip
    rm = RiskManager()  # min_risk_reward 1.5
    refused = rm.approve(base, acct, price=Decimal(100))
    assert not refused and "reward/risk 0.25" in refused.reason
    ok = rm.approve(base, acct, price=Decimal(100), min_risk_reward=dca.min_risk_reward)
    assert ok and ok.quantity == Decimal("1.000")
