"""Candles the simulator replays: what it serves as klines and matches orders against.

Each symbol holds one contiguous series at a base timeframe (e.g. 5m) in numpy arrays keyed by
candle OPEN time. At simulated time ``now`` the candles with ``open + base <= now`` are closed;
the one containing ``now`` is *forming*: the venue knows only its open, which is the current
price (what market orders fill at, exactly like the backtest fills a decision taken on bar t at
the open of bar t+1). Klines of longer intervals are aggregated from base candles on request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from btb.core.bar import Bar, timeframe_seconds
from btb.errors import DataError

_FILE_SUFFIXES = (".csv.gz", ".csv", ".parquet")


@dataclass(frozen=True, slots=True)
class Kline:
    """One candle as served: open time (ms), OHLCV, quote turnover; ``closed`` False if forming."""

    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    turnover: float
    closed: bool


class _Series:
    """One symbol's base candles as arrays (float64 market data)."""

    def __init__(self, symbol: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            raise DataError(f"simulator data for {symbol} is empty")
        index = pd.DatetimeIndex(frame.index)
        if index.tz is None:
            raise DataError(f"simulator data for {symbol}: index must be UTC-aware")
        self.ts = (index.as_unit("ms").asi8).astype(np.int64)
        diffs = np.diff(self.ts)
        if len(diffs) and (diffs <= 0).any():
            raise DataError(f"simulator data for {symbol}: timestamps must increase")
        self.base_ms = int(np.min(diffs)) if len(diffs) else 60_000
        if len(diffs) and (diffs != self.base_ms).any():
            row = int(np.argmax(diffs != self.base_ms)) + 1
            raise DataError(f"simulator data for {symbol}: gap or irregular step at row {row}")
        cols = {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")}
        self.open, self.high, self.low, self.close = (
            cols[c] for c in ("open", "high", "low", "close")
        )
        self.volume = frame["volume"].to_numpy(dtype=np.float64)

    def index_at(self, now_ms: int) -> int:
        """Index of the candle containing ``now_ms`` (may be -1 or len when outside the data)."""
        return int(np.searchsorted(self.ts, now_ms, side="right")) - 1


class MarketReplay:
    """Base-timeframe candles per symbol, served up to the simulator clock."""

    def __init__(self, frames: Mapping[str, pd.DataFrame] | None = None) -> None:
        self._series: dict[str, _Series] = {}
        for symbol, frame in (frames or {}).items():
            self.add(symbol, frame)

    def add(self, symbol: str, frame: pd.DataFrame) -> None:
        """Add ``frame`` (UTC DatetimeIndex by open time; open high low close volume)."""
        series = _Series(symbol, frame)
        if self._series and series.base_ms != self.base_ms:
            raise DataError(
                f"simulator data for {symbol} has step {series.base_ms} ms, others "
                f"{self.base_ms} ms: replay one base timeframe"
            )
        self._series[symbol] = series

    @property
    def symbols(self) -> list[str]:
        return sorted(self._series)

    @property
    def base_ms(self) -> int:
        return next(iter(self._series.values())).base_ms if self._series else 60_000

    @property
    def start_ms(self) -> int:
        """Open time of the earliest candle of any symbol."""
        return min(int(s.ts[0]) for s in self._series.values())

    @property
    def end_ms(self) -> int:
        """Close time of the latest candle of any symbol."""
        return max(int(s.ts[-1]) + s.base_ms for s in self._series.values())

    def has(self, symbol: str) -> bool:
        return symbol in self._series

    def _get(self, symbol: str) -> _Series:
        try:
            return self._series[symbol]
        except KeyError:
            raise DataError(f"simulator has no candles for {symbol}") from None

    def current_price(self, symbol: str, now_ms: int) -> float | None:
        """Open of the forming candle, or the last close once the data has run out."""
        s = self._get(symbol)
        i = s.index_at(now_ms)
        if i < 0:
            return None
        if i >= len(s.ts) - 1 and now_ms >= s.ts[-1] + s.base_ms:
            return float(s.close[-1])
        return float(s.open[i])

    def closed_between(self, symbol: str, after_ms: int, upto_ms: int) -> Iterator[Bar]:
        """Base candles whose close time is in ``(after_ms, upto_ms]``, oldest first."""
        s = self._get(symbol)
        closes = s.ts + s.base_ms
        lo = int(np.searchsorted(closes, after_ms, side="right"))
        hi = int(np.searchsorted(closes, upto_ms, side="right"))
        timeframe = _timeframe_name(s.base_ms)
        for i in range(lo, hi):
            yield Bar(
                symbol=symbol,
                timeframe=timeframe,
                open_time=pd.Timestamp(int(s.ts[i]), unit="ms", tz="UTC").to_pydatetime(),
                open=float(s.open[i]),
                high=float(s.high[i]),
                low=float(s.low[i]),
                close=float(s.close[i]),
                volume=float(s.volume[i]),
            )

    def klines(
        self,
        symbol: str,
        interval_ms: int,
        now_ms: int,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 200,
    ) -> list[Kline]:
        """Candles of ``interval_ms`` up to ``now_ms`` (the last one may be forming), oldest first.

        Like the exchanges: with only ``start_ms`` the ``limit`` oldest from there, otherwise the
        ``limit`` newest up to ``end_ms``.
        """
        s = self._get(symbol)
        if interval_ms % s.base_ms:
            raise DataError(
                f"interval {interval_ms} ms is not a multiple of the replayed {s.base_ms} ms"
            )
        visible = s.index_at(now_ms)  # forming base candle, included with its open only
        if visible < 0:
            return []
        visible = min(visible, len(s.ts) - 1)
        last_visible = min(now_ms, int(s.ts[visible]))
        lo, hi = _bucket_range(int(s.ts[0]), last_visible, interval_ms, start_ms, end_ms, limit)
        ratio = interval_ms // s.base_ms
        buckets = (
            self._bucket(s, b, ratio, visible, now_ms) for b in range(lo, hi + 1, interval_ms)
        )
        return [k for k in buckets if k is not None]

    @staticmethod
    def _bucket(s: _Series, bucket: int, ratio: int, visible: int, now_ms: int) -> Kline | None:
        i0 = int(np.searchsorted(s.ts, bucket, side="left"))
        i1 = min(int(np.searchsorted(s.ts, bucket + ratio * s.base_ms, side="left")), visible + 1)
        if i1 <= i0:
            return None
        closed_end = i1 if int(s.ts[i1 - 1]) + s.base_ms <= now_ms else i1 - 1
        if closed_end > i0:  # aggregate the closed part; a forming tail adds only its open
            hi = float(s.high[i0:closed_end].max())
            lo = float(s.low[i0:closed_end].min())
            close = float(s.close[closed_end - 1])
            vol = float(s.volume[i0:closed_end].sum())
            turnover = float((s.volume[i0:closed_end] * s.close[i0:closed_end]).sum())
        else:
            hi = lo = close = float(s.open[i0])
            vol = turnover = 0.0
        if closed_end < i1:
            hi, lo, close = (
                max(hi, float(s.open[i1 - 1])),
                min(lo, float(s.open[i1 - 1])),
                float(s.open[i1 - 1]),
            )
        full = closed_end == i1 and i1 - i0 == ratio
        return Kline(bucket, float(s.open[i0]), hi, lo, close, vol, turnover, closed=full)


def _bucket_range(
    first_ms: int,
    last_ms: int,
    interval_ms: int,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
) -> tuple[int, int]:
    """Open times of the first and last ``interval_ms`` candle to serve (lo > hi: none)."""
    lo = (first_ms // interval_ms) * interval_ms
    lo = lo if start_ms is None else max(lo, start_ms)
    lo = -(-lo // interval_ms) * interval_ms  # a start inside a candle begins at the next one
    hi = (last_ms // interval_ms) * interval_ms
    hi = hi if end_ms is None else (min(hi, end_ms) // interval_ms) * interval_ms
    if hi >= lo and (hi - lo) // interval_ms + 1 > limit:
        if start_ms is not None and end_ms is None:
            hi = lo + (limit - 1) * interval_ms  # from start: the oldest ``limit``
        else:
            lo = hi - (limit - 1) * interval_ms  # otherwise: the newest ``limit``
    return lo, hi


def _timeframe_name(ms: int) -> str:
    seconds = ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise DataError(f"base step {ms} ms is not a whole number of minutes")


def interval_ms_of(timeframe: str) -> int:
    """Milliseconds of a timeframe name such as ``"5m"`` (ValueError naming it otherwise)."""
    return timeframe_seconds(timeframe) * 1000


def read_candle_file(path: Path) -> pd.DataFrame:
    """A candle file: CSV(.gz) with ``timestamp`` (ms, open time) or a canonical Parquet frame."""
    if path.name.endswith(".parquet"):
        frame = pd.read_parquet(path)
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise DataError(f"{path}: parquet candles need a DatetimeIndex")
        return frame
    frame = pd.read_csv(path)
    if "timestamp" not in frame.columns:
        raise DataError(f"{path}: expected a 'timestamp' column (epoch ms, candle open time)")
    frame.index = pd.to_datetime(frame.pop("timestamp"), unit="ms", utc=True)
    return frame


def load_replay(
    path: str | Path, *, timeframe: str | None = None, symbols: list[str] | None = None
) -> MarketReplay:
    """Candles from a file, or a folder of ``BTC_USDT-5m.csv.gz`` or ``BTCUSDT-5m.parquet`` files.

    ``timeframe`` picks one when a folder holds several (default: the shortest found).
    """
    root = Path(path)
    if not root.exists():
        raise DataError(f"simulator data not found: {root}")
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.name.endswith(_FILE_SUFFIXES))
    )
    found: dict[str, dict[str, Path]] = {}
    for file in files:
        stem = file.name
        for suffix in _FILE_SUFFIXES:
            stem = stem.removesuffix(suffix)
        if "-" not in stem:
            raise DataError(f"{file}: name must be <SYMBOL>-<timeframe> (e.g. BTC_USDT-5m.csv.gz)")
        name, tf = stem.rsplit("-", 1)
        symbol = name.replace("_", "").replace("/", "").upper()
        found.setdefault(tf, {})[symbol] = file
    if not found:
        raise DataError(f"no candle files (*.csv.gz, *.csv, *.parquet) in {root}")
    tf = timeframe or min(found, key=timeframe_seconds)
    if tf not in found:
        raise DataError(f"no {tf} candles in {root} (found {', '.join(sorted(found))})")
    replay = MarketReplay()
    for symbol, file in sorted(found[tf].items()):
        if symbols is None or symbol in symbols:
            replay.add(symbol, read_candle_file(file))
    if not replay.symbols:
        raise DataError(f"none of {symbols} found in {root}")
    return replay
