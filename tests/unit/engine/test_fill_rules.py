"""Fill rules (btb.core.matching docstring) pinned by crafted candles -> expected trades.

Every expected number below is worked out by hand from the candles in the same row (the
comment says how). Signal cases run on both the event path and the fast path; cases that
need limit orders or several symbols run on the event path (the only one that has them).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
import pytest

from btb.core import MarketType, PositionSide
from btb.strategies.base import BaseStrategy, Param
from btb.strategies.context import StrategyContext
from btb.strategies.intents import Intent, OrderIntent

from .fill_harness import bar_time, config, frame, instrument, run, scripted

FLAT = (100.0, 100.0, 100.0, 100.0)
SIGNAL_BAR = (100.0, 101.0, 99.0, 100.0)  # decision bar: close 100 -> 1000 USDT = 10 units


def _case(
    name: str,
    candles: list[Any],
    script: dict[int, set[str]],
    expected: list[tuple],
    *,
    params: dict[str, float] | None = None,
    **cfg: Any,
) -> Any:
    return pytest.param(candles, script, params or {}, cfg, expected, id=name)


LONG, SHORT = {1: {"enter_long"}}, {1: {"enter_short"}}
SIGNAL_CASES = [
    # entry at bar 2's open (101) after the bar-1 signal; exit signal at bar 3 -> bar 4 open 103
    _case(
        "next_bar_open_entry_and_signal_exit",
        [
            FLAT,
            SIGNAL_BAR,
            (101, 102, 100, 101),
            (101, 103, 100, 102),
            (103, 104, 102, 103),
            (103, 103, 103, 103),
        ],
        {1: {"enter_long"}, 3: {"exit_long"}},
        [("long", 10.0, 2, 101.0, 4, 103.0, "signal")],
        params={"stop_loss": 0.5},
    ),
    # 10 bps against us: buy 101 * 1.001 = 101.101, sell 103 * 0.999 = 102.897
    _case(
        "slippage_moves_market_fills",
        [
            FLAT,
            SIGNAL_BAR,
            (101, 102, 100, 101),
            (101, 103, 100, 102),
            (103, 104, 102, 103),
            (103, 103, 103, 103),
        ],
        {1: {"enter_long"}, 3: {"exit_long"}},
        [("long", 10.0, 2, 101.101, 4, 102.897, "signal")],
        params={"stop_loss": 0.5},
        slippage_bps=10.0,
    ),
    # entry 100, SL 2 % = 98; bar 4 opens at 97, through the stop: filled at the open 97
    _case(
        "stop_gapped_through_fills_at_open",
        [
            FLAT,
            SIGNAL_BAR,
            (100, 101, 99.5, 100.5),
            (100, 100.5, 99, 99),
            (97, 98, 96, 97),
            (97, 97, 97, 97),
        ],
        LONG,
        [("long", 10.0, 2, 100.0, 4, 97.0, "stop_loss")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
    ),
    # TP 4 % = 104; bar 4 opens at 105, beyond it: filled at the open 105
    _case(
        "take_profit_gapped_fills_at_open",
        [
            FLAT,
            SIGNAL_BAR,
            (100, 101, 99.5, 100.5),
            (100, 100.5, 99, 99),
            (105, 106, 104.5, 105.5),
            (105, 105, 105, 105),
        ],
        LONG,
        [("long", 10.0, 2, 100.0, 4, 105.0, "take_profit")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
    ),
    # bar 3 spans 97..105: both SL 98 and TP 104 inside -> the stop counts first, at 98
    _case(
        "stop_and_take_in_one_bar_stop_first",
        [FLAT, SIGNAL_BAR, (100, 101, 99.5, 100.5), (100, 105, 97, 101), (101, 101, 101, 101)],
        LONG,
        [("long", 10.0, 2, 100.0, 3, 98.0, "stop_loss")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
    ),
    # bar 3 reaches 104.5 >= TP 104 without touching the stop: filled at the level 104
    _case(
        "take_profit_inside_bar_fills_at_level",
        [FLAT, SIGNAL_BAR, (100, 101, 99.5, 100.5), (100, 104.5, 99, 104), (104, 104, 104, 104)],
        LONG,
        [("long", 10.0, 2, 100.0, 3, 104.0, "take_profit")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
    ),
    # the entry bar itself falls to 97.5 <= SL 98: protection is live from the entry bar
    _case(
        "stop_live_from_entry_bar",
        [FLAT, SIGNAL_BAR, (100, 100.5, 97.5, 98), (98, 98, 98, 98)],
        LONG,
        [("long", 10.0, 2, 100.0, 2, 98.0, "stop_loss")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
    ),
    # exit signal at bar 3; bar 4 opens 99.5 then falls to 97 (< SL 98): the exit at the open
    # comes first, at 99.5
    _case(
        "exit_signal_at_open_before_intrabar_stop",
        [
            FLAT,
            SIGNAL_BAR,
            (100, 101, 99.5, 100.5),
            (100, 100.5, 99, 100),
            (99.5, 100, 97, 98),
            (98, 98, 98, 98),
        ],
        {1: {"enter_long"}, 3: {"exit_long"}},
        [("long", 10.0, 2, 100.0, 4, 99.5, "signal")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
    ),
    # still open after the last bar: closed at its close 101, marked end_of_data
    _case(
        "end_of_data_closes_at_last_close",
        [FLAT, SIGNAL_BAR, (100, 101, 99.5, 100.5), (100.5, 101.5, 100, 101)],
        LONG,
        [("long", 10.0, 2, 100.0, 3, 101.0, "end_of_data")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
    ),
    # 50 bps: entry 100 * 1.005 = 100.5; SL = 100.5 * 0.98 = 98.49 (from the fill, not the
    # open's 98); bar 3 low 98 <= 98.49; sell stop filled 98.49 * 0.995 = 97.99755
    _case(
        "levels_measured_from_entry_fill",
        [FLAT, SIGNAL_BAR, (100, 100.6, 99.9, 100.2), (100, 100, 98, 99), (99, 99, 99, 99)],
        LONG,
        [("long", 10.0, 2, 100.5, 3, 97.99755, "stop_loss")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
        slippage_bps=50.0,
    ),
    # short at 100: SL 102, TP 96; bar 3 spans 95..103 -> stop first, bought back at 102
    _case(
        "short_mirror_stop_first",
        [FLAT, SIGNAL_BAR, (100, 100.5, 99.5, 100), (100, 103, 95, 99), (99, 99, 99, 99)],
        SHORT,
        [("short", 10.0, 2, 100.0, 3, 102.0, "stop_loss")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
        market_type="linear",
    ),
    # short TP 96 reached at 95.5: bought back at 96
    _case(
        "short_take_profit_at_level",
        [FLAT, SIGNAL_BAR, (100, 100.5, 99.5, 100), (100, 101, 95.5, 96), (96, 96, 96, 96)],
        SHORT,
        [("short", 10.0, 2, 100.0, 3, 96.0, "take_profit")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
        market_type="linear",
    ),
    # short SL 102 gapped: bar 3 opens at 103 -> bought back at the open 103
    _case(
        "short_stop_gapped_fills_at_open",
        [FLAT, SIGNAL_BAR, (100, 100.5, 99.5, 100), (103, 104, 102.5, 103), (103, 103, 103, 103)],
        SHORT,
        [("short", 10.0, 2, 100.0, 3, 103.0, "stop_loss")],
        params={"stop_loss": 0.02, "take_profit": 0.04},
        market_type="linear",
    ),
    # 10x long at 100: liquidation at 100 * (1 - 1/10 + 0.005) = 90.5, above the 20 % stop (80)
    _case(
        "liquidation_before_a_farther_stop",
        [FLAT, SIGNAL_BAR, (100, 100.5, 99.5, 100), (99, 99, 90, 91), (91, 91, 91, 91)],
        LONG,
        [("long", 10.0, 2, 100.0, 3, 90.5, "liquidation")],
        params={"stop_loss": 0.2},
        market_type="linear",
        leverage=10,
    ),
    # same candles, stop 5 % = 95 lies above the liquidation price 90.5: the stop fills first
    _case(
        "stop_before_a_farther_liquidation",
        [FLAT, SIGNAL_BAR, (100, 100.5, 99.5, 100), (99, 99, 90, 91), (91, 91, 91, 91)],
        LONG,
        [("long", 10.0, 2, 100.0, 3, 95.0, "stop_loss")],
        params={"stop_loss": 0.05},
        market_type="linear",
        leverage=10,
    ),
]

COLUMNS = [
    "side",
    "quantity",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "exit_reason",
]


def _expected(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, q, bar_time(eb), ep, bar_time(xb), xp, r) for s, q, eb, ep, xb, xp, r in rows],
        columns=COLUMNS,
    )


def _check(trades: pd.DataFrame, rows: list[tuple]) -> None:
    want = _expected(rows)
    got = trades[COLUMNS].reset_index(drop=True)
    assert len(got) == len(want), got
    for col in ("side", "entry_time", "exit_time", "exit_reason"):
        assert got[col].tolist() == want[col].tolist(), col
    for col in ("quantity", "entry_price", "exit_price"):
        assert got[col].tolist() == pytest.approx(want[col].tolist(), rel=1e-12), col


@pytest.mark.parametrize("path", ["event", "fast"])
@pytest.mark.parametrize(("candles", "script", "params", "cfg", "expected"), SIGNAL_CASES)
def test_signal_fill_rules(path, candles, script, params, cfg, expected) -> None:
    trades = run(config(**cfg), {"AAAUSDT": frame(candles)}, scripted(script, **params), path)
    _check(trades, expected)


ROUND_TRIP = [
    FLAT,
    SIGNAL_BAR,
    (101, 102, 100, 101),
    (101, 103, 100, 102),
    (103, 104, 102, 103),
    (103, 103, 103, 103),
]
ROUND_TRIP_SCRIPT = {1: {"enter_long"}, 3: {"exit_long"}}


@pytest.mark.parametrize("path", ["event", "fast"])
def test_market_fills_pay_taker_fee_on_both_sides(path) -> None:
    # 10 units: entry 101 -> fee 1.01; exit 103 -> fee 1.03; gross (103 - 101) * 10 = 20
    cfg = config(taker_fee=0.001, maker_fee=0.0005)
    trades = run(
        cfg, {"AAAUSDT": frame(ROUND_TRIP)}, scripted(ROUND_TRIP_SCRIPT, stop_loss=0.5), path
    )
    (t,) = trades.itertuples()
    assert t.fees == pytest.approx(2.04, rel=1e-12)
    assert t.gross_pnl == pytest.approx(20.0, rel=1e-12)
    assert t.net_pnl == pytest.approx(17.96, rel=1e-12)


SIZING_CASES = [
    # equity 10,000, decision close 100
    pytest.param({"sizing": "fixed_notional", "fixed_notional": 1000.0}, {}, 10.0, id="fixed"),
    pytest.param({"sizing": "equity_fraction", "equity_fraction": 0.25}, {}, 25.0, id="fraction"),
    # margin 2,500 at 4x leverage -> 10,000 notional -> 100 units
    pytest.param(
        {
            "sizing": "equity_fraction",
            "equity_fraction": 0.25,
            "market_type": "linear",
            "leverage": 4,
        },
        {},
        100.0,
        id="fraction_leveraged",
    ),
    # seed 002: 10,000 * 0.01 / (100 * 0.02) = 50
    pytest.param({"sizing": "risk_per_trade"}, {"stop_loss": 0.02}, 50.0, id="risk_per_trade"),
    # 5,000 wanted but only 1,000 cash: capped at the buffered fill price (0.2 % gap
    # allowance, no fee or slippage here): 1,000 / (100 * 1.002) = 9.980039920... -> 1e-8 lots
    pytest.param(
        {"sizing": "fixed_notional", "fixed_notional": 5000.0, "initial_capital": 1000.0},
        {},
        9.98003992,
        id="capped_to_cash",
    ),
]


@pytest.mark.parametrize("path", ["event", "fast"])
@pytest.mark.parametrize(("cfg", "params", "qty"), SIZING_CASES)
def test_sizing_rules(path, cfg, params, qty) -> None:
    candles = [FLAT, SIGNAL_BAR, FLAT, FLAT]
    params = {"stop_loss": 0.5, **params}
    trades = run(config(**cfg), {"AAAUSDT": frame(candles)}, scripted(LONG, **params), path)
    assert trades["quantity"].tolist() == [qty]
    assert trades["entry_price"].tolist() == [100.0]


@pytest.mark.parametrize("path", ["event", "fast"])
def test_min_qty_zero_rule_skips_the_trade(path) -> None:
    # risk sizing asks for 50 units; the instrument's minimum is 60 -> no trade at all
    candles = [FLAT, SIGNAL_BAR, FLAT, FLAT]
    trades = run(
        config(sizing="risk_per_trade"),
        {"AAAUSDT": frame(candles)},
        scripted(LONG, stop_loss=0.02),
        path,
        instruments={"AAAUSDT": instrument("AAAUSDT", min_qty="60")},
    )
    assert trades.empty


# ---- limit orders (event path: a stateful strategy places them) -----------------------------


class LimitOnce(BaseStrategy):
    """Places one buy limit at ``limit`` after bar 1 closes."""

    params_spec: ClassVar = {
        "limit": Param(float, 99.0),
        "stop_loss": Param(float, 0.5),
        "take_profit": Param(float, 5.0),
    }

    def on_bar(self, ctx: StrategyContext) -> list[Intent]:
        if ctx.index != 1:
            return []
        p = self.params
        return [
            OrderIntent.enter(
                ctx.symbol,
                PositionSide.LONG,
                price=p["limit"],
                stop_loss=p["stop_loss"],
                take_profit=p["take_profit"],
            )
        ]


LIMIT_QTY = 10.1010101  # 1000 / 99 = 10.10101010..., floored to the 1e-8 lot step
LIMIT_CASES = [
    # bar 2 stays above 99; bar 3 only touches 99 (not through); bar 4 trades through -> 99
    pytest.param(
        [
            FLAT,
            SIGNAL_BAR,
            (100, 101, 99.5, 100),
            (100, 100, 99, 99.5),
            (99.8, 100, 98.5, 99),
            (99, 99, 99, 99),
        ],
        {},
        ("long", LIMIT_QTY, 4, 99.0, 5, 99.0, "end_of_data"),
        id="fills_only_through",
    ),
    # bar 2 opens at 98, below the limit: filled at the better open 98
    pytest.param(
        [FLAT, SIGNAL_BAR, (98, 99, 97.5, 98.5), (98.5, 98.5, 98.5, 98.5)],
        {},
        ("long", LIMIT_QTY, 2, 98.0, 3, 98.5, "end_of_data"),
        id="gapped_fills_at_open",
    ),
    # filled at 99 inside bar 2 (range 98.5..104): TP 99 * 1.04 = 102.96 is inside bar 2 too, but
    # a take-profit born inside a bar waits for the next one; bar 3 reaches it -> 102.96
    pytest.param(
        [FLAT, SIGNAL_BAR, (99.8, 104, 98.5, 103), (102.5, 103.5, 102, 103), (103, 103, 103, 103)],
        {"stop_loss": 0.02, "take_profit": 0.04},
        ("long", LIMIT_QTY, 2, 99.0, 3, 102.96, "take_profit"),
        id="take_profit_waits_a_bar_after_intrabar_fill",
    ),
    # filled at 99 inside bar 2 (low 96.5): its stop 99 * 0.98 = 97.02 fires in the same bar
    pytest.param(
        [FLAT, SIGNAL_BAR, (99.8, 100, 96.5, 97), (97, 97, 97, 97)],
        {"stop_loss": 0.02, "take_profit": 0.04},
        ("long", LIMIT_QTY, 2, 99.0, 2, 97.02, "stop_loss"),
        id="stop_fires_in_the_fill_bar",
    ),
]


@pytest.mark.parametrize(("candles", "params", "expected"), LIMIT_CASES)
def test_limit_fill_rules(candles, params, expected) -> None:
    trades = run(config(), {"AAAUSDT": frame(candles)}, LimitOnce(params), "event")
    _check(trades, [expected])


def test_limit_entry_pays_maker_and_market_exit_taker() -> None:
    # entry 10.1010101 * 99 * 0.0005; end-of-data exit at 99 with the taker rate 0.001
    candles = [FLAT, SIGNAL_BAR, (98, 99, 97.5, 98.5), (99, 99, 99, 99)]
    cfg = config(taker_fee=0.001, maker_fee=0.0005)
    trades = run(cfg, {"AAAUSDT": frame(candles)}, LimitOnce({}), "event")
    qty = 10.1010101
    assert trades["fees"].tolist() == pytest.approx([qty * 98 * 0.0005 + qty * 99 * 0.001])


# ---- several symbols, shared capital -----------------------------------------------------


class VolumeCoded(BaseStrategy):
    """Signals encoded in the candle volume: 2 enter long, 3 exit long (per symbol)."""

    params_spec: ClassVar = {"stop_loss": Param(float, 0.5)}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        v = df["volume"].to_numpy()
        none = v < 0
        return pd.DataFrame(
            {"enter_long": v == 2, "exit_long": v == 3, "enter_short": none, "exit_short": none},
            index=df.index,
        )


def _coded(candles: list[Any], codes: dict[int, int]) -> pd.DataFrame:
    df = frame(candles)
    for bar, code in codes.items():
        df.iloc[bar, df.columns.get_loc("volume")] = float(code)
    return df


def test_max_open_positions_is_shared_across_symbols() -> None:
    # One slot. Both symbols signal at bar 1: AAA (first in the config) takes it, BBB's entry is
    # skipped. AAA exits at bar 4's open; BBB's bar-4 signal then finds the slot free -> bar 5.
    candles = [FLAT, SIGNAL_BAR, FLAT, FLAT, FLAT, (100, 101, 99, 100.5)]
    data = {"AAAUSDT": _coded(candles, {1: 2, 3: 3}), "BBBUSDT": _coded(candles, {1: 2, 4: 2})}
    cfg = config(("AAAUSDT", "BBBUSDT"), max_open_positions=1)
    trades = run(cfg, data, VolumeCoded({}), "event")
    got = [(t.symbol, t.entry_time, t.exit_time, t.exit_reason) for t in trades.itertuples()]
    assert got == [
        ("AAAUSDT", bar_time(2), bar_time(4), "signal"),
        ("BBBUSDT", bar_time(5), bar_time(5), "end_of_data"),
    ]


def test_shared_capital_sizes_the_second_entry_with_what_is_left() -> None:
    # 1,000 USDT, 800 per trade, two slots, no fees: AAA gets 8 units, reserving them at the
    # buffered fill price 100 * 1.002 (0.2 % gap allowance): 801.6; BBB only what is left:
    # 198.4 / 100.2 = 1.980039920... -> 1.98003992 (1e-8 lots)
    candles = [FLAT, SIGNAL_BAR, FLAT, FLAT]
    data = {s: _coded(candles, {1: 2}) for s in ("AAAUSDT", "BBBUSDT")}
    cfg = config(
        ("AAAUSDT", "BBBUSDT"), max_open_positions=2, initial_capital=1000.0, fixed_notional=800.0
    )
    trades = run(cfg, data, VolumeCoded({}), "event")
    assert dict(zip(trades["symbol"], trades["quantity"], strict=True)) == {
        "AAAUSDT": 8.0,
        "BBBUSDT": 1.98003992,
    }


def test_spot_account_ignores_short_entries() -> None:
    candles = [FLAT, SIGNAL_BAR, FLAT, FLAT]
    trades = run(
        config(market_type="spot"),
        {"AAAUSDT": frame(candles)},
        scripted(SHORT, stop_loss=0.02),
        "event",
    )
    assert trades.empty
    assert MarketType.SPOT.value == "spot"
