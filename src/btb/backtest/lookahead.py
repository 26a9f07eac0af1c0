"""``btb backtest --check-lookahead``: do a strategy's signals change when the future is cut?

Signals at row t must depend only on rows 0..t. The check computes
:meth:`BaseStrategy.signals` on the whole frame and again on prefixes ending at several cut
points, and reports every signal column whose values on a prefix differ from the full run
(freqtrade users know this as ``lookahead-analysis``). It reuses the feature checker
:func:`btb.data.features_lookahead.find_lookahead`, so features and strategies are held to the
same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from btb.data.features_lookahead import LeakReport, find_lookahead
from btb.strategies.base import BaseStrategy

DEFAULT_CUTS = 12


@dataclass(frozen=True)
class SignalLeak:
    """One signal column of one symbol that changed when later candles were removed."""

    symbol: str
    report: LeakReport

    def __str__(self) -> str:
        return f"{self.symbol} {self.report}"


def cut_points(n_rows: int, warmup: int, count: int = DEFAULT_CUTS) -> list[int]:
    """``count`` prefix ends spread over ``[warmup, n_rows - 2]`` (the last row is no cut)."""
    low, high = max(warmup, 1), n_rows - 2
    if high < low:
        return []
    return sorted({int(x) for x in np.linspace(low, high, num=min(count, high - low + 1))})


def check_lookahead(
    strategy: BaseStrategy, frames: Mapping[str, pd.DataFrame], *, cuts: int = DEFAULT_CUTS
) -> list[SignalLeak]:
    """Every signal that differs between a truncated and the full run (empty: none found).

    Only signal strategies can be checked this way; others raise TypeError.
    """
    if not strategy.is_signal_strategy():
        raise TypeError(f"{type(strategy).__name__} has no signals() to check")
    leaks: list[SignalLeak] = []
    for symbol, df in frames.items():
        points = cut_points(len(df), strategy.warmup, cuts)
        reports = find_lookahead(lambda d: _as_float(strategy.signals(d)), df, points, rtol=0.0)
        leaks.extend(SignalLeak(symbol, r) for r in reports)
    return leaks


def _as_float(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(np.float64)
