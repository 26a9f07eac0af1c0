"""The canonical OHLCV frame, its checks, and the few repairs that are safe to do.

Canonical frame (what the store holds and every reader produces): columns
``open high low close volume`` as float64, a UTC :class:`pandas.DatetimeIndex` named
``timestamp`` holding the candle OPEN time, sorted ascending, unique.

:func:`check_ohlcv` finds every defect and reports each with a count and the first
(up to five) offending timestamps, in the order they appear in the data. :func:`repair`
fixes only what cannot change a price (row order, exact duplicate rows) and only when
asked; anything else raises :class:`~btb.errors.DataError` carrying the report.
Gaps are reported as warnings and never filled: inventing candles would invent prices.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd

from btb.core.bar import timeframe_seconds
from btb.errors import DataError

logger = logging.getLogger(__name__)

OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
INDEX_NAME = "timestamp"
#: Resolution of the canonical index (pandas 3's default resolution, so frames built
#: with ``pd.date_range(..., tz="UTC")`` compare equal dtype-for-dtype).
INDEX_UNIT: Literal["us"] = "us"
MAX_EXAMPLES = 5
#: Weekly candles open on Monday 00:00 UTC (as on Binance and Bybit). The Unix epoch was a
#: Thursday, so epoch-aligned weeks would start on Thursdays; 1970-01-05 is the first Monday.
WEEK_ANCHOR = pd.Timestamp("1970-01-05", tz="UTC")
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
DateLike = str | date | datetime | pd.Timestamp | None


def timeframe_delta(timeframe: str) -> pd.Timedelta:
    """Length of ``timeframe`` ("5m", "1h", "1d", "1w"); DataError for anything else."""
    try:
        return pd.Timedelta(seconds=timeframe_seconds(timeframe))
    except ValueError as exc:
        raise DataError(str(exc)) from None


def timeframe_anchor(timeframe: str) -> pd.Timestamp:
    """The instant candle boundaries of ``timeframe`` are counted from (UTC).

    Weeks start on Monday 00:00 UTC (:data:`WEEK_ANCHOR`); every other timeframe is
    aligned to the Unix epoch, so e.g. 4h candles open at 00:00, 04:00, ... UTC.
    """
    timeframe_delta(timeframe)
    return WEEK_ANCHOR if timeframe.endswith("w") else EPOCH


def parse_date(value: DateLike, name: str = "date") -> pd.Timestamp | None:
    """An ISO date/time string (or date, datetime, Timestamp) as a UTC Timestamp.

    Naive values are taken to be UTC; aware values are converted to UTC. None stays None.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"{name} {value!r} is not an ISO date or date-time") from None
    if pd.isna(ts):
        raise DataError(f"{name} {value!r} is not an ISO date or date-time")
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def open_times_ns(df: pd.DataFrame) -> np.ndarray:
    """The frame's open times as int64 nanoseconds since the epoch."""
    return np.asarray(pd.DatetimeIndex(df.index).as_unit("ns").asi8)


def canonical_frame(timestamps: pd.DatetimeIndex, values: np.ndarray) -> pd.DataFrame:
    """Build a canonical-shaped frame from UTC open times and an ``(n, 5)`` OHLCV array.

    Only the shape and dtypes are made canonical here; order and uniqueness are what
    :func:`check_ohlcv` judges, so readers never silently reorder a file.
    """
    index = pd.DatetimeIndex(timestamps)
    if index.tz is None:
        raise DataError("timestamps must be timezone-aware (UTC)")
    index = index.tz_convert("UTC").as_unit(INDEX_UNIT).rename(INDEX_NAME)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != len(OHLCV_COLUMNS) or array.shape[0] != len(index):
        raise DataError(f"expected {len(index)} rows of 5 OHLCV values, got shape {array.shape}")
    return pd.DataFrame(array, index=index, columns=list(OHLCV_COLUMNS))


def ensure_canonical_shape(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Return ``df`` with canonical columns, dtypes and index type; DataError if impossible.

    Extra columns are dropped. This does not sort or de-duplicate (see :func:`repair`).
    A frame that is canonical already is returned as a shallow copy: no 40 bytes a candle
    copied, and pandas' copy-on-write keeps the two frames independent.
    """
    if _is_canonical(df):
        return df.copy(deep=False)
    missing = [col for col in OHLCV_COLUMNS if col not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)}")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(f"{source}: index must be a DatetimeIndex of candle open times")
    try:
        values = df.loc[:, list(OHLCV_COLUMNS)].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{source}: OHLCV columns are not numeric ({exc})") from None
    return canonical_frame(df.index, values)


_CANONICAL_COLUMNS = pd.Index(list(OHLCV_COLUMNS))
_CANONICAL_INDEX_DTYPE = pd.DatetimeTZDtype(INDEX_UNIT, "UTC")


def _is_canonical(df: pd.DataFrame) -> bool:
    """Exactly what :func:`canonical_frame` would build from ``df`` (columns, their order,
    types and labels, the index type and name), with nothing else attached."""
    index, columns = df.index, df.columns
    return (
        isinstance(index, pd.DatetimeIndex)
        and index.dtype == _CANONICAL_INDEX_DTYPE
        and str(index.tz) == "UTC"
        and index.name == INDEX_NAME
        and columns.equals(_CANONICAL_COLUMNS)
        and columns.dtype == _CANONICAL_COLUMNS.dtype
        and columns.name is None
        and all(dtype == np.float64 for dtype in df.dtypes)
        and not df.attrs
    )


class IssueKind(enum.StrEnum):
    """Kinds of defect :func:`check_ohlcv` reports."""

    UNSORTED = "unsorted"
    DUPLICATE_EXACT = "duplicate_exact"
    DUPLICATE_CONFLICTING = "duplicate_conflicting"
    MISALIGNED = "misaligned"
    NAN = "nan"
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_VOLUME = "negative_volume"
    HIGH_LOW_INCONSISTENT = "high_low_inconsistent"
    GAP = "gap"


#: Defects :func:`repair` can fix without touching any price.
REPAIRABLE_KINDS = frozenset({IssueKind.UNSORTED, IssueKind.DUPLICATE_EXACT})
#: Defects that are reported but do not stop an import.
WARNING_KINDS = frozenset({IssueKind.GAP})


def _fmt_ts(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if ts.second == 0 else ts.isoformat()


@dataclass(frozen=True)
class Issue:
    """One kind of defect: how many, the first (up to 5) timestamps, and a sentence."""

    kind: IssueKind
    count: int
    first: tuple[pd.Timestamp, ...]
    description: str

    @property
    def severity(self) -> str:
        """``"warning"``, ``"repairable"`` or ``"error"``."""
        if self.kind in WARNING_KINDS:
            return "warning"
        return "repairable" if self.kind in REPAIRABLE_KINDS else "error"

    def line(self) -> str:
        """One human-readable line."""
        first = ", ".join(_fmt_ts(ts) for ts in self.first)
        return f"{self.severity.upper()} {self.kind}: {self.description}; first: {first}"


@dataclass(frozen=True)
class DataReport:
    """Result of :func:`check_ohlcv` for one frame."""

    source: str
    timeframe: str
    rows: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        """True when nothing at all was found (not even a gap)."""
        return not self.issues

    @property
    def errors(self) -> tuple[Issue, ...]:
        """Defects that no repair may fix (bad prices, NaN, conflicting duplicates...)."""
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def repairable(self) -> tuple[Issue, ...]:
        """Defects :func:`repair` fixes when asked (row order, exact duplicates)."""
        return tuple(i for i in self.issues if i.severity == "repairable")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """Reported only (gaps)."""
        return tuple(i for i in self.issues if i.severity == "warning")

    def issue(self, kind: IssueKind | str) -> Issue | None:
        """The issue of ``kind``, or None when the data has no such defect."""
        return next((i for i in self.issues if i.kind == kind), None)

    def header(self) -> str:
        """``source [tf]: N rows, first .. last``."""
        if self.first is None or self.last is None:
            return f"{self.source} [{self.timeframe}]: {self.rows} rows, empty"
        span = f"{_fmt_ts(self.first)} .. {_fmt_ts(self.last)} UTC"
        return f"{self.source} [{self.timeframe}]: {self.rows} rows, {span}"

    def text(self) -> str:
        """The full multi-line report."""
        lines = [self.header()]
        lines += [f"  {issue.line()}" for issue in self.issues] or ["  OK: no problems found"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def _examples(index: pd.Index, positions: Iterable[int]) -> tuple[pd.Timestamp, ...]:
    return tuple(index[int(p)] for p in list(positions)[:MAX_EXAMPLES])


def _order_issues(df: pd.DataFrame, ns: np.ndarray) -> list[Issue]:
    issues = []
    back = np.flatnonzero(ns[1:] < ns[:-1]) + 1
    if back.size:
        text = f"{back.size} row(s) earlier than the row before them"
        issues.append(Issue(IssueKind.UNSORTED, int(back.size), _examples(df.index, back), text))
    dup_rows = df.index.duplicated(keep="first")
    if dup_rows.any():
        issues += _duplicate_issues(df, dup_rows)
    return issues


def _duplicate_issues(df: pd.DataFrame, dup_rows: np.ndarray) -> list[Issue]:
    involved = df[df.index.isin(df.index[dup_rows])]
    distinct = involved.groupby(level=0).nunique(dropna=False).max(axis=1)
    conflicting = set(distinct.index[distinct > 1])
    # Timestamps in order of their first repeat in the data, not sorted by time.
    repeats = pd.unique(df.index[dup_rows])
    exact_ts = [ts for ts in repeats if ts not in conflicting]
    conflict_ts = [ts for ts in repeats if ts in conflicting]
    issues = []
    if exact_ts:
        extra = int(df.index[dup_rows].isin(exact_ts).sum())
        text = f"{extra} redundant row(s) repeating an identical candle"
        issues.append(Issue(IssueKind.DUPLICATE_EXACT, extra, tuple(exact_ts[:MAX_EXAMPLES]), text))
    if conflict_ts:
        n = len(conflict_ts)
        text = f"{n} timestamp(s) with two or more rows whose OHLCV values disagree"
        first = tuple(conflict_ts[:MAX_EXAMPLES])
        issues.append(Issue(IssueKind.DUPLICATE_CONFLICTING, n, first, text))
    return issues


def _value_issues(df: pd.DataFrame) -> list[Issue]:
    o, h, lo, c, v = (df[col].to_numpy() for col in OHLCV_COLUMNS)
    stacked = np.column_stack([o, h, lo, c, v])
    with np.errstate(invalid="ignore"):
        checks = [
            (
                IssueKind.NAN,
                ~np.isfinite(stacked).all(axis=1),
                "row(s) with a missing or infinite OHLCV value",
            ),
            (
                IssueKind.NON_POSITIVE_PRICE,
                (stacked[:, :4] <= 0).any(axis=1),
                "row(s) with a price <= 0",
            ),
            (IssueKind.NEGATIVE_VOLUME, v < 0, "row(s) with negative volume"),
            (
                IssueKind.HIGH_LOW_INCONSISTENT,
                (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (h < lo),
                "row(s) where high < max(open, close), low > min(open, close) or high < low",
            ),
        ]
    issues = []
    for kind, mask, text in checks:
        bad = np.flatnonzero(mask)
        if bad.size:
            issues.append(
                Issue(kind, int(bad.size), _examples(df.index, bad), f"{bad.size} {text}")
            )
    return issues


def _time_grid_issues(df: pd.DataFrame, ns: np.ndarray, timeframe: str) -> list[Issue]:
    step = timeframe_delta(timeframe).value
    anchor = timeframe_anchor(timeframe).value
    issues = []
    off = np.flatnonzero((ns - anchor) % step != 0)
    if off.size:
        text = f"{off.size} open time(s) not on a {timeframe} boundary (wrong timeframe or clock?)"
        issues.append(Issue(IssueKind.MISALIGNED, int(off.size), _examples(df.index, off), text))
    times = np.unique(ns)
    diffs = np.diff(times)
    # A pair of misaligned rows less than two steps apart hides no whole candle: not a gap.
    at = np.flatnonzero(diffs // step >= 2)
    if at.size:
        missing = diffs[at] // step - 1
        big = int(np.argmax(missing))
        first = tuple(pd.Timestamp(times[i] + step, tz="UTC") for i in at[:MAX_EXAMPLES])
        start = pd.Timestamp(times[at[big]] + step, tz="UTC")
        text = (
            f"{int(missing.sum())} missing candle(s) in {at.size} gap(s); largest "
            f"{int(missing[big])} from {_fmt_ts(start)}"
        )
        issues.append(Issue(IssueKind.GAP, int(missing.sum()), first, text))
    return issues


def check_ohlcv(df: pd.DataFrame, timeframe: str, source: str = "<frame>") -> DataReport:
    """Check an OHLCV frame (canonical columns, UTC DatetimeIndex) for every known defect.

    Args:
        df: frame to check; it may be unsorted or hold duplicates (that is what is checked).
        timeframe: candle length, e.g. ``"5m"``; used for the gap and alignment checks.
        source: file or dataset name used in the report and in error messages.

    Returns:
        A :class:`DataReport`; this function never raises for bad rows, only for a frame
        of the wrong shape (missing columns, non-datetime index).
    """
    frame = ensure_canonical_shape(df, source)
    ns = open_times_ns(frame)
    issues = _order_issues(frame, ns)
    issues += _value_issues(frame)
    issues += _time_grid_issues(frame, ns, timeframe)
    first = frame.index.min() if len(frame) else None
    last = frame.index.max() if len(frame) else None
    return DataReport(source, timeframe, len(frame), first, last, tuple(issues))


def repair(
    df: pd.DataFrame,
    report: DataReport,
    *,
    sort: bool = False,
    drop_exact_duplicates: bool = False,
) -> pd.DataFrame:
    """Fix the safe defects of ``report`` when asked; raise DataError for everything else.

    Only two repairs exist: sorting rows by open time (``sort``) and dropping rows that
    repeat an identical candle (``drop_exact_duplicates``; the first is kept). Conflicting
    duplicates, NaN, bad prices, inconsistent bars and misaligned times raise DataError
    with the report text, as does a repairable defect whose repair was not requested.
    Gaps are logged as a warning and left as they are.
    """
    if report.errors:
        raise DataError(f"unusable data, nothing stored:\n{report.text()}")
    if report.issue(IssueKind.UNSORTED) and not sort:
        raise DataError(
            f"rows are not in time order (repair with sort=True, CLI --repair-sort):\n"
            f"{report.text()}"
        )
    if report.issue(IssueKind.DUPLICATE_EXACT) and not drop_exact_duplicates:
        raise DataError(
            "exact duplicate rows (repair with drop_exact_duplicates=True, CLI "
            f"--drop-duplicates):\n{report.text()}"
        )
    frame = ensure_canonical_shape(df, report.source)
    if sort:
        frame = frame.sort_index(kind="stable")
    if drop_exact_duplicates:
        frame = frame[~frame.index.duplicated(keep="first")]
    for issue in report.warnings:
        logger.warning("%s [%s]: %s", report.source, report.timeframe, issue.line())
    return frame


def validate_frame(
    df: pd.DataFrame,
    timeframe: str,
    source: str,
    *,
    sort: bool = False,
    drop_exact_duplicates: bool = False,
) -> tuple[pd.DataFrame, DataReport]:
    """Check then :func:`repair`: the storable frame and the report of the input."""
    report = check_ohlcv(df, timeframe, source)
    return repair(df, report, sort=sort, drop_exact_duplicates=drop_exact_duplicates), report
