"""Import candles from CSV files and freqtrade data folders into the store.

Readers turn a file into a canonical-shaped frame (columns and dtypes; row order as in the
file), every import runs :func:`btb.data.validate.validate_frame`, and only clean data is
merged into the store. Errors name the file and the line or row.

Accepted inputs:

* CSV (``.csv`` or ``.csv.gz``) with a header naming ``open high low close volume`` and a
  time column (``timestamp``, ``date``, ``datetime``, ``time``, ``open_time`` or ``ts``)
  holding epoch seconds, milliseconds or microseconds, or ISO-8601 strings (without a
  zone they are taken as UTC). The time format found is reported.
* freqtrade ``<PAIR>-<tf>.feather`` (columns ``date open high low close volume``) and
  ``<PAIR>-<tf>.json`` / ``.json.gz`` (a list of ``[ms, open, high, low, close, volume]``),
  including futures files ``BTC_USDT_USDT-1h-futures.feather`` (stored under
  ``<exchange>_futures``). Other freqtrade candle types (mark, index, funding_rate) are
  skipped.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from btb.data.store import OHLCVStore, OnConflict, normalize_symbol, store_exchange_name
from btb.data.validate import OHLCV_COLUMNS, DataReport, canonical_frame, validate_frame
from btb.errors import DataError

logger = logging.getLogger(__name__)

FileFormat = Literal["auto", "csv", "feather", "json"]
TIME_COLUMNS = ("timestamp", "date", "datetime", "time", "open_time", "ts")
_NAME_RE = re.compile(
    r"^(?P<pair>[A-Za-z0-9_]+)-(?P<tf>\d+[mhdw])(?:-(?P<kind>[A-Za-z_]+))?"
    r"\.(?P<ext>csv|csv\.gz|feather|json|json\.gz)$"
)
_ZONE_RE = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")
#: Upper bounds (exclusive) of epoch magnitudes for seconds, ms and us in any plausible era.
EpochUnit = Literal["s", "ms", "us"]
_EPOCH_UNITS: tuple[tuple[float, EpochUnit], ...] = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
#: What reading a damaged file raises: a truncated gzip stream is an EOFError (which click
#: would turn into a bare "Aborted!") and corrupt compressed data a zlib.error.
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError)


@dataclass(frozen=True)
class DatasetName:
    """What a file name says: ``BTC_USDT_USDT-1h-futures.feather`` -> BTCUSDT, 1h, futures."""

    symbol: str
    timeframe: str
    market: str  # "spot" or "futures"
    candle_type: str  # "" (price candles), "futures", or e.g. "mark", "funding_rate"
    fmt: str  # "csv", "feather" or "json"


@dataclass(frozen=True)
class ImportResult:
    """One imported file."""

    source: Path
    exchange: str
    symbol: str
    timeframe: str
    rows_read: int
    added: int
    replaced: int
    total: int
    store_path: Path
    time_format: str
    report: DataReport


def parse_dataset_name(path: str | Path) -> DatasetName | None:
    """Symbol, timeframe and market from a freqtrade-style file name, or None."""
    match = _NAME_RE.match(Path(path).name)
    if not match:
        return None
    pair, kind = match["pair"], (match["kind"] or "").lower()
    parts = pair.split("_")
    if kind and len(parts) == 3:
        parts = parts[:2]  # freqtrade futures candles: BASE_QUOTE_SETTLE-<tf>-<candle type>
    market = "futures" if kind else "spot"
    fmt = match["ext"].split(".")[0]
    return DatasetName(normalize_symbol("".join(parts)), match["tf"], market, kind, fmt)


def detect_format(path: Path) -> str:
    """``csv``, ``feather`` or ``json`` from the file suffix."""
    name = path.name.lower()
    for fmt, suffixes in (
        ("csv", (".csv", ".csv.gz")),
        ("feather", (".feather",)),
        ("json", (".json", ".json.gz")),
    ):
        if name.endswith(suffixes):
            return fmt
    raise DataError(f"{path}: unknown file type (expected .csv, .csv.gz, .feather or .json)")


def _epoch_unit(values: np.ndarray, path: Path, column: str) -> EpochUnit:
    low, high = float(np.abs(values).min()), float(np.abs(values).max())
    for bound, unit in _EPOCH_UNITS:
        if high < bound:
            if low < bound / 1000 and unit != "s":
                raise DataError(f"{path}: column '{column}' mixes epoch units ({low} .. {high})")
            return unit
    raise DataError(f"{path}: column '{column}' values too large for an epoch ({high})")


def _parse_times(raw: pd.Series, path: Path, column: str) -> tuple[pd.DatetimeIndex, str]:
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.notna().all():
        values = numbers.to_numpy()
        unit = _epoch_unit(values, path, column)
        if (values == np.round(values)).all():
            values = values.astype(np.int64)
        index = pd.DatetimeIndex(pd.to_datetime(values, unit=unit, utc=True))
        names = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}
        return index, f"column '{column}': epoch {names[unit]}"
    if numbers.notna().any():
        line = int(np.flatnonzero(numbers.isna().to_numpy())[0]) + 2
        raise DataError(f"{path}: line {line}: '{column}' mixes numbers and text")
    parsed = pd.to_datetime(raw, format="ISO8601", utc=True, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        line, value = int(bad[0]) + 2, raw.iloc[int(bad[0])]
        raise DataError(f"{path}: line {line}: '{column}' value {value!r} is not an ISO date")
    zoned = raw.str.strip().str.contains(_ZONE_RE)
    zone = (
        "with UTC offsets, converted to UTC"
        if zoned.all()
        else "without a zone, taken as UTC"
        if not zoned.any()
        else "some with a UTC offset, the rest taken as UTC"
    )
    return pd.DatetimeIndex(parsed), f"column '{column}': ISO-8601 strings ({zone})"


def _explain_bad_line(path: Path, line_no: int, header: list[str]) -> str:
    """Why CSV line ``line_no`` (1-based) is malformed, read with the csv module."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        for number, fields in enumerate(csv.reader(handle), start=1):
            if number != line_no:
                continue
            if len(fields) != len(header):
                return f"{len(fields)} field(s), expected {len(header)}"
            empty = [name for name, value in zip(header, fields, strict=True) if not value.strip()]
            return f"empty value in column(s) {', '.join(empty)}"
    return "unreadable line"


def read_csv_ohlcv(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read a CSV (optionally gzip) into a canonical-shaped frame; also say the time format."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed CSV: {str(exc).strip()}") from None
    except (*_READ_ERRORS, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read CSV ({type(exc).__name__}: {exc})") from None
    header = [str(c) for c in raw.columns]
    raw.columns = [c.strip().lower() for c in header]
    time_col = next((c for c in TIME_COLUMNS if c in raw.columns), None)
    missing = [c for c in OHLCV_COLUMNS if c not in raw.columns]
    if time_col is None or missing:
        need = "a time column (" + "/".join(TIME_COLUMNS) + ")" if time_col is None else ""
        what = ", ".join([*missing, need] if need else missing)
        raise DataError(f"{path}: header {header} lacks {what}")
    used = raw[[time_col, *OHLCV_COLUMNS]]
    if used.empty:  # a header and no rows: an empty frame (import_file refuses to store it)
        return canonical_frame(pd.DatetimeIndex([], tz="UTC"), np.empty((0, 5))), "no rows"
    empty = np.flatnonzero((used.apply(lambda col: col.str.strip()) == "").any(axis=1).to_numpy())
    if empty.size:
        line = int(empty[0]) + 2
        raise DataError(f"{path}: line {line}: {_explain_bad_line(path, line, header)}")
    values = used[list(OHLCV_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    for column in OHLCV_COLUMNS:
        bad = np.flatnonzero(values[column].isna().to_numpy() & ~_nan_text(used[column]))
        if bad.size:
            line, text = int(bad[0]) + 2, used[column].iloc[int(bad[0])]
            raise DataError(f"{path}: line {line}: '{column}' value {text!r} is not a number")
    index, note = _parse_times(used[time_col], path, time_col)
    return canonical_frame(index, values.to_numpy(dtype=np.float64)), note


def _nan_text(column: pd.Series) -> np.ndarray:
    """Cells that spell NaN on purpose (kept as NaN for the validator to report)."""
    return column.str.strip().str.lower().isin(["nan", "null"]).to_numpy()


def read_freqtrade_feather(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read a freqtrade ``.feather`` candle file (columns date, open..volume)."""
    path = Path(path)
    try:
        raw = pd.read_feather(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read feather file ({exc})") from None
    missing = [c for c in ("date", *OHLCV_COLUMNS) if c not in raw.columns]
    if missing:
        raise DataError(f"{path}: feather file lacks column(s) {', '.join(missing)}")
    dates = raw["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        raise DataError(f"{path}: column 'date' is {dates.dtype}, expected datetimes")
    index = pd.DatetimeIndex(dates)
    zone = "UTC datetimes" if index.tz is not None else "naive datetimes, taken as UTC"
    index = index.tz_localize("UTC") if index.tz is None else index
    try:
        values = raw[list(OHLCV_COLUMNS)].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: OHLCV columns are not numeric ({exc})") from None
    return canonical_frame(index, values), f"column 'date': {zone}"


def read_freqtrade_json(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read a freqtrade ``.json`` / ``.json.gz`` file: ``[[ms, o, h, l, c, v], ...]``."""
    path = Path(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt") as handle:
            rows: Any = json.load(handle)
    except (*_READ_ERRORS, ValueError) as exc:
        raise DataError(f"{path}: cannot read JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(rows, list):
        raise DataError(f"{path}: expected a JSON list of [ms, open, high, low, close, volume]")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != 6:
            raise DataError(f"{path}: row {number}: expected 6 values, got {row!r}")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in row):
            raise DataError(f"{path}: row {number}: non-numeric value in {row!r}")
    array = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    index = pd.DatetimeIndex(pd.to_datetime(array[:, 0].astype(np.int64), unit="ms", utc=True))
    return canonical_frame(index, array[:, 1:]), "first element: epoch milliseconds"


def read_ohlcv_file(path: str | Path, fmt: FileFormat = "auto") -> tuple[pd.DataFrame, str]:
    """Read any supported file into a canonical-shaped frame plus a time-format note."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    kind = detect_format(path) if fmt == "auto" else fmt
    readers = {
        "csv": read_csv_ohlcv,
        "feather": read_freqtrade_feather,
        "json": read_freqtrade_json,
    }
    if kind not in readers:
        raise DataError(f"{path}: unknown format {fmt!r} (csv, feather, json or auto)")
    return readers[kind](path)


def _resolve_name(path: Path, symbol: str | None, timeframe: str | None) -> tuple[str, str, str]:
    """Symbol, timeframe and market for ``path``: arguments win over the file name."""
    name = parse_dataset_name(path)
    if name is not None and name.candle_type not in ("", "futures"):
        raise DataError(f"{path}: freqtrade '{name.candle_type}' candles are not price candles")
    sym = symbol or (name.symbol if name else None)
    tf = timeframe or (name.timeframe if name else None)
    if sym is None or tf is None:
        raise DataError(
            f"{path}: cannot tell symbol/timeframe from the file name "
            "(expected e.g. BTC_USDT-1h.csv.gz); pass symbol and timeframe"
        )
    return normalize_symbol(sym), tf, name.market if name else "spot"


def import_file(
    store: OHLCVStore,
    path: str | Path,
    *,
    exchange: str,
    symbol: str | None = None,
    timeframe: str | None = None,
    fmt: FileFormat = "auto",
    repair_sort: bool = False,
    drop_duplicates: bool = False,
    on_conflict: OnConflict = "error",
) -> ImportResult:
    """Read, validate (repairing only what is asked) and merge one file into ``store``.

    Symbol and timeframe come from the arguments or else the file name. Nothing is stored
    when the file holds no candles, when the data has unsafe defects (DataError carries the
    report) or when it disagrees with candles already stored, unless ``on_conflict`` is
    ``"replace"`` (take the file's values) or ``"keep"`` (keep the stored ones).
    """
    path = Path(path)
    sym, tf, market = _resolve_name(path, symbol, timeframe)
    frame, note = read_ohlcv_file(path, fmt)
    if frame.empty:
        raise DataError(f"{path}: no candles in the file; nothing stored")
    clean, report = validate_frame(
        frame, tf, str(path), sort=repair_sort, drop_exact_duplicates=drop_duplicates
    )
    target = store_exchange_name(exchange, market)
    result = store.append(target, sym, tf, clean, on_conflict=on_conflict)
    logger.info("imported %s -> %s (%d new rows)", path, result.path, result.added)
    return ImportResult(
        path, target, sym, tf, len(frame), result.added, result.replaced, result.total,
        result.path, note, report,
    )  # fmt: skip


def freqtrade_files(directory: str | Path) -> list[Path]:
    """Candle files of a freqtrade data folder (and its ``futures/`` sub-folder)."""
    folder = Path(directory)
    found = [p for d in (folder, folder / "futures") if d.is_dir() for p in sorted(d.iterdir())]
    files = []
    for path in found:
        name = parse_dataset_name(path)
        if name is None or not path.is_file():
            continue
        if name.candle_type not in ("", "futures"):
            logger.info("skipping %s: freqtrade '%s' candles", path, name.candle_type)
            continue
        files.append(path)
    return files


def import_path(
    store: OHLCVStore,
    path: str | Path,
    *,
    exchange: str,
    symbol: str | None = None,
    timeframe: str | None = None,
    fmt: FileFormat = "auto",
    repair_sort: bool = False,
    drop_duplicates: bool = False,
    on_conflict: OnConflict = "error",
) -> list[ImportResult]:
    """Import one file, or every candle file of a freqtrade folder.

    For a folder, ``symbol`` and ``timeframe`` filter which files are imported. Files are
    imported one by one (each write atomic); the first bad file stops the import with a
    DataError naming it, leaving the files before it imported.
    """
    path = Path(path)
    options: dict[str, Any] = {
        "exchange": exchange, "fmt": fmt, "repair_sort": repair_sort,
        "drop_duplicates": drop_duplicates, "on_conflict": on_conflict,
    }  # fmt: skip
    if path.is_file():
        return [import_file(store, path, symbol=symbol, timeframe=timeframe, **options)]
    if not path.is_dir():
        raise DataError(f"{path}: no such file or folder")
    wanted_symbol = normalize_symbol(symbol) if symbol else None
    results = []
    for file in freqtrade_files(path):
        name = parse_dataset_name(file)
        assert name is not None  # freqtrade_files keeps only parsable names
        if (wanted_symbol and name.symbol != wanted_symbol) or (
            timeframe and name.timeframe != timeframe
        ):
            continue
        if fmt != "auto" and name.fmt != fmt:
            continue
        results.append(import_file(store, file, **options))
    if not results:
        raise DataError(f"{path}: no candle files to import (expected e.g. BTC_USDT-1h.feather)")
    return results
