"""Local Parquet store of OHLCV candles: one file per exchange, symbol and timeframe.

Layout: ``<data_dir>/<exchange>/<SYMBOL>-<timeframe>.parquet``, e.g.
``user_data/data/binance/BTCUSDT-1h.parquet``. Symbols are stored normalised
(``"BTC/USDT"``, ``"BTC_USDT"`` and ``"btcusdt"`` all become ``"BTCUSDT"``). Futures candles
live under ``<exchange>_futures`` (see :func:`store_exchange_name`) so spot and perpetual
prices of the same pair never mix.

Every file holds a canonical frame (see :mod:`btb.data.validate`); nothing with unsafe
defects is ever written. Writes go to a temporary file in the same folder that is then
renamed over the old one (``os.replace``), so a crash or a failing write leaves the
previous file whole.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from btb.data.validate import (
    INDEX_NAME,
    INDEX_UNIT,
    OHLCV_COLUMNS,
    check_ohlcv,
    ensure_canonical_shape,
    timeframe_delta,
)
from btb.errors import DataError

SUFFIX = ".parquet"
_SYMBOL_RE = re.compile(r"^[A-Z0-9]+$")
_EXCHANGE_RE = re.compile(r"^[a-z0-9_]+$")
OnConflict = Literal["error", "replace", "keep"]


def normalize_symbol(symbol: str) -> str:
    """``"BTC/USDT"``, ``"BTC_USDT"``, ``"BTC-USDT"``, ``"BTC/USDT:USDT"`` -> ``"BTCUSDT"``."""
    text = symbol.strip().upper().split(":", 1)[0]  # ccxt perpetuals: "BTC/USDT:USDT"
    text = text.replace("/", "").replace("_", "").replace("-", "")
    if not _SYMBOL_RE.match(text):
        raise DataError(f"invalid symbol {symbol!r} (expected e.g. BTCUSDT or BTC/USDT)")
    return text


def store_exchange_name(exchange: str, market: str | None = None) -> str:
    """Folder name for ``exchange``: spot as is, derivatives under ``<exchange>_futures``."""
    name = exchange.strip().lower()
    if not _EXCHANGE_RE.match(name):
        raise DataError(f"invalid exchange name {exchange!r} (letters, digits, underscore)")
    return name if market in (None, "", "spot") else f"{name}_futures"


def _utc(value: pd.Timestamp | None) -> pd.Timestamp | None:
    """``value`` in UTC; a naive timestamp is taken to be UTC already."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def slice_by_time(
    frame: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Rows of a sorted frame with open time in ``[start, end)`` (None: unbounded)."""
    index = pd.DatetimeIndex(frame.index)
    lo = 0 if start is None else int(index.searchsorted(start, side="left"))
    hi = len(frame) if end is None else int(index.searchsorted(end, side="left"))
    return frame.iloc[lo:hi]


@dataclass(frozen=True)
class DatasetInfo:
    """One stored file: what it holds and where."""

    exchange: str
    symbol: str
    timeframe: str
    rows: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    path: Path


@dataclass(frozen=True)
class AppendResult:
    """What :meth:`OHLCVStore.append` did."""

    path: Path
    added: int
    replaced: int
    total: int


class OHLCVStore:
    """Read, write and merge canonical OHLCV frames under ``data_dir``."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)

    def path(self, exchange: str, symbol: str, timeframe: str) -> Path:
        """Where the dataset lives (whether or not it exists)."""
        timeframe_delta(timeframe)
        name = f"{normalize_symbol(symbol)}-{timeframe}{SUFFIX}"
        return self.data_dir / store_exchange_name(exchange) / name

    def has(self, exchange: str, symbol: str, timeframe: str) -> bool:
        """True when the dataset file exists."""
        return self.path(exchange, symbol, timeframe).is_file()

    def read(
        self,
        exchange: str,
        symbol: str,
        timeframe: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Candles with open time in ``[start, end)`` (both optional, UTC).

        Raises DataError naming the symbol, timeframe and path when nothing is stored.
        """
        path = self.path(exchange, symbol, timeframe)
        if not path.is_file():
            raise DataError(
                f"no {normalize_symbol(symbol)} {timeframe} data for {exchange}: {path} not found"
            )
        frame = self._read_file(path)
        return slice_by_time(frame, _utc(start), _utc(end))

    def write(self, exchange: str, symbol: str, timeframe: str, df: pd.DataFrame) -> Path:
        """Replace the dataset with ``df`` atomically; DataError if ``df`` is not clean.

        Clean means: canonical shape, sorted, unique, no NaN, positive prices, consistent
        high/low, aligned times. Gaps are allowed (they are real exchange outages).
        """
        path = self.path(exchange, symbol, timeframe)
        report = check_ohlcv(df, timeframe, source=str(path))
        if report.errors or report.repairable:
            raise DataError(f"refusing to store defective data:\n{report.text()}")
        frame = ensure_canonical_shape(df, str(path))
        self._atomic_write(frame, path)
        return path

    def append(
        self,
        exchange: str,
        symbol: str,
        timeframe: str,
        df: pd.DataFrame,
        *,
        on_conflict: OnConflict = "error",
    ) -> AppendResult:
        """Merge ``df`` into the stored dataset (created if missing) and write atomically.

        Candles already stored with identical values are skipped. A stored candle that
        ``df`` gives different values for is a conflict: ``on_conflict="error"`` (default)
        raises DataError naming the timestamps, ``"replace"`` takes the new values,
        ``"keep"`` keeps the stored ones.
        """
        path = self.path(exchange, symbol, timeframe)
        new = ensure_canonical_shape(df, str(path))
        if not path.is_file():
            self.write(exchange, symbol, timeframe, new)
            return AppendResult(path, len(new), 0, len(new))
        old = self._read_file(path)
        new_rows = ~new.index.isin(old.index)
        replaced = self._conflicts(old, new, path, on_conflict)
        if not new_rows.any() and not replaced:
            return AppendResult(path, 0, 0, len(old))
        if replaced:
            old = old.copy()
            old.loc[replaced] = new.loc[replaced]
        merged = pd.concat([old, new[new_rows]]).sort_index(kind="stable")
        self.write(exchange, symbol, timeframe, merged)
        return AppendResult(path, int(new_rows.sum()), len(replaced), len(merged))

    @staticmethod
    def _conflicts(
        old: pd.DataFrame, new: pd.DataFrame, path: Path, on_conflict: OnConflict
    ) -> list[pd.Timestamp]:
        """Timestamps to overwrite with ``new`` values (empty unless ``replace``)."""
        common = new.index[new.index.isin(old.index)]
        if common.empty:
            return []
        differ = (old.loc[common].to_numpy() != new.loc[common].to_numpy()).any(axis=1)
        clashes = list(common[differ])
        if clashes and on_conflict == "error":
            first = ", ".join(ts.isoformat() for ts in clashes[:5])
            raise DataError(
                f"{path}: {len(clashes)} candle(s) already stored with different OHLCV values "
                f"(first: {first}); nothing written (on_conflict='replace' takes the new "
                "values, 'keep' the stored ones; CLI: --on-conflict)"
            )
        return clashes if on_conflict == "replace" else []

    def info(self, exchange: str, symbol: str, timeframe: str) -> DatasetInfo | None:
        """Rows and first/last open time of one dataset, or None when it is not stored."""
        path = self.path(exchange, symbol, timeframe)
        if not path.is_file():
            return None
        return self._info(path, store_exchange_name(exchange), normalize_symbol(symbol), timeframe)

    def last_timestamp(self, exchange: str, symbol: str, timeframe: str) -> pd.Timestamp | None:
        """Open time of the newest stored candle, or None when nothing is stored."""
        info = self.info(exchange, symbol, timeframe)
        return None if info is None else info.last

    def timeframes(self, exchange: str, symbol: str) -> list[str]:
        """Timeframes stored for ``symbol`` on ``exchange``, shortest first."""
        folder = self.data_dir / store_exchange_name(exchange)
        prefix = f"{normalize_symbol(symbol)}-"
        found = [
            p.name[len(prefix) : -len(SUFFIX)]
            for p in folder.glob(f"{prefix}*{SUFFIX}")
            if p.is_file()
        ]
        valid = []
        for tf in found:
            try:
                valid.append((timeframe_delta(tf), tf))
            except DataError:
                continue  # a stray file such as "BTCUSDT-old.parquet" is not a dataset
        return [tf for _, tf in sorted(valid)]

    def list_datasets(self) -> list[DatasetInfo]:
        """Every stored dataset with row count and first/last open time."""
        infos = []
        for path in sorted(self.data_dir.glob(f"*/*{SUFFIX}")):
            stem = path.name[: -len(SUFFIX)]
            symbol, _, timeframe = stem.rpartition("-")
            if not symbol or path.name.startswith("."):
                continue
            infos.append(self._info(path, path.parent.name, symbol, timeframe))
        return infos

    @staticmethod
    def _info(path: Path, exchange: str = "", symbol: str = "", timeframe: str = "") -> DatasetInfo:
        import pyarrow.parquet as pq

        try:
            times = pq.read_table(path, columns=[INDEX_NAME]).column(0)
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: unreadable dataset ({exc})") from None
        rows = len(times)
        first = pd.Timestamp(times[0].as_py()) if rows else None
        last = pd.Timestamp(times[rows - 1].as_py()) if rows else None
        return DatasetInfo(exchange, symbol, timeframe, rows, first, last, path)

    @staticmethod
    def _read_file(path: Path) -> pd.DataFrame:
        frame = _read_canonical(path)
        if frame is not None:
            return frame
        # Not laid out as this store writes it: pandas' reader converts what it can.
        try:
            frame = pd.read_parquet(path, engine="pyarrow")
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: unreadable dataset ({exc})") from None
        if list(frame.columns) != list(OHLCV_COLUMNS) or frame.index.name != INDEX_NAME:
            raise DataError(f"{path}: not a btb OHLCV dataset (columns {list(frame.columns)})")
        return ensure_canonical_shape(frame, str(path))

    @staticmethod
    def _atomic_write(frame: pd.DataFrame, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            frame.to_parquet(tmp, engine="pyarrow", index=True)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())  # data on disk before the rename makes it visible
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)


def _read_canonical(path: Path) -> pd.DataFrame | None:
    """A file in the store's own layout as a canonical frame, or None for any other layout.

    The columns go from Parquet into numpy one at a time and become the frame's columns as
    they are: no Arrow -> pandas conversion, no 2-D block copy. Arrow's allocator keeps the
    buffers it freed (compressed and decoded pages) unless told to release them; releasing
    after each column bounds the extra memory to one column's read buffers. For a million
    candles that is about half the peak memory of ``pd.read_parquet`` plus a canonical copy.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"{path}: unreadable dataset ({exc})") from None
    try:
        if not _is_canonical_schema(file.schema_arrow):
            return None
        pool = pa.default_memory_pool()
        columns = {}
        for name in (INDEX_NAME, *OHLCV_COLUMNS):
            chunks = file.read(columns=[name], use_threads=False).column(0)
            values = chunks.to_numpy()  # NaN/NaT where null, as pandas would read it
            # Own the data (a writable array, as pandas' reader gives): Arrow's buffer is
            # read-only, and pandas refuses to set values in a frame built on it.
            columns[name] = values if values.flags.writeable else values.copy()
            del chunks, values
            pool.release_unused()
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable dataset ({exc})") from None
    finally:
        file.close()
    index = pd.DatetimeIndex(
        columns.pop(INDEX_NAME), dtype=f"datetime64[{INDEX_UNIT}, UTC]", name=INDEX_NAME
    )
    # copy=False keeps one 1-D block per column: pandas would otherwise stack them (a copy).
    return pd.DataFrame(columns, index=index, copy=False)


def _is_canonical_schema(schema: Any) -> bool:
    """True for exactly what :meth:`OHLCVStore.write` produces: the five float64 columns,
    then the ``timestamp`` index column as UTC microseconds."""
    import pyarrow as pa

    names = [*OHLCV_COLUMNS, INDEX_NAME]
    if schema.names != names:
        return False
    if any(schema.field(c).type != pa.float64() for c in OHLCV_COLUMNS):
        return False
    if schema.field(INDEX_NAME).type != pa.timestamp(INDEX_UNIT, tz="UTC"):
        return False
    meta = schema.pandas_metadata or {}
    return bool(meta.get("index_columns") == [INDEX_NAME])


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); not possible on Windows, where it is skipped."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "AppendResult",
    "DatasetInfo",
    "OHLCVStore",
    "normalize_symbol",
    "store_exchange_name",
]
