"""EMA crossover: long when the fast EMA crosses above the slow one, out on the cross back.

Definitions (row t uses rows 0..t only):

* EMAs are TA-Lib's ``EMA`` (the same as the ``ema_cross_<fast>_<slow>`` feature): smoothing
  ``2 / (n + 1)``, seeded with the simple mean of the first ``n`` closes, NaN before that.
* cross up at t: ``fast[t-1] < slow[t-1] and fast[t] > slow[t]`` (strict on both bars, as
  ``backtesting.lib.crossover``); cross down mirrored.
* ``enter_long`` = cross up, ``exit_long`` = cross down; with ``allow_short``,
  ``enter_short`` = cross down and ``exit_short`` = cross up (so a cross reverses).
* ``stop_loss``/``take_profit`` are distances from the entry fill (0.02 = 2 %); ``null``
  defers to the risk config.
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


def ema(close: FloatArray, period: int) -> FloatArray:
    """TA-Lib EMA of ``close`` (float64); imported lazily to keep ``btb.strategies`` light."""
    import talib

    return np.asarray(talib.EMA(np.ascontiguousarray(close, dtype=np.float64), period))


def crosses(fast: FloatArray, slow: FloatArray) -> tuple[npt.NDArray[np.bool_], ...]:
    """``(up, down)``: where ``fast`` crosses strictly above / below ``slow`` at row t."""
    up = np.zeros(len(fast), dtype=bool)
    down = np.zeros(len(fast), dtype=bool)
    with np.errstate(invalid="ignore"):  # NaN warm-up compares False
        up[1:] = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
        down[1:] = (fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:])
    return up, down


@register_strategy("ema_cross")
class EmaCrossStrategy(BaseStrategy):
    """Trend following on an EMA crossover, with attached stop-loss and take-profit."""

    params_spec: ClassVar[Mapping[str, Param]] = {
        "fast": Param(int, 9, low=2, high=500, doc="fast EMA period"),
        "slow": Param(int, 21, low=3, high=2000, doc="slow EMA period (> fast)"),
        "stop_loss": Param(
            float, 0.02, low=0.0005, high=0.5, nullable=True, doc="stop distance from entry"
        ),
        "take_profit": Param(
            float, 0.04, low=0.0005, high=5.0, nullable=True, doc="take distance from entry"
        ),
        "allow_short": Param(bool, False, optimize=False, doc="also trade the short side"),
    }

    @classmethod
    def check_params(cls, values: Mapping[str, Any]) -> None:
        if values["fast"] >= values["slow"]:
            raise ConfigError(
                f"must be smaller than slow ({values['slow']}), got {values['fast']}",
                key_path="strategy_params.fast",
            )

    @property
    def warmup(self) -> int:
        # The slow EMA is first defined at row slow - 1, and a cross at row t compares rows
        # t - 1 and t: the first row that can carry a signal is row slow, the slow + 1st.
        return int(self.params["slow"]) + 1

    def ema_lines(self, df: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
        """The fast and slow EMA of ``df['close']``."""
        close = df["close"].to_numpy(dtype=np.float64)
        return ema(close, self.params["fast"]), ema(close, self.params["slow"])

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        up, down = crosses(*self.ema_lines(df))
        short = bool(self.params["allow_short"])
        none = np.zeros(len(df), dtype=bool)
        return pd.DataFrame(
            {
                "enter_long": up,
                "exit_long": down,
                "enter_short": down if short else none,
                "exit_short": up if short else none,
            },
            index=df.index,
        )
