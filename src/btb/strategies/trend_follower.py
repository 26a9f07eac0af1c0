"""Trend follower: Donchian breakout confirmed by ADX, with ATR-sized stop and target.

Rules at closed bar t (row t uses rows 0..t only; N = ``breakout_period``, E = ``exit_period``):

* ``upper[t] = max(high[t-N .. t-1])``, ``lower[t] = min(low[t-N .. t-1])``: the channel of the
  N bars *before* t (bar t itself is excluded, otherwise a close could never exceed it).
* trend filter: ``ADX(adx_period)[t] > adx_threshold`` (TA-Lib Wilder ADX, 0..100).
* ``enter_long``: ``close[t] > upper[t]`` and the filter; ``enter_short`` (only with
  ``allow_short``): ``close[t] < lower[t]`` and the filter.
* ``exit_long``: ``close[t] < min(low[t-E .. t-1])`` (a shorter opposite channel, the turtle
  exit); ``exit_short``: ``close[t] > max(high[t-E .. t-1])``. ``exit_period = null`` disables
  the channel exit (brackets only).
* brackets of every entry, as fractions of the price (applied to the entry fill):
  ``stop_loss = atr_stop_mult * ATR(atr_period)[t] / close[t]``,
  ``take_profit = atr_tp_mult * ATR[t] / close[t]``. The defaults 2 x ATR stop and 4 x ATR target
  keep reward/risk at 2, above the risk layer's default ``min_risk_reward`` of 1.5.

Nothing is signalled until the channel, ADX and ATR are all defined (see :attr:`warmup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from btb.errors import ConfigError
from btb.strategies.base import BaseStrategy, Param
from btb.strategies.factory import register_strategy

FloatArray = npt.NDArray[np.float64]
_HLC = ("high", "low", "close")


def prior_max(x: FloatArray, n: int) -> FloatArray:
    """``max(x[t-n .. t-1])`` at each t (NaN for t < n): the window ends before row t."""
    out = np.full(len(x), np.nan)
    if len(x) > n:
        windows = np.lib.stride_tricks.sliding_window_view(x, n)[:-1]
        out[n:] = windows.max(axis=1)
    return out


def prior_min(x: FloatArray, n: int) -> FloatArray:
    """``min(x[t-n .. t-1])`` at each t (NaN for t < n)."""
    return -prior_max(-x, n)


@register_strategy("trend_follower")
class TrendFollowerStrategy(BaseStrategy):
    """Breakout of the prior N-bar range when ADX shows a trend; ATR stop and target."""

    params_spec: ClassVar[Mapping[str, Param]] = {
        "breakout_period": Param(int, 20, low=2, high=500, doc="channel length N (bars)"),
        "exit_period": Param(
            int, 10, low=2, high=500, nullable=True, doc="opposite channel for exits"
        ),
        "adx_period": Param(int, 14, low=2, high=100, doc="ADX period"),
        "adx_threshold": Param(float, 25.0, low=0.0, high=100.0, doc="min ADX to enter"),
        "atr_period": Param(int, 14, low=1, high=200, doc="ATR period"),
        "atr_stop_mult": Param(float, 2.0, low=0.1, high=20.0, doc="stop = k x ATR"),
        "atr_tp_mult": Param(float, 4.0, low=0.1, high=50.0, doc="take profit = m x ATR"),
        "allow_short": Param(bool, False, optimize=False, doc="also trade the short side"),
    }

    @classmethod
    def check_params(cls, values: Mapping[str, Any]) -> None:
        exit_period = values["exit_period"]
        if exit_period is not None and exit_period > values["breakout_period"]:
            raise ConfigError(
                f"must not exceed breakout_period ({values['breakout_period']}), got {exit_period}",
                key_path="strategy_params.exit_period",
            )

    @property
    def warmup(self) -> int:
        """Bars until every indicator exists on the last one: the channel needs N earlier
        bars (N + 1), TA-Lib's ADX(n) starts at row 2n - 1 (2n bars), ATR(n) at row n."""
        p = self.params
        return int(max(p["breakout_period"] + 1, 2 * p["adx_period"], p["atr_period"] + 1))

    def indicators(self, df: pd.DataFrame) -> pd.DataFrame:
        """Channel bounds, ADX and ATR of every row (NaN while warming up)."""
        import talib

        p = self.params
        h, lo, c = (
            np.ascontiguousarray(df[k].to_numpy(np.float64)) for k in ("high", "low", "close")
        )
        out = {
            "upper": prior_max(h, p["breakout_period"]),
            "lower": prior_min(lo, p["breakout_period"]),
            "adx": talib.ADX(h, lo, c, p["adx_period"]),
            "atr": talib.ATR(h, lo, c, p["atr_period"]),
        }
        if p["exit_period"] is not None:
            out["exit_upper"] = prior_max(h, p["exit_period"])
            out["exit_lower"] = prior_min(lo, p["exit_period"])
        return pd.DataFrame(out, index=df.index)

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        ind = self.indicators(df)
        c = df["close"].to_numpy(np.float64)
        atr = ind["atr"].to_numpy()
        with np.errstate(invalid="ignore"):
            ready = ~np.isnan(atr) & (atr > 0)
            trending = (ind["adx"].to_numpy() > p["adx_threshold"]) & ready
            up = (c > ind["upper"].to_numpy()) & trending
            down = (c < ind["lower"].to_numpy()) & trending
            if p["exit_period"] is None:
                exit_long = exit_short = np.zeros(len(df), dtype=bool)
            else:
                exit_long = c < ind["exit_lower"].to_numpy()
                exit_short = c > ind["exit_upper"].to_numpy()
        short = bool(p["allow_short"])
        return pd.DataFrame(
            {
                "enter_long": up,
                "exit_long": exit_long,
                "enter_short": down & short,
                "exit_short": exit_short & short,
                "stop_loss": p["atr_stop_mult"] * atr / c,
                "take_profit": p["atr_tp_mult"] * atr / c,
            },
            index=df.index,
        )
