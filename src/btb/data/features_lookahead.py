"""Look-ahead detection for any feature function: does row ``t`` change when later rows appear?

A feature is look-ahead free when its value at row ``t`` depends only on rows ``0..t``. That is
testable without knowing how it is computed: compute it on the prefix ``data[0..cut]`` and on the
whole frame; every row ``<= cut`` must agree. :func:`find_lookahead` does this for several cut
points and reports each column that differs (``shift(-k)``, centred windows, ``bfill``, statistics
over the whole frame all show up). The backtester's ``--check-lookahead`` reuses it.

Agreement means: both NaN, or equal, or ``|a - b| <= atol + rtol * |b|`` (``rtol`` defaults to
1e-9 so a function whose reductions depend on array length, e.g. NumPy's pairwise summation, is
not flagged for rounding noise; btb's own features agree bit for bit and are tested with 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from btb.errors import DataError


@dataclass(frozen=True)
class LeakReport:
    """One column whose past values changed when rows after ``cut`` were present."""

    column: str
    cut: int  # position of the last row of the prefix
    row: int  # first position (<= cut) where prefix and full results differ
    timestamp: Any  # index label of ``row``
    prefix_value: Any  # value computed without the future rows
    full_value: Any  # value computed with them
    n_rows: int  # how many rows <= cut differ

    def __str__(self) -> str:
        return (
            f"{self.column}: row {self.row} ({self.timestamp}) is {self.prefix_value!r} on "
            f"rows [0, {self.cut}] but {self.full_value!r} on the whole frame "
            f"({self.n_rows} rows differ)"
        )


def find_lookahead(
    compute: Callable[[pd.DataFrame], pd.DataFrame],
    data: pd.DataFrame,
    cut_points: Iterable[int],
    *,
    rtol: float = 1e-9,
    atol: float = 0.0,
) -> list[LeakReport]:
    """Compare ``compute(data.iloc[:cut + 1])`` with ``compute(data)`` on rows ``<= cut``.

    ``compute`` must return a frame indexed like its input (rows are matched by index label,
    which must be unique). Returns one :class:`LeakReport` per (column, cut) that differs; an
    empty list means no look-ahead was detected at these cut points.
    """
    if not data.index.is_unique:
        raise DataError("find_lookahead needs a unique index to match rows")
    full = compute(data)
    reports: list[LeakReport] = []
    for cut in sorted(set(cut_points)):
        if not 0 <= cut < len(data):
            raise DataError(f"cut point {cut} outside [0, {len(data) - 1}]")
        labels = data.index[: cut + 1]
        got = compute(data.iloc[: cut + 1]).reindex(labels)
        want = full.reindex(labels)
        for column in _columns(got, want):
            report = _compare_column(column, got, want, cut, rtol, atol)
            if report is not None:
                reports.append(report)
    return reports


def _columns(got: pd.DataFrame, want: pd.DataFrame) -> list[str]:
    names = [str(c) for c in want.columns]
    return names + [str(c) for c in got.columns if str(c) not in names]


def _values(frame: pd.DataFrame, column: str) -> np.ndarray[Any, Any]:
    if column not in frame.columns:  # a column that exists only with (or without) the future
        return np.full(len(frame), np.nan)
    series = frame[column]
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return series.to_numpy(dtype=object)


def _compare_column(
    column: str, got: pd.DataFrame, want: pd.DataFrame, cut: int, rtol: float, atol: float
) -> LeakReport | None:
    a, b = _values(got, column), _values(want, column)
    if a.dtype == np.float64 and b.dtype == np.float64:
        with np.errstate(invalid="ignore"):
            same = (
                (a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= atol + rtol * np.abs(b))
            )
    else:
        same = np.array([x == y or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True)])
    bad = np.flatnonzero(~same)
    if bad.size == 0:
        return None
    row = int(bad[0])
    return LeakReport(
        column=column,
        cut=cut,
        row=row,
        timestamp=got.index[row],
        prefix_value=a[row].item() if hasattr(a[row], "item") else a[row],
        full_value=b[row].item() if hasattr(b[row], "item") else b[row],
        n_rows=int(bad.size),
    )
