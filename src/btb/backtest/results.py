"""What a backtest run produces, in one format for both paths: trade, fill and equity tables.

Trades table (one row per round trip, :data:`TRADE_COLUMNS`): times are candle open times
(UTC) of the bars the entry and the exit filled in; prices are fill prices; ``fees`` covers
entry and exit; ``net_pnl = gross_pnl - fees``; ``return_pct`` is net PnL over the entry
notional in percent; ``bars`` counts bars from entry to exit.

Equity is rebuilt from fills and closes with one identity that holds for spot and linear
futures alike (see :mod:`btb.engine.portfolio`)::

    equity[t] = initial + sum over fills up to bar t of (-signed_qty * price - fee)
                - funding paid up to t + sum over symbols of qty[t] * close[t]

measured at each bar's close.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from btb.core.enums import ExitReason, PositionSide, Side
from btb.core.fill import Fill
from btb.core.trade import Trade
from btb.engine.portfolio import FundingEvent

TRADE_COLUMNS: tuple[str, ...] = (
    "trade_id",
    "symbol",
    "side",
    "quantity",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "gross_pnl",
    "fees",
    "net_pnl",
    "return_pct",
    "exit_reason",
    "bars",
)
FILL_COLUMNS: tuple[str, ...] = ("symbol", "time", "signed_qty", "price", "fee")
#: enum member -> stored string (``.value`` is a Python-level property: slow for many rows)
_VALUE: dict[Any, str] = {e: e.value for enum in (PositionSide, ExitReason) for e in enum}
_SIGN = {Side.BUY: 1.0, Side.SELL: -1.0}


@dataclass
class RunOutput:
    """Raw output of one path (event or fast) before metrics."""

    path: str
    trades: pd.DataFrame
    fills: pd.DataFrame
    funding: pd.DataFrame
    trade_objects: list[Trade] = field(default_factory=list)


def trades_frame(trades: Iterable[Trade], index_of: Mapping[str, pd.DatetimeIndex]) -> pd.DataFrame:
    """The trades table from core Trades; ``index_of`` maps symbol -> bar times (for bars)."""
    items = list(trades)
    # Column by column: much cheaper for pandas than inferring types from rows of objects.
    columns: dict[str, list[Any]] = {
        "trade_id": [t.trade_id for t in items],
        "symbol": [t.symbol for t in items],
        "side": [_VALUE[t.side] for t in items],
        "quantity": [float(t.quantity) for t in items],
        "entry_time": [t.entry_time for t in items],
        "entry_price": [float(t.entry_price) for t in items],
        "exit_time": [t.exit_time for t in items],
        "exit_price": [float(t.exit_price) for t in items],
        "gross_pnl": [float(t.gross_pnl) for t in items],
        "fees": [float(t.fees) for t in items],
        "net_pnl": [float(t.net_pnl) for t in items],
        "return_pct": [float(t.return_pct) for t in items],
        "exit_reason": [_VALUE[t.exit_reason] for t in items],
        "bars": [0] * len(items),
    }
    df = _typed_trades(_frame(columns, TRADE_COLUMNS))
    for symbol, idx in index_of.items():
        mine = (df["symbol"] == symbol).to_numpy()
        if mine.any():
            entry = idx.searchsorted(pd.DatetimeIndex(df.loc[mine, "entry_time"]))
            exit_ = idx.searchsorted(pd.DatetimeIndex(df.loc[mine, "exit_time"]))
            df.loc[mine, "bars"] = exit_ - entry
    return df


def _frame(columns: dict[str, list[Any]], names: tuple[str, ...]) -> pd.DataFrame:
    """A frame from column lists; empty, with the object columns rows would give (pandas
    types empty lists as float)."""
    if not next(iter(columns.values())):
        return pd.DataFrame([], columns=list(names))
    return pd.DataFrame(columns, columns=list(names))


def _typed_trades(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("entry_time", "exit_time"):
        df[col] = pd.to_datetime(df[col], utc=True)
    for col in ("quantity", "entry_price", "exit_price", "gross_pnl", "fees", "net_pnl"):
        df[col] = df[col].astype(np.float64)
    df["return_pct"] = df["return_pct"].astype(np.float64)
    df["bars"] = df["bars"].astype(np.int64)
    return df


def fills_frame(fills: Iterable[Fill]) -> pd.DataFrame:
    items = list(fills)
    columns: dict[str, list[Any]] = {
        "symbol": [f.symbol for f in items],
        "time": [f.ts for f in items],
        # exact: the quantity's float with the side's sign (Fill.signed_quantity as float)
        "signed_qty": [float(f.quantity) * _SIGN[f.side] for f in items],
        "price": [float(f.price) for f in items],
        "fee": [float(f.fee) for f in items],
    }
    df = _frame(columns, FILL_COLUMNS)
    df["time"] = pd.to_datetime(df["time"], utc=True)
    return df.astype({"signed_qty": np.float64, "price": np.float64, "fee": np.float64})


def funding_frame(events: Iterable[FundingEvent]) -> pd.DataFrame:
    rows = [(e.symbol, e.ts, float(e.amount)) for e in events]
    df = pd.DataFrame(rows, columns=["symbol", "time", "amount"])
    df["time"] = pd.to_datetime(df["time"], utc=True)
    return df.astype({"amount": np.float64})


def equity_curve(
    closes: Mapping[str, pd.Series],
    fills: pd.DataFrame,
    funding: pd.DataFrame,
    initial: float,
) -> pd.Series:
    """Equity at every bar close on the union of the symbols' bar times (module docstring)."""
    index = _union_index(closes.values())
    n = len(index)
    cash = np.zeros(n)
    marked = np.zeros(n)
    held = np.empty(n)  # reused per symbol: long runs keep few 8-byte-per-bar temporaries
    for symbol, close in closes.items():
        mine = fills[fills["symbol"] == symbol]
        at = _positions(index, mine["time"])
        signed = mine["signed_qty"].to_numpy()
        np.add.at(cash, at, -signed * mine["price"].to_numpy() - mine["fee"].to_numpy())
        held.fill(0.0)
        np.add.at(held, at, signed)
        np.cumsum(held, out=held)
        same = len(close) == n and close.index.equals(index)
        values = close.to_numpy(dtype=np.float64) if same else _aligned(close, index)
        held *= values  # qty held at each close times that close
        marked += held
    if len(funding):
        np.add.at(cash, _positions(index, funding["time"]), -funding["amount"].to_numpy())
    np.cumsum(cash, out=cash)
    cash += initial
    cash += marked
    return pd.Series(cash, index=index, name="equity")


def _aligned(close: pd.Series, index: pd.DatetimeIndex) -> np.ndarray[Any, Any]:
    """``close`` on ``index``, carried forward; 0 before the symbol's first candle (nothing
    can be held there)."""
    return np.nan_to_num(close.reindex(index).ffill().to_numpy(dtype=np.float64))


def _union_index(series: Iterable[pd.Series]) -> pd.DatetimeIndex:
    items = list(series)
    index = items[0].index
    for s in items[1:]:
        index = index.union(s.index)
    return pd.DatetimeIndex(index)


def _positions(index: pd.DatetimeIndex, times: pd.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Row of each time in ``index`` (every time must be a bar time)."""
    values = pd.DatetimeIndex(times)
    at = index.searchsorted(values)
    if len(at) and (at.max() >= len(index) or not (index[at] == values).all()):
        raise ValueError("a fill or funding time is not a bar time")
    return np.asarray(at, dtype=np.int64)
