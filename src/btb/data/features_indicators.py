"""Array kernels behind :mod:`btb.data.features` (the definitions are documented there).

Everything here works on float64 numpy arrays, one value per candle, and is causal: the value at
row ``t`` is computed only from rows ``0..t``. Window sums are evaluated in a fixed order per
window (never with a running add/subtract or a global cumsum) so a window of zeros sums to exactly
zero and the value at ``t`` is bit-identical whether or not later rows exist. TA-Lib's own
kernels run forward through the data, so they share that property.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import talib

FloatArray = npt.NDArray[np.float64]
Columns = dict[str, FloatArray]

_SMA = talib.MA_Type.SMA
_NS_PER_UNIT = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


@dataclass(frozen=True)
class FeatureParams:
    """Periods of every feature family; the defaults produce :data:`FEATURE_NAMES` exactly."""

    price_change_periods: tuple[int, ...] = (2, 5, 10, 20)
    volatility_periods: tuple[int, ...] = (5, 10, 20)
    volume_period: int = 20
    obv_periods: tuple[int, ...] = (20,)
    ema_cross_pairs: tuple[tuple[int, int], ...] = ((9, 21), (21, 50))
    dist_ema_periods: tuple[int, ...] = (50,)
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal_period: int = 9
    adx_periods: tuple[int, ...] = (14,)
    bb_period: int = 20
    bb_std: float = 2.0
    rsi_periods: tuple[int, ...] = (7, 14, 21)
    stoch_k_period: int = 14
    stoch_smooth: int = 3
    stoch_d_period: int = 3
    williams_period: int = 14
    cci_period: int = 20
    mfi_period: int = 14
    atr_period: int = 14
    london_hours: tuple[int, int] = (7, 16)
    ny_hours: tuple[int, int] = (13, 21)


def warmup_by_feature(p: FeatureParams) -> dict[str, int]:
    """Leading rows that are NaN for each feature (TA-Lib lookbacks, unstable period 0)."""
    w: dict[str, int] = {"price_change": 1}
    w.update({f"price_change_{k}": k for k in p.price_change_periods})
    w.update({f"volatility_{n}": n for n in p.volatility_periods})
    w.update(hl_range=0, close_location=0, volume_change=1)
    w.update(volume_ratio=p.volume_period - 1, volume_std=p.volume_period - 1)
    w.update({f"obv_change_{n}": n for n in p.obv_periods})
    w.update({f"ema_cross_{a}_{b}": max(a, b) - 1 for a, b in p.ema_cross_pairs})
    w.update({f"dist_ema_{n}": n - 1 for n in p.dist_ema_periods})
    macd = p.macd_slow - 1 + p.macd_signal_period - 1
    w.update(macd=macd, macd_signal=macd, macd_histogram=macd)
    w.update({f"adx_{n}": 2 * n - 1 for n in p.adx_periods})
    w.update(bb_position=p.bb_period - 1, bb_width=p.bb_period - 1)
    w.update({f"rsi_{n}": n for n in p.rsi_periods})
    stoch = p.stoch_k_period - 1 + p.stoch_smooth - 1 + p.stoch_d_period - 1
    w.update(stoch_k=stoch, stoch_d=stoch, williams_r=p.williams_period - 1)
    w.update(cci=p.cci_period - 1, mfi=p.mfi_period, atr_ratio=p.atr_period)
    return w


TEMPORAL_NAMES = ("hour", "day_of_week", "is_weekend", "is_london_open", "is_ny_open")


def safe_div(num: FloatArray, den: FloatArray, fill: float) -> FloatArray:
    """``num / den`` with ``fill`` where ``den == 0``; NaN (warm-up) in ``num`` stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    zero = den == 0
    if zero.any():
        out[zero] = np.where(np.isnan(num[zero]), np.nan, fill)
    return out


def lag(x: FloatArray, k: int) -> FloatArray:
    """``x`` delayed by ``k`` rows, NaN-padded at the start (the causal direction only)."""
    out = np.full(x.shape[0], np.nan)
    if k < x.shape[0]:
        out[k:] = x[: x.shape[0] - k]
    return out


def window_sum(x: FloatArray, n: int) -> FloatArray:
    """Trailing sum of ``n`` rows, each window added left to right (exact zeros, prefix-stable)."""
    out = np.full(x.shape[0], np.nan)
    m = x.shape[0] - n + 1
    if m > 0:
        acc = x[:m].copy()
        for k in range(1, n):
            acc += x[k : k + m]
        out[n - 1 :] = acc
    return out


def _price(c: FloatArray, h: FloatArray, lo: FloatArray, p: FeatureParams) -> Columns:
    ret = c / lag(c, 1) - 1.0
    out: Columns = {"price_change": ret}
    for k in p.price_change_periods:
        out[f"price_change_{k}"] = c / lag(c, k) - 1.0
    for n in p.volatility_periods:
        # Population std (ddof=0) of the last n one-bar returns.
        out[f"volatility_{n}"] = talib.STDDEV(ret, timeperiod=n, nbdev=1.0)
    out["hl_range"] = (h - lo) / c
    out["close_location"] = safe_div(c - lo, h - lo, 0.5)
    return out


def _volume(c: FloatArray, v: FloatArray, p: FeatureParams) -> Columns:
    n = p.volume_period
    prev = lag(v, 1)
    out: Columns = {"volume_change": safe_div(v - prev, v + prev, 0.0)}
    vsum = window_sum(v, n)
    mean = vsum / n
    var = np.maximum(window_sum(v * v, n) / n - mean * mean, 0.0)
    out["volume_ratio"] = safe_div(v, mean, 1.0)
    out["volume_std"] = safe_div(np.sqrt(var), mean, 0.0)
    signed = np.sign(c - lag(c, 1)) * v
    for k in p.obv_periods:
        out[f"obv_change_{k}"] = safe_div(window_sum(signed, k), window_sum(v, k), 0.0)
    return out


def _trend(c: FloatArray, h: FloatArray, lo: FloatArray, p: FeatureParams) -> Columns:
    emas = {n: talib.EMA(c, timeperiod=n) for pair in p.ema_cross_pairs for n in pair}
    emas.update({n: talib.EMA(c, timeperiod=n) for n in p.dist_ema_periods if n not in emas})
    out: Columns = {}
    for a, b in p.ema_cross_pairs:
        out[f"ema_cross_{a}_{b}"] = (emas[a] - emas[b]) / c
    for n in p.dist_ema_periods:
        out[f"dist_ema_{n}"] = c / emas[n] - 1.0
    line, signal, hist = talib.MACD(c, p.macd_fast, p.macd_slow, p.macd_signal_period)
    out.update(macd=line / c, macd_signal=signal / c, macd_histogram=hist / c)
    for n in p.adx_periods:
        out[f"adx_{n}"] = talib.ADX(h, lo, c, timeperiod=n)
    return out


def _oscillators(
    c: FloatArray, h: FloatArray, lo: FloatArray, v: FloatArray, p: FeatureParams
) -> Columns:
    upper, middle, lower = talib.BBANDS(c, p.bb_period, p.bb_std, p.bb_std, _SMA)
    out: Columns = {
        "bb_position": safe_div(c - lower, upper - lower, 0.5),
        "bb_width": (upper - lower) / middle,
    }
    for n in p.rsi_periods:
        out[f"rsi_{n}"] = talib.RSI(c, timeperiod=n)
    k, d = talib.STOCH(h, lo, c, p.stoch_k_period, p.stoch_smooth, _SMA, p.stoch_d_period, _SMA)
    out.update(stoch_k=k, stoch_d=d)
    out["williams_r"] = talib.WILLR(h, lo, c, timeperiod=p.williams_period)
    out["cci"] = talib.CCI(h, lo, c, timeperiod=p.cci_period)
    out["mfi"] = talib.MFI(h, lo, c, v, timeperiod=p.mfi_period)
    out["atr_ratio"] = talib.ATR(h, lo, c, timeperiod=p.atr_period) / c
    return out


def technical_features(
    o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray, v: FloatArray, p: FeatureParams
) -> Columns:
    """All OHLCV-derived features, in :data:`FEATURE_NAMES` order (``o`` is kept for symmetry)."""
    del o  # no feature uses the open: it equals the previous close on contiguous data
    out = _price(c, h, lo, p)
    out.update(_volume(c, v, p))
    out.update(_trend(c, h, lo, p))
    out.update(_oscillators(c, h, lo, v, p))
    return out


def _in_hours(hour: npt.NDArray[np.int64], hours: tuple[int, int]) -> npt.NDArray[np.bool_]:
    start, end = hours
    if start <= end:
        return (hour >= start) & (hour < end)
    return (hour >= start) | (hour < end)  # a session that wraps midnight


def temporal_features(epoch: npt.NDArray[np.int64], unit: str, p: FeatureParams) -> Columns:
    """Calendar features of each candle's OPEN time given as integer epoch ``unit`` values."""
    per_second = _NS_PER_UNIT[unit]
    hours_since_epoch = epoch // (3_600 * per_second)
    hour = hours_since_epoch % 24
    dow = (hours_since_epoch // 24 + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    weekday = dow < 5
    return {
        "hour": hour.astype(np.float64),
        "day_of_week": dow.astype(np.float64),
        "is_weekend": (~weekday).astype(np.float64),
        "is_london_open": (weekday & _in_hours(hour, p.london_hours)).astype(np.float64),
        "is_ny_open": (weekday & _in_hours(hour, p.ny_hours)).astype(np.float64),
    }
