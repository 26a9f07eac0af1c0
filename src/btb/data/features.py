"""Feature engineering for market data: 37 causal, mostly scale-free features per candle.

Input is the canonical OHLCV frame: float columns ``open high low close volume``, one row per
candle keyed by its OPEN time (UTC ``DatetimeIndex``, ascending). Row ``t``'s features use rows
``0..t`` only, so they are usable once candle ``t`` has closed; :func:`find_lookahead` proves this
for any feature function. Indicators come from TA-Lib (unstable period 0: recursive indicators
are seeded from the first rows of the frame, which is causal). Prices are divided out wherever
possible so one model can see several symbols. Notation: ``c h l v`` = close high low volume,
``c[t-k]`` = k rows back, ``EMA_n``/``SMA_n`` = TA-Lib moving averages, ``sum_n`` = trailing
n-row sum, ``std_n`` = population std (ddof=0) of the last n values. The default periods give:

================ ========================================================================== =======
feature          definition                                                                 warm-up
================ ========================================================================== =======
price_change     c[t] / c[t-1] - 1 (one-bar return)                                         1
price_change_k   c[t] / c[t-k] - 1, k = 2 5 10 20                                           k
volatility_n     std_n(price_change), n = 5 10 20                                           n
hl_range         (h - l) / c                                                                0
close_location   (c - l) / (h - l); 0.5 when h == l                                         0
volume_change    (v[t] - v[t-1]) / (v[t] + v[t-1]) in [-1, 1]; 0 if 0/0                     1
volume_ratio     v / SMA_20(v); 1 when the average is 0                                     19
volume_std       std_20(v) / SMA_20(v) (coefficient of variation); 0/0→0                    19
obv_change_20    sum_20(sign(c[t]-c[t-1]) * v) / sum_20(v) in [-1, 1]                       20
ema_cross_9_21   (EMA_9 - EMA_21) / c (sign = which EMA is on top)                          20
ema_cross_21_50  (EMA_21 - EMA_50) / c                                                      49
dist_ema_50      c / EMA_50 - 1                                                             49
macd             MACD line (EMA_12 - EMA_26) / c                                            33
macd_signal      signal line (EMA_9 of the MACD line) / c                                   33
macd_histogram   (MACD line - signal line) / c                                              33
adx_14           ADX(14), 0..100                                                            27
bb_position      (c - lower) / (upper - lower), BBANDS(20, 2σ, SMA)                         19
bb_width         (upper - lower) / middle                                                   19
rsi_n            Wilder RSI(n), 0..100, n = 7 14 21                                         n
stoch_k, stoch_d STOCH(14) slow %K (SMA 3 of fast %K), %D = SMA 3 of %K                     17
williams_r       Williams %R(14), -100..0                                                   13
cci              CCI(20) = (tp - SMA_20(tp)) / (0.015 · mean |tp - SMA_20|), tp = (h+l+c)/3 19
mfi              MFI(14), 0..100 (0 when the window has no volume)                          14
atr_ratio        ATR(14) (Wilder) / c                                                       14
hour             UTC hour of the candle's open time, 0..23                                  0
day_of_week      UTC weekday of the open time, Monday = 0 … Sunday = 6                      0
is_weekend       1 on Saturday/Sunday (UTC), else 0                                         0
is_london_open   1 if a weekday and 07:00 <= open time < 16:00 UTC                          0
is_ny_open       1 if a weekday and 13:00 <= open time < 21:00 UTC                          0
================ ========================================================================== =======

Sessions use fixed UTC hours (no daylight-saving shifts): London 08:00–16:30 local is 07:00–15:30
UTC in summer and 08:00–16:30 UTC in winter, so 07–16 UTC covers its core either way; New York
equities 09:30–16:00 local is 13:30–21:00 UTC at the widest. Both are 0 on weekends, when those
markets are closed. Flat windows follow TA-Lib (RSI, %K, %R, CCI, ADX give 0; never NaN).
``WARMUP_ROWS`` (49 by default) is the largest warm-up: rows before it have some NaN feature and
every feature is finite from it on. Periods are configurable (``FeatureEngineering({"rsi_periods":
[7, 14]})``); list-valued families name their columns after the period, the seed's fixed names
(``bb_position``, ``cci``, …) keep their names. Unknown config keys raise ConfigError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from btb.data.features_indicators import (
    TEMPORAL_NAMES,
    Columns,
    FeatureParams,
    FloatArray,
    technical_features,
    temporal_features,
    warmup_by_feature,
)
from btb.data.features_lookahead import LeakReport, find_lookahead
from btb.data.features_scaling import METHODS, Scaler, check_method
from btb.errors import ConfigError, DataError

__all__ = [
    "FEATURE_NAMES",
    "METHODS",
    "OHLCV_COLUMNS",
    "WARMUP_ROWS",
    "FeatureEngineering",
    "FeatureParams",
    "LeakReport",
    "Scaler",
    "compute_features",
    "find_lookahead",
]

OHLCV_COLUMNS = ("open", "high", "low", "close", "volume")
# Smallest period each parameter accepts (TA-Lib rejects 1 for most of its averages).
_MIN_PERIOD = {
    "price_change_periods": 1,
    "volume_period": 1,
    "obv_periods": 1,
    "stoch_k_period": 1,
    "stoch_smooth": 1,
    "stoch_d_period": 1,
    "atr_period": 1,
}


def _parse_int(value: Any, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"must be an integer >= {minimum}, got {value!r}", key_path=key)
    return int(value)


def _parse_value(name: str, value: Any, default: Any) -> Any:
    key, minimum = f"features.{name}", _MIN_PERIOD.get(name, 2)
    if name == "bb_std":
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigError(f"must be a number > 0, got {value!r}", key_path=key)
        return float(value)
    if name in ("london_hours", "ny_hours"):
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ConfigError("must be [start_hour, end_hour] in UTC", key_path=key)
        hours = tuple(_parse_int(h, key, 0) for h in value)
        if max(hours) > 24:
            raise ConfigError(f"hours must be within 0..24, got {list(value)}", key_path=key)
        return hours
    if isinstance(default, int):
        return _parse_int(value, key, minimum)
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"must be a non-empty list, got {value!r}", key_path=key)
    if name == "ema_cross_pairs":
        return tuple(_parse_pair(p, f"{key}[{i}]") for i, p in enumerate(value))
    periods = tuple(_parse_int(v, f"{key}[{i}]", minimum) for i, v in enumerate(value))
    if len(set(periods)) != len(periods):
        raise ConfigError(f"periods must be distinct, got {list(periods)}", key_path=key)
    return periods


def _parse_pair(value: Any, key: str) -> tuple[int, int]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ConfigError(f"must be a [fast, slow] pair, got {value!r}", key_path=key)
    fast, slow = (_parse_int(v, key, 2) for v in value)
    if fast >= slow:
        raise ConfigError(f"fast period must be < slow period, got {list(value)}", key_path=key)
    return fast, slow


def parse_params(config: dict[str, Any] | None) -> FeatureParams:
    """Validate a feature config dict (keys = :class:`FeatureParams` fields) into params."""
    defaults = FeatureParams()
    known = {f.name for f in fields(FeatureParams)}
    values: dict[str, Any] = {}
    for name, value in (config or {}).items():
        if name not in known:
            raise ConfigError(
                f"unknown feature setting; expected one of {', '.join(sorted(known))}",
                key_path=f"features.{name}",
            )
        values[name] = _parse_value(name, value, getattr(defaults, name))
    params = FeatureParams(**values)
    if params.macd_fast >= params.macd_slow:
        raise ConfigError("macd_fast must be < macd_slow", key_path="features.macd_fast")
    names = [*warmup_by_feature(params), *TEMPORAL_NAMES]
    if len(set(names)) != len(names):
        raise ConfigError("these periods produce duplicate feature names", key_path="features")
    return params


def _ohlcv_arrays(
    data: pd.DataFrame,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The five OHLCV columns as contiguous float64 arrays (what TA-Lib needs), validated."""
    missing = [c for c in OHLCV_COLUMNS if c not in data.columns]
    if missing:
        raise DataError(f"OHLCV frame lacks column(s): {', '.join(missing)}")
    if isinstance(data.index, pd.DatetimeIndex) and not (
        data.index.is_monotonic_increasing and data.index.is_unique
    ):
        raise DataError("OHLCV index must be strictly ascending (sorted, no duplicate candles)")
    arrays = []
    for name in OHLCV_COLUMNS:
        arr = np.ascontiguousarray(data[name].to_numpy(dtype=np.float64, na_value=np.nan))
        floor_ok = arr >= 0 if name == "volume" else arr > 0
        bad = ~(np.isfinite(arr) & floor_ok)
        if bad.any():
            row = int(np.argmax(bad))
            rule = "finite and >= 0" if name == "volume" else "finite and > 0"
            raise DataError(
                f"column {name!r} must be {rule}; row {row} ({data.index[row]}) is {arr[row]}"
            )
        arrays.append(arr)
    o, h, lo, c, v = arrays
    return o, h, lo, c, v


def _epoch(data: pd.DataFrame) -> tuple[np.ndarray[Any, np.dtype[np.int64]], str]:
    index = data.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataError("temporal features need a tz-aware (UTC) DatetimeIndex of open times")
    return index.asi8, str(index.unit)


def _frame(columns: Columns, index: pd.Index) -> pd.DataFrame:
    """One DataFrame around the computed arrays: a single constructor, no per-column inserts
    and no copy (each array becomes its own block; consolidating 37 x n floats costs more than
    every indicator together)."""
    return pd.DataFrame(columns, index=index, copy=False)


def _join(data: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """``data`` plus ``features``; same-named columns already in ``data`` are replaced."""
    overlap = [c for c in features.columns if c in data.columns]
    base = data.drop(columns=overlap) if overlap else data
    return pd.concat([base, features], axis=1)


class FeatureEngineering:
    """Feature engineering for market data (seed API; definitions in the module docstring)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        """Initialize with optional periods, e.g. ``{"rsi_periods": [7, 14, 21]}``."""
        self.config: dict[str, Any] = dict(config or {})
        self.params = parse_params(self.config)
        self._warmup = warmup_by_feature(self.params)

    @property
    def technical_names(self) -> list[str]:
        return list(self._warmup)

    @property
    def temporal_names(self) -> list[str]:
        return list(TEMPORAL_NAMES)

    @property
    def feature_names(self) -> list[str]:
        """All feature columns, in output order."""
        return [*self._warmup, *TEMPORAL_NAMES]

    def warmup_by_feature(self) -> dict[str, int]:
        """Leading rows that are NaN, per feature (0 for temporal features)."""
        return {**self._warmup, **dict.fromkeys(TEMPORAL_NAMES, 0)}

    @property
    def warmup_rows(self) -> int:
        """Rows before which some feature is NaN; every feature is finite from this row on."""
        return max(self._warmup.values())

    def technical_frame(self, data: pd.DataFrame) -> pd.DataFrame:
        """Only the technical feature columns, indexed like ``data``."""
        return _frame(technical_features(*_ohlcv_arrays(data), self.params), data.index)

    def temporal_frame(self, data: pd.DataFrame) -> pd.DataFrame:
        """Only the temporal feature columns, indexed like ``data``."""
        return _frame(temporal_features(*_epoch(data), self.params), data.index)

    def compute_features(self, data: pd.DataFrame) -> pd.DataFrame:
        """All features (technical then temporal) without the input columns, in one frame."""
        columns = technical_features(*_ohlcv_arrays(data), self.params)
        columns.update(temporal_features(*_epoch(data), self.params))
        return _frame(columns, data.index)

    def add_technical_indicators(self, data: pd.DataFrame) -> pd.DataFrame:
        """Return a new frame: ``data``'s columns plus the technical features."""
        return _join(data, self.technical_frame(data))

    def add_temporal_features(self, data: pd.DataFrame) -> pd.DataFrame:
        """Return a new frame: ``data``'s columns plus hour, weekday and session flags."""
        return _join(data, self.temporal_frame(data))

    def normalize_features(
        self, data: pd.DataFrame, method: str = "min_max", columns: Sequence[str] | None = None
    ) -> tuple[pd.DataFrame, Scaler]:
        """Fit a :class:`Scaler` on ``data`` (a training window) and return (scaled, scaler).

        ``columns`` defaults to every numeric column. Apply the returned scaler to later data
        with ``scaler.transform(later)``; persist it with ``scaler.save(path)`` (JSON).
        """
        scaler = Scaler(check_method(method), columns)
        return scaler.fit_transform(data), scaler


_DEFAULT = FeatureEngineering()
FEATURE_NAMES: list[str] = _DEFAULT.feature_names
WARMUP_ROWS: int = _DEFAULT.warmup_rows


def compute_features(data: pd.DataFrame, config: dict[str, Any] | None = None) -> pd.DataFrame:
    """All features of ``data`` (columns :data:`FEATURE_NAMES` for the default config)."""
    engine = _DEFAULT if config is None else FeatureEngineering(config)
    return engine.compute_features(data)
