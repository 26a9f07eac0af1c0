"""Performance metrics of a backtest, from its equity curve and trades table.

Definitions (``E`` = equity at each bar close, ``E0`` = initial capital, ``N`` bars):

* ``total_return`` = ``E[-1] / E0 - 1``.
* ``cagr`` = ``(E[-1] / E0) ** (1 / years) - 1`` with ``years`` the calendar time from the
  first bar's open to the last bar's close in years of 365.25 days.
* bar returns ``r[t] = E[t] / E[t-1] - 1`` with ``E[-1] := E0`` for the first bar.
* ``sharpe`` = ``mean(r) / std(r) * sqrt(P)`` (sample std, ddof=1; risk-free rate 0;
  ``P`` = bars per year = 365.25 days / bar length: crypto trades every day).
* ``sortino`` = ``mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(P)`` (downside deviation over all
  bars, target 0).
* ``max_drawdown`` = ``max(1 - E / running_max(E))`` as a positive fraction; the running max
  starts at ``E0``. ``max_drawdown_duration`` is the longest stretch (as a time span, and in
  bars) from a peak until equity first gets back to it (or the end of data).
* ``calmar`` = ``cagr / max_drawdown``.
* ``win_rate`` = trades with ``net_pnl > 0`` / trades; ``profit_factor`` = sum of winning
  net PnL / |sum of losing net PnL| (inf with no losses, None with no trades);
  ``expectancy`` = mean net PnL per trade (quote currency).
* ``exposure`` = fraction of bars during which a position was open (a bar counts from the
  trade's entry bar through its exit bar, any symbol).
* ``fees_paid`` = sum of all fees. ``per_symbol`` repeats the trade statistics per symbol.

Undefined values (no trades, zero variance) are ``None``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from btb.core.bar import timeframe_seconds

_YEAR_SECONDS = 365.25 * 86_400


def _ratio(num: float, den: float) -> float | None:
    if den == 0 or not math.isfinite(den) or not math.isfinite(num):
        return None
    return num / den


def bar_returns(equity: pd.Series, initial: float) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Per-bar simple returns, the first one measured from ``initial``."""
    values = np.concatenate(([initial], equity.to_numpy(dtype=np.float64)))
    return values[1:] / values[:-1] - 1.0


def drawdown(equity: pd.Series, initial: float) -> pd.Series:
    """Drawdown at each bar as a positive fraction below the running peak (peak >= initial)."""
    values = equity.to_numpy(dtype=np.float64)
    peak = np.maximum.accumulate(np.concatenate(([initial], values)))[1:]
    return pd.Series(1.0 - values / peak, index=equity.index, name="drawdown")


def _longest_underwater(equity: pd.Series, initial: float, bar: pd.Timedelta) -> tuple[int, Any]:
    """(bars, time span) of the longest peak-to-recovery stretch."""
    values = equity.to_numpy(dtype=np.float64)
    peak = np.maximum.accumulate(np.concatenate(([initial], values)))[1:]
    under = values < peak
    if not under.any():
        return 0, pd.Timedelta(0)
    # start of each underwater run: the bar where the previous peak was set
    edges = np.flatnonzero(np.diff(np.concatenate(([0], under.astype(np.int8), [0]))))
    starts, ends = edges[::2], edges[1::2]  # run = bars [start, end)
    lengths = ends - starts
    k = int(np.argmax(lengths))
    index = pd.DatetimeIndex(equity.index)
    begin = index[starts[k] - 1] if starts[k] > 0 else index[0] - bar
    finish = index[ends[k]] if ends[k] < len(index) else index[-1] + bar
    return int(lengths[k]), finish - begin


def trade_stats(trades: pd.DataFrame) -> dict[str, Any]:
    """Win rate, profit factor, expectancy and friends of a trades table."""
    pnl = trades["net_pnl"].to_numpy(dtype=np.float64) if len(trades) else np.zeros(0)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_win, gross_loss = float(wins.sum()), float(-losses.sum())
    if len(pnl) == 0:
        pf: float | None = None
    elif gross_loss == 0:
        pf = math.inf if gross_win > 0 else None
    else:
        pf = gross_win / gross_loss
    return {
        "trade_count": len(pnl),
        "win_rate": len(wins) / len(pnl) if len(pnl) else None,
        "profit_factor": pf,
        "expectancy": float(pnl.mean()) if len(pnl) else None,
        "net_pnl": float(pnl.sum()),
        "gross_profit": gross_win,
        "gross_loss": gross_loss,
        "fees_paid": float(trades["fees"].sum()) if len(trades) else 0.0,
        "avg_bars_held": float(trades["bars"].mean()) if len(trades) else None,
    }


def exposure(trades: pd.DataFrame, index: pd.DatetimeIndex) -> float:
    """Fraction of bars of ``index`` covered by at least one trade (entry bar..exit bar)."""
    if len(index) == 0:
        return 0.0
    if len(trades) == 0:
        return 0.0
    start = index.searchsorted(pd.DatetimeIndex(trades["entry_time"]))
    stop = index.searchsorted(pd.DatetimeIndex(trades["exit_time"]), side="right")
    cover = np.zeros(len(index) + 1, dtype=np.int64)
    np.add.at(cover, start, 1)
    np.add.at(cover, stop, -1)
    return float(np.count_nonzero(np.cumsum(cover)[:-1] > 0) / len(index))


def calculate_metrics(
    equity: pd.Series, trades: pd.DataFrame, *, initial: float, timeframe: str
) -> dict[str, Any]:
    """All metrics of the module docstring as a flat dict plus ``per_symbol``."""
    bar = pd.Timedelta(seconds=timeframe_seconds(timeframe))
    final = float(equity.iloc[-1]) if len(equity) else initial
    index = pd.DatetimeIndex(equity.index)
    years = ((index[-1] + bar - index[0]).total_seconds() / _YEAR_SECONDS) if len(index) else 0.0
    r = bar_returns(equity, initial)
    per_year = _YEAR_SECONDS / bar.total_seconds()
    std = float(np.std(r, ddof=1)) if len(r) > 1 else 0.0
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if len(r) else 0.0
    sharpe = _ratio(float(np.mean(r)), std) if len(r) > 1 else None
    sortino = _ratio(float(np.mean(r)), downside) if len(r) else None
    cagr = (final / initial) ** (1 / years) - 1 if years > 0 and final > 0 else None
    mdd = float(drawdown(equity, initial).max()) if len(equity) else 0.0
    dd_bars, dd_span = _longest_underwater(equity, initial, bar) if len(equity) else (0, None)
    metrics: dict[str, Any] = {
        "initial_capital": initial,
        "final_equity": final,
        "total_return": final / initial - 1,
        "cagr": cagr,
        "sharpe": sharpe * math.sqrt(per_year) if sharpe is not None else None,
        "sortino": sortino * math.sqrt(per_year) if sortino is not None else None,
        "calmar": _ratio(cagr, mdd) if cagr is not None else None,
        "max_drawdown": mdd,
        "max_drawdown_duration": str(dd_span) if dd_span is not None else None,
        "max_drawdown_bars": dd_bars,
        "exposure": exposure(trades, index),
        "bars": len(index),
        "start": str(index[0]) if len(index) else None,
        "end": str(index[-1]) if len(index) else None,
    }
    metrics.update(trade_stats(trades))
    metrics["per_symbol"] = {
        str(sym): trade_stats(group) for sym, group in trades.groupby("symbol", sort=True)
    }
    return metrics
