"""Smart-money concepts (SMC): trade retests of order blocks and fair-value gaps with the structure.

Every rule below is decided at the close of bar t from bars 0..t only (L = ``swing_length``):

1. **Swings.** Bar i is a swing high when ``high[i]`` is strictly above the highs of the L bars
   before it and the L bars after it (swing low: ``low[i]`` strictly below both sides). It is
   only *known* at bar ``t = i + L``, when the L later bars have closed; until then nothing
   uses it. The latest confirmed swing high/low replaces the previous one.
2. **Structure.** A close above the latest unbroken swing high is a bullish break; a close
   below the latest unbroken swing low is a bearish break. Each swing can be broken once. A
   break in the direction of the current trend (or the first break, while the trend is still
   unknown) is a *BOS* (break of structure); a break against the trend is a *CHoCH* (change of
   character). After a bullish break the trend is +1, after a bearish one -1; when it flips,
   zones of the old direction are dropped.
3. **Order block.** On a bullish break at t, take the leg from the broken swing high's bar to t;
   its lowest low (first occurrence, bar k) starts the impulse. The order block is the last
   bearish candle (close < open) in ``[swing bar, k]``, or bar k itself when there is none; the
   zone is that candle's ``[low, high]``. Bearish breaks mirror this (highest high, last bullish
   candle).
4. **Fair-value gap.** At bar t, ``low[t] > high[t-2]`` leaves a bullish gap
   ``[high[t-2], low[t]]``; ``high[t] < low[t-2]`` a bearish gap ``[high[t], low[t-2]]``.
5. **Zones** (order blocks with ``use_order_blocks``, gaps with ``use_fvg``) can be retested from
   the bar after the one that revealed them, for at most ``max_zone_age`` bars. A bullish zone
   is invalid once a bar closes below its bottom (bearish: above its top). A bar *touches* a
   bullish zone when its low reaches the zone's top (bearish: its high reaches the bottom); a
   touched zone is used up, whatever happens.
6. **Entry.** ``enter_long`` at t when bar t touches a still-valid bullish zone (so it did not
   close below the bottom) and the trend, after step 2 on bar t, is bullish; with several
   zones touched, the most recent one counts. The stop sits beyond the block at
   ``bottom * (1 - stop_buffer)``; as a fraction of the close,
   ``stop_loss = max((close - stop) / close, min_stop)``; the target is
   ``take_profit = risk_reward * stop_loss`` (keep ``risk_reward`` >= the risk layer's
   ``min_risk_reward``, 1.5 by default, or entries are refused). Shorts mirror this
   (``allow_short`` only).
7. **Exit.** ``exit_long`` on any bearish break (step 2), ``exit_short`` on any bullish break;
   otherwise the attached stop/target close the trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd

from btb.strategies.base import BaseStrategy, Param
from btb.strategies.factory import register_strategy
from btb.strategies.smc_structure import ScanParams, scan_structure


@register_strategy("smc")
class SMCStrategy(BaseStrategy):
    """Order-block and fair-value-gap retests in the direction of market structure."""

    params_spec: ClassVar[Mapping[str, Param]] = {
        "swing_length": Param(int, 5, low=1, high=50, doc="bars each side of a swing point"),
        "use_order_blocks": Param(bool, True, doc="trade order-block retests"),
        "use_fvg": Param(bool, True, doc="trade fair-value-gap retests"),
        "stop_buffer": Param(float, 0.001, low=0.0, high=0.05, doc="stop beyond the zone"),
        "min_stop": Param(float, 0.002, low=0.0005, high=0.2, doc="smallest stop distance"),
        "risk_reward": Param(float, 2.0, low=0.5, high=10.0, doc="take profit / stop"),
        "max_zone_age": Param(int, 50, low=1, high=1000, doc="bars a zone stays tradable"),
        "allow_short": Param(bool, False, optimize=False, doc="also trade the short side"),
    }

    @property
    def warmup(self) -> int:
        return 2 * int(self.params["swing_length"]) + 1

    def structure(self, df: pd.DataFrame) -> pd.DataFrame:
        """The scanner's per-row output: swings, trend, BOS/CHoCH, retest entries and stops."""
        p = self.params
        scan = ScanParams(
            swing_length=p["swing_length"],
            use_order_blocks=p["use_order_blocks"],
            use_fvg=p["use_fvg"],
            stop_buffer=p["stop_buffer"],
            max_zone_age=p["max_zone_age"],
        )
        return scan_structure(df, scan)

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        s = self.structure(df)
        close = df["close"].to_numpy(np.float64)
        stop_price = s["stop_price"].to_numpy()
        with np.errstate(invalid="ignore"):
            distance = np.abs(close - stop_price) / close
        stop = np.where(np.isnan(distance), np.nan, np.maximum(distance, p["min_stop"]))
        breaks = s["bos"].to_numpy() + s["choch"].to_numpy()
        short = bool(p["allow_short"])
        return pd.DataFrame(
            {
                "enter_long": s["enter_long"].to_numpy(),
                "exit_long": breaks < 0,
                "enter_short": s["enter_short"].to_numpy() & short,
                "exit_short": (breaks > 0) & short,
                "stop_loss": stop,
                "take_profit": stop * p["risk_reward"],
            },
            index=df.index,
        )
