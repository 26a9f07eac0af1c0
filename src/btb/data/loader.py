"""DataLoader: candles from the local store, keyed ``"<SYMBOL>_<timeframe>"``.

Importing this module is light on purpose (pandas and btb's own data modules only; never
torch, lightgbm or ccxt): the backtester and the CLI load data without paying for them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from btb.data.resample import resample
from btb.data.store import OHLCVStore, normalize_symbol, slice_by_time
from btb.data.validate import DateLike, parse_date, timeframe_anchor, timeframe_delta
from btb.errors import DataError

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = "user_data/data"
DEFAULT_EXCHANGE = "binance"


def _data_section(config: Any) -> Any:
    """The ``data`` section of a full config, or ``config`` itself when it is the section."""
    if config is None:
        return {}
    try:
        section = config["data"]
    except (KeyError, TypeError, AttributeError):
        return config
    return {} if section is None else section


def _setting(section: Any, key: str, default: Any) -> Any:
    try:
        value = section[key]
    except (KeyError, TypeError, AttributeError):
        return default
    return default if value is None else value


def data_key(symbol: str, timeframe: str) -> str:
    """The key :meth:`DataLoader.load_data` uses: ``"BTCUSDT_1h"``."""
    return f"{normalize_symbol(symbol)}_{timeframe}"


class DataLoader:
    """Load market data for symbols and timeframes from the local Parquet store.

    ``config`` may be the full btb config (anything indexable with a ``"data"`` section),
    the data section itself, or a plain dict; keys used: ``data_dir`` (default
    ``user_data/data``), ``exchange`` (store folder, default ``binance``), and
    ``start_date`` / ``end_date`` (defaults for :meth:`load_data`).
    """

    def __init__(self, config: Any) -> None:
        """Initialize data loader with configuration."""
        self.config = config
        section = _data_section(config)
        self.data_dir = Path(str(_setting(section, "data_dir", DEFAULT_DATA_DIR)))
        self.exchange = str(_setting(section, "exchange", DEFAULT_EXCHANGE))
        self.default_start: DateLike = _setting(section, "start_date", None)
        self.default_end: DateLike = _setting(section, "end_date", None)
        self.store = OHLCVStore(self.data_dir)

    def load_data(
        self,
        symbols: Sequence[str] | str,
        timeframes: Sequence[str] | str,
        start_date: DateLike = None,
        end_date: DateLike = None,
    ) -> dict[str, pd.DataFrame]:
        """Load market data for given symbols and timeframes.

        Args:
            symbols: market symbols ("BTCUSDT"; "BTC/USDT" and "BTC_USDT" also work).
            timeframes: candle lengths ("1h", "4h"). A timeframe that is not stored is
                resampled from the coarsest stored finer one that divides it.
            start_date: first open time included (ISO string, UTC); None: config's
                ``start_date``, else from the first stored candle.
            end_date: open times before this are included (exclusive); None: config's
                ``end_date``, else up to the last stored candle.

        Returns:
            Dict mapping ``"<SYMBOL>_<timeframe>"`` (e.g. ``"BTCUSDT_1h"``) to canonical
            frames (columns open high low close volume, UTC index ``timestamp``).

        Raises:
            DataError: nothing stored (names symbol, timeframe and the path looked at),
            no candles in the range, or a bad date.
        """
        start = parse_date(start_date if start_date is not None else self.default_start, "start")
        end = parse_date(end_date if end_date is not None else self.default_end, "end")
        if start is not None and end is not None and start >= end:
            raise DataError(f"start {start.isoformat()} is not before end {end.isoformat()}")
        symbol_list = [symbols] if isinstance(symbols, str) else list(symbols)
        tf_list = [timeframes] if isinstance(timeframes, str) else list(timeframes)
        result: dict[str, pd.DataFrame] = {}
        for symbol in symbol_list:
            for timeframe in tf_list:
                result[data_key(symbol, timeframe)] = self.load(symbol, timeframe, start, end)
        return result

    def load(
        self,
        symbol: str,
        timeframe: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """One dataset with open times in ``[start, end)``; see :meth:`load_data`."""
        if self.store.has(self.exchange, symbol, timeframe):
            frame = self.store.read(self.exchange, symbol, timeframe, start, end)
        else:
            frame = self._load_resampled(symbol, timeframe, start, end)
        if frame.empty:
            path = self.store.path(self.exchange, symbol, timeframe)
            raise DataError(
                f"no {normalize_symbol(symbol)} {timeframe} candles between {start} and {end} "
                f"(exclusive) in {path}"
            )
        return frame

    def _finer_source(self, symbol: str, timeframe: str) -> str | None:
        """The coarsest stored timeframe that is finer than ``timeframe`` and divides it."""
        target = timeframe_delta(timeframe)
        candidates = [
            tf
            for tf in self.store.timeframes(self.exchange, symbol)
            if timeframe_delta(tf) < target and target.value % timeframe_delta(tf).value == 0
        ]
        return candidates[-1] if candidates else None

    def _load_resampled(
        self, symbol: str, timeframe: str, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> pd.DataFrame:
        source = self._finer_source(symbol, timeframe)
        if source is None:
            path = self.store.path(self.exchange, symbol, timeframe)
            stored = ", ".join(self.store.timeframes(self.exchange, symbol)) or "none"
            raise DataError(
                f"no {normalize_symbol(symbol)} {timeframe} data for {self.exchange}: {path} not "
                f"found and no finer timeframe to resample from (stored: {stored})"
            )
        logger.info("resampling %s %s -> %s", normalize_symbol(symbol), source, timeframe)
        step = timeframe_delta(timeframe)
        anchor = timeframe_anchor(timeframe)
        # Read whole coarse bars around the range so the edge bars are complete, then cut.
        fine_start = None if start is None else anchor + ((start - anchor) // step) * step
        fine_end = None if end is None else anchor + -((anchor - end) // step) * step
        fine = self.store.read(self.exchange, symbol, source, fine_start, fine_end)
        coarse = resample(fine, timeframe, source)
        return slice_by_time(coarse, start, end)
