"""Trend follower: breakout, ADX filter, channel exit and ATR brackets on hand-made candles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from btb.data.features import find_lookahead
from btb.errors import ConfigError
from btb.strategies.factory import create_strategy
from btb.strategies.trend_follower import TrendFollowerStrategy, prior_max, prior_min

from .strategy_candles import frame, mirrored, real_candles, rows

# t: open, high, low, close (volume 1). Hand-derived with breakout_period N=3, exit_period E=2:
#   upper[t] = max(high[t-3..t-1]); exit_lower[t] = min(low[t-2..t-1])
#   t=3: upper = max(11, 12, 13) = 13, close 13.8 > 13 -> breakout
#   t=4: upper = max(12, 13, 14) = 14, close 14.2 > 14 -> breakout
#   t=5: close 12.6 vs exit_lower = min(12, 13) = 12 -> holds
#   t=6: close 11.8 < exit_lower = min(13, 12.5) = 12.5 -> exit
# ADX(2): bars 1..4 only move up (each low >= the previous low, so -DM = 0), hence -DI = 0 and
# DX = ADX = 100 at t = 3 and 4 (TA-Lib's first ADX(2) value is at row 3).
BARS = [
    (10.0, 11.0, 9.0, 10.5),
    (10.5, 12.0, 10.0, 11.5),
    (11.5, 13.0, 11.0, 12.5),
    (12.5, 14.0, 12.0, 13.8),
    (13.8, 14.5, 13.0, 14.2),
    (14.2, 14.3, 12.5, 12.6),
    (12.6, 12.8, 11.5, 11.8),
]
PARAMS = {
    "breakout_period": 3, "exit_period": 2, "adx_period": 2, "adx_threshold": 99.0,
    "atr_period": 1, "atr_stop_mult": 2.0, "atr_tp_mult": 4.0,
}  # fmt: skip


def test_prior_window_excludes_the_current_bar() -> None:
    x = np.array([1.0, 5.0, 2.0, 3.0, 9.0])
    np.testing.assert_array_equal(prior_max(x, 2), [np.nan, np.nan, 5.0, 5.0, 3.0])
    np.testing.assert_array_equal(prior_min(x, 2), [np.nan, np.nan, 1.0, 2.0, 2.0])


def test_breakout_entries_exit_and_atr_brackets() -> None:
    sig = create_strategy("trend_follower", PARAMS).signals(frame(BARS))
    assert rows(sig["enter_long"]) == [3, 4]
    assert rows(sig["exit_long"]) == [6]
    assert not sig["enter_short"].any() and not sig["exit_short"].any()
    # ATR(1) is the true range: t=3 max(14-12, |14-12.5|, |12-12.5|) = 2;
    # t=4 max(1.5, |14.5-13.8|, |13-13.8|) = 1.5
    assert sig["stop_loss"].iloc[3] == pytest.approx(2 * 2.0 / 13.8)
    assert sig["take_profit"].iloc[3] == pytest.approx(4 * 2.0 / 13.8)
    assert sig["stop_loss"].iloc[4] == pytest.approx(2 * 1.5 / 14.2)
    assert sig["take_profit"].iloc[4] == pytest.approx(4 * 1.5 / 14.2)


def test_adx_filter_is_strict() -> None:
    # ADX is exactly 100 on the breakout bars: a threshold of 100 (ADX > 100) blocks them.
    sig = create_strategy("trend_follower", {**PARAMS, "adx_threshold": 100.0}).signals(frame(BARS))
    assert not sig["enter_long"].any()
    assert rows(sig["exit_long"]) == [6]  # the exit channel does not need a trend


def test_short_side_mirrors_only_when_allowed() -> None:
    down = frame(mirrored(BARS))
    off = create_strategy("trend_follower", PARAMS).signals(down)
    assert not off["enter_short"].any() and not off["enter_long"].any()
    on = create_strategy("trend_follower", {**PARAMS, "allow_short": True}).signals(down)
    assert rows(on["enter_short"]) == [3, 4]
    assert rows(on["exit_short"]) == [6]
    assert on["stop_loss"].iloc[3] == pytest.approx(2 * 2.0 / (30 - 13.8))


def test_no_exit_channel_when_disabled() -> None:
    sig = create_strategy("trend_follower", {**PARAMS, "exit_period": None}).signals(frame(BARS))
    assert rows(sig["enter_long"]) == [3, 4] and not sig["exit_long"].any()


@pytest.mark.parametrize(
    "params,key",
    [
        ({"exit_period": 30}, "strategy_params.exit_period"),  # > breakout_period 20
        ({"breakout_period": 1}, "strategy_params.breakout_period"),
        ({"adx_threshold": 101.0}, "strategy_params.adx_threshold"),
        ({"atr_stop_mult": "2"}, "strategy_params.atr_stop_mult"),
        ({"lookback": 5}, "strategy_params.lookback"),
    ],
)
def test_bad_params_name_the_key(params: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        TrendFollowerStrategy(params)
    assert info.value.key_path == key


def test_no_lookahead_on_real_candles() -> None:
    data = real_candles().iloc[:1500]
    strategy = create_strategy("trend_follower", {})

    def compute(df: pd.DataFrame) -> pd.DataFrame:
        return strategy.signals(df).astype(float)

    assert find_lookahead(compute, data, range(60, 1500, 97), rtol=0.0) == []
    assert strategy.signals(data)["enter_long"].sum() > 0


@pytest.mark.parametrize(
    "params,bars",
    [
        ({}, 28),  # ADX(14) needs 2 * 14 bars (channel 20 + 1, ATR 14 + 1)
        ({"breakout_period": 30, "exit_period": 10, "adx_period": 5}, 31),  # channel 30 + 1
        ({"atr_period": 40, "adx_period": 5, "breakout_period": 10}, 41),  # ATR(40) 40 + 1
    ],
)
def test_warmup_is_the_number_of_bars_the_last_signal_needs(
    params: dict[str, object], bars: int
) -> None:
    strategy = TrendFollowerStrategy(params)
    assert strategy.warmup == bars
    data = real_candles().iloc[:100]
    assert strategy.indicators(data.iloc[:bars]).iloc[-1].notna().all()
    assert strategy.indicators(data.iloc[: bars - 1]).iloc[-1].isna().any()
