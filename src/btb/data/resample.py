"""Aggregate candles to a coarser timeframe, never emitting a partial bar.

Coarse bars are aligned to UTC boundaries counted from the Unix epoch (so 4h bars open at
00:00, 04:00, ... and 1d bars at 00:00 UTC), except weekly bars, which open on Monday
00:00 UTC like Binance's and Bybit's (see :data:`btb.data.validate.WEEK_ANCHOR`).

Each coarse bar takes open = first open, high = max high, low = min low, close = last close,
volume = sum of volumes of its fine bars, and is emitted only when every one of its fine
bars is present: incomplete bars at the start, at the end or around a gap are dropped,
because a bar built from part of its interval would show a false range and volume.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from btb.data.validate import (
    INDEX_NAME,
    OHLCV_COLUMNS,
    canonical_frame,
    ensure_canonical_shape,
    open_times_ns,
    timeframe_anchor,
    timeframe_delta,
)
from btb.errors import DataError


def infer_timeframe_delta(df: pd.DataFrame) -> pd.Timedelta:
    """The smallest spacing between consecutive open times (needs two rows or more)."""
    if len(df) < 2:
        raise DataError("cannot infer the timeframe of fewer than two candles; pass it explicitly")
    diffs = np.diff(open_times_ns(df))
    positive = diffs[diffs > 0]
    if positive.size == 0:
        raise DataError("cannot infer the timeframe: all open times are equal")
    return pd.Timedelta(int(positive.min()), unit="ns")


def _check_ratio(fine: pd.Timedelta, coarse: pd.Timedelta, to_timeframe: str) -> int:
    if coarse <= fine:
        raise DataError(
            f"can only resample to a coarser timeframe: {to_timeframe} is not longer than {fine}"
        )
    ratio, rest = divmod(coarse.value, fine.value)
    if rest:
        raise DataError(f"{to_timeframe} is not a whole multiple of the source timeframe {fine}")
    return int(ratio)


def resample(
    df: pd.DataFrame, to_timeframe: str, from_timeframe: str | None = None
) -> pd.DataFrame:
    """Aggregate a canonical OHLCV frame to ``to_timeframe`` (complete bars only).

    Args:
        df: canonical frame (sorted, unique UTC open times on ``from_timeframe`` boundaries).
        to_timeframe: target, e.g. ``"4h"``; must be a whole multiple of the source.
        from_timeframe: source timeframe; inferred from the smallest spacing when omitted.

    Returns:
        A canonical frame of complete coarse bars, keyed by their open time.

    Raises:
        DataError: target not coarser / not a multiple, or input unsorted, duplicated or
        off its timeframe grid.
    """
    frame = ensure_canonical_shape(df, "resample input")
    coarse = timeframe_delta(to_timeframe)
    if from_timeframe is not None:
        fine = timeframe_delta(from_timeframe)
        fine_anchor = timeframe_anchor(from_timeframe).value
    else:
        fine = infer_timeframe_delta(frame)
        fine_anchor = 0
    ratio = _check_ratio(fine, coarse, to_timeframe)
    if not (frame.index.is_monotonic_increasing and frame.index.is_unique):
        raise DataError("resample input must be sorted by open time without duplicates")
    ns = open_times_ns(frame)
    if ((ns - fine_anchor) % fine.value).any():
        raise DataError(f"resample input has open times off the {fine} grid")
    anchor = timeframe_anchor(to_timeframe).value
    buckets = anchor + ((ns - anchor) // coarse.value) * coarse.value
    keys, starts, counts = np.unique(buckets, return_index=True, return_counts=True)
    if keys.size == 0:
        return frame.iloc[:0]
    values = frame.loc[:, list(OHLCV_COLUMNS)].to_numpy()
    ends = starts + counts - 1
    out = np.column_stack(
        [
            values[starts, 0],
            np.maximum.reduceat(values[:, 1], starts),
            np.minimum.reduceat(values[:, 2], starts),
            values[ends, 3],
            np.add.reduceat(values[:, 4], starts),
        ]
    )
    complete = counts == ratio
    index = pd.DatetimeIndex(pd.to_datetime(keys[complete], unit="ns", utc=True), name=INDEX_NAME)
    return canonical_frame(index, out[complete])
