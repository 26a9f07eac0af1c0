"""--check-lookahead: a leaking signal is caught; ema_cross is clean."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from btb.backtest.lookahead import check_lookahead, cut_points
from btb.strategies.base import BaseStrategy, Param
from btb.strategies.ema_cross import EmaCrossStrategy


class Peeks(BaseStrategy):
    """Buys when the NEXT close is higher: uses the future (shift(-1))."""

    params_spec: ClassVar = {"stop_loss": Param(float, 0.02)}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        up = (df["close"].shift(-1) > df["close"]).to_numpy()
        none = np.zeros(len(df), dtype=bool)
        return pd.DataFrame(
            {"enter_long": up, "exit_long": ~up, "enter_short": none, "exit_short": none},
            index=df.index,
        )


class Normalises(EmaCrossStrategy):
    """Entries from a z-score over the WHOLE frame: a subtler leak."""

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        out = super().signals(df)
        z = (df["close"] - df["close"].mean()) / df["close"].std()
        out["enter_long"] = out["enter_long"] & (z < 0).to_numpy()
        return out


def test_a_leaking_signal_is_reported(btc_1h: pd.DataFrame) -> None:
    leaks = check_lookahead(Peeks({}), {"BTCUSDT": btc_1h})
    assert leaks
    assert {leak.report.column for leak in leaks} >= {"enter_long", "exit_long"}
    assert all(leak.symbol == "BTCUSDT" for leak in leaks)
    assert "enter_long" in str(leaks[0]) or "exit_long" in str(leaks[0])


def test_a_whole_frame_statistic_is_reported(btc_1h: pd.DataFrame) -> None:
    leaks = check_lookahead(Normalises({}), {"BTCUSDT": btc_1h})
    assert [leak.report.column for leak in leaks] and {leak.report.column for leak in leaks} == {
        "enter_long"
    }


def test_ema_cross_has_no_lookahead(btc_1h: pd.DataFrame) -> None:
    for params in ({}, {"fast": 5, "slow": 50, "allow_short": True}):
        assert check_lookahead(EmaCrossStrategy(params), {"BTCUSDT": btc_1h}) == []


def test_cut_points_span_after_warmup() -> None:
    assert cut_points(100, 21, 4) == [21, 46, 72, 98]
    assert cut_points(10, 20) == []


def test_stateful_strategies_cannot_be_checked_this_way() -> None:
    class OnBarOnly(BaseStrategy):
        def on_bar(self, ctx):  # type: ignore[no-untyped-def]
            return []

    with pytest.raises(TypeError):
        check_lookahead(OnBarOnly({}), {})
