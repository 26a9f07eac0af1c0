"""Feature values checked against independent calculations.

References are written here from the textbook definitions (plain Python loops, pandas rolling
windows, pandas ``ewm``), not from btb's kernels: TA-Lib's conventions are reproduced by hand
(Wilder smoothing seeded with the simple mean of the first ``n`` values, EMAs seeded with the SMA
of the first ``n`` closes). Tolerances: 1e-9 relative where the reference runs the same recurrence;
looser where the reference sums differently (TA-Lib's Bollinger/STDDEV use running sums of
squares, pandas a different online algorithm), stated per test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.data.features import FeatureEngineering, compute_features

RTOL = 1e-9


def read_ohlcv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    index = pd.to_datetime(frame.pop("timestamp"), unit="ms", utc=True)
    frame.index = pd.DatetimeIndex(index, name="timestamp")
    return frame.astype("float64")


@pytest.fixture(scope="module")
def btc(ohlcv_dir: Path) -> pd.DataFrame:
    return read_ohlcv(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz").iloc[:2500]


@pytest.fixture(scope="module")
def feats(btc: pd.DataFrame) -> pd.DataFrame:
    return compute_features(btc)


def ema_ref(values: list[float], n: int) -> list[float]:
    """TA-Lib EMA: SMA of the first n values at row n-1, then prev + 2/(n+1) * (x - prev)."""
    out = [math.nan] * len(values)
    prev = sum(values[:n]) / n
    out[n - 1] = prev
    k = 2.0 / (n + 1)
    for i in range(n, len(values)):
        prev = prev + k * (values[i] - prev)
        out[i] = prev
    return out


def wilder_rsi_ref(close: list[float], n: int) -> list[float]:
    out = [math.nan] * len(close)
    diffs = [close[i] - close[i - 1] for i in range(1, len(close))]
    gain = sum(max(d, 0.0) for d in diffs[:n]) / n
    loss = sum(max(-d, 0.0) for d in diffs[:n]) / n
    out[n] = 100.0 * gain / (gain + loss)
    for i in range(n + 1, len(close)):
        d = diffs[i - 1]
        gain = (gain * (n - 1) + max(d, 0.0)) / n
        loss = (loss * (n - 1) + max(-d, 0.0)) / n
        out[i] = 100.0 * gain / (gain + loss)
    return out


def assert_close_after(actual: pd.Series, expected: list[float] | pd.Series, start: int,
                       rtol: float = RTOL, atol: float = 0.0) -> None:  # fmt: skip
    np.testing.assert_allclose(
        actual.to_numpy()[start:], np.asarray(expected, dtype=float)[start:], rtol=rtol, atol=atol
    )


# --- price and volume -------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 5, 10, 20])
def test_price_change_is_the_k_bar_return(btc: pd.DataFrame, feats: pd.DataFrame, k: int) -> None:
    close = btc["close"].tolist()
    name = "price_change" if k == 1 else f"price_change_{k}"
    for t in [k, k + 1, 333, 1777, len(close) - 1]:
        assert feats[name].iloc[t] == pytest.approx(close[t] / close[t - k] - 1.0, rel=1e-12)
    assert feats[name].iloc[:k].isna().all()


@pytest.mark.parametrize("n", [5, 10, 20])
def test_volatility_is_population_std_of_returns(
    btc: pd.DataFrame, feats: pd.DataFrame, n: int
) -> None:
    expected = btc["close"].pct_change().rolling(n).std(ddof=0)
    # TA-Lib's STDDEV keeps running sums of x and x^2: ~1e-11 relative against pandas here.
    assert_close_after(feats[f"volatility_{n}"], expected, n, rtol=1e-6)


def test_bar_shape_features(btc: pd.DataFrame, feats: pd.DataFrame) -> None:
    h, lo, c = btc["high"], btc["low"], btc["close"]
    assert_close_after(feats["hl_range"], (h - lo) / c, 0)
    assert_close_after(feats["close_location"], (c - lo) / (h - lo), 0)


def test_volume_features(btc: pd.DataFrame, feats: pd.DataFrame) -> None:
    v = btc["volume"].tolist()
    c = btc["close"].tolist()
    for t in [20, 21, 500, 2499]:
        assert feats["volume_change"].iloc[t] == pytest.approx(
            (v[t] - v[t - 1]) / (v[t] + v[t - 1])
        )
        window = v[t - 19 : t + 1]
        mean = sum(window) / 20
        std = math.sqrt(sum((x - mean) ** 2 for x in window) / 20)
        assert feats["volume_ratio"].iloc[t] == pytest.approx(v[t] / mean, rel=1e-12)
        assert feats["volume_std"].iloc[t] == pytest.approx(std / mean, rel=1e-9)
        signed = sum(math.copysign(v[i], c[i] - c[i - 1]) if c[i] != c[i - 1] else 0.0
                     for i in range(t - 19, t + 1))  # fmt: skip
        assert feats["obv_change_20"].iloc[t] == pytest.approx(signed / sum(window), rel=1e-9)


# --- trend ------------------------------------------------------------------------------------


def test_ema_cross_and_distance(btc: pd.DataFrame, feats: pd.DataFrame) -> None:
    close = btc["close"].tolist()
    e9, e21, e50 = (ema_ref(close, n) for n in (9, 21, 50))
    c = np.asarray(close)
    assert_close_after(feats["ema_cross_9_21"], (np.array(e9) - np.array(e21)) / c, 20)
    assert_close_after(feats["ema_cross_21_50"], (np.array(e21) - np.array(e50)) / c, 49)
    assert_close_after(feats["dist_ema_50"], c / np.array(e50) - 1.0, 49)


def test_macd_matches_textbook_emas_once_seeds_are_forgotten(
    btc: pd.DataFrame, feats: pd.DataFrame
) -> None:
    # pandas ewm(adjust=False) seeds with the first value, TA-Lib with an SMA; the seed's weight
    # decays like (1 - 2/27)^t, below 1e-30 after 1000 rows, so the two agree there.
    c = btc["close"]
    line = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
    signal = line.ewm(span=9, adjust=False).mean()
    for name, expected in [
        ("macd", line),
        ("macd_signal", signal),
        ("macd_histogram", line - signal),
    ]:
        assert_close_after(feats[name], expected / c, 1000, rtol=1e-7, atol=1e-12)


def test_adx_is_bounded_and_defined(feats: pd.DataFrame) -> None:
    adx = feats["adx_14"].to_numpy()[27:]
    assert np.isfinite(adx).all()
    assert adx.min() >= 0.0
    assert adx.max() <= 100.0


# --- oscillators ------------------------------------------------------------------------------


def test_rsi_on_a_crafted_series() -> None:
    # changes +1 +1 -1 +2 -1 with n = 3: first RSI = 100 * (2/3) / (2/3 + 1/3) = 66.67, then Wilder
    # smoothing: gains 10/9 losses 2/9 -> 83.33; gains 20/27 losses 13/27 -> 100 * 20/33 = 60.61.
    closes = [10.0, 11.0, 12.0, 11.0, 13.0, 12.0]
    frame = pd.DataFrame(
        {"open": closes, "high": closes, "low": closes, "close": closes, "volume": 1.0},
        index=pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC"),
    )
    rsi = FeatureEngineering({"rsi_periods": [3]}).compute_features(frame)["rsi_3"]
    assert rsi.iloc[:3].isna().all()
    assert rsi.iloc[3:].tolist() == pytest.approx([200 / 3, 250 / 3, 2000 / 33], rel=1e-12)


def test_rsi_of_a_rising_series_is_100() -> None:
    closes = np.linspace(100.0, 130.0, 40)
    frame = pd.DataFrame(
        {"open": closes, "high": closes, "low": closes, "close": closes, "volume": 1.0},
        index=pd.date_range("2024-01-01", periods=40, freq="1h", tz="UTC"),
    )
    out = compute_features(frame)
    assert (out[["rsi_7", "rsi_14", "rsi_21"]].iloc[21:] == 100.0).all().all()


@pytest.mark.parametrize("n", [7, 14, 21])
def test_rsi_matches_wilder_on_real_data(btc: pd.DataFrame, feats: pd.DataFrame, n: int) -> None:
    assert_close_after(feats[f"rsi_{n}"], wilder_rsi_ref(btc["close"].tolist(), n), n)


def test_bollinger_position_and_width(btc: pd.DataFrame, feats: pd.DataFrame) -> None:
    c = btc["close"]
    mid, sd = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
    upper, lower = mid + 2 * sd, mid - 2 * sd
    # Bands differ from pandas by up to ~2e-8 relative (TA-Lib keeps running sums of squares).
    assert_close_after(feats["bb_position"], (c - lower) / (upper - lower), 19, rtol=1e-6)
    assert_close_after(feats["bb_width"], (upper - lower) / mid, 19, rtol=1e-6)


def test_stochastic_and_williams(btc: pd.DataFrame, feats: pd.DataFrame) -> None:
    hh, ll = btc["high"].rolling(14).max(), btc["low"].rolling(14).min()
    c = btc["close"]
    fast_k = 100 * (c - ll) / (hh - ll)
    slow_k = fast_k.rolling(3).mean()
    assert_close_after(feats["stoch_k"], slow_k, 17, rtol=1e-9, atol=1e-9)
    assert_close_after(feats["stoch_d"], slow_k.rolling(3).mean(), 17, rtol=1e-9, atol=1e-9)
    assert_close_after(feats["williams_r"], -100 * (hh - c) / (hh - ll), 13, atol=1e-9)


def test_cci_and_mfi_by_hand(btc: pd.DataFrame, feats: pd.DataFrame) -> None:
    tp = ((btc["high"] + btc["low"] + btc["close"]) / 3).tolist()
    v = btc["volume"].tolist()
    for t in [19, 20, 640, 2499]:
        window = tp[t - 19 : t + 1]
        sma = sum(window) / 20
        mean_dev = sum(abs(x - sma) for x in window) / 20
        assert feats["cci"].iloc[t] == pytest.approx((tp[t] - sma) / (0.015 * mean_dev), rel=1e-7)
    for t in [14, 15, 999, 2499]:
        flows = [(tp[i] - tp[i - 1], tp[i] * v[i]) for i in range(t - 13, t + 1)]
        pos = sum(f for d, f in flows if d > 0)
        neg = sum(f for d, f in flows if d < 0)
        assert feats["mfi"].iloc[t] == pytest.approx(100 * pos / (pos + neg), rel=1e-9)


def test_atr_ratio_is_wilder_atr_over_close(btc: pd.DataFrame, feats: pd.DataFrame) -> None:
    h, lo, c = (btc[k].tolist() for k in ("high", "low", "close"))
    tr = [math.nan] + [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))
    ]
    atr = [math.nan] * len(c)
    atr[14] = sum(tr[1:15]) / 14
    for i in range(15, len(c)):
        atr[i] = (atr[i - 1] * 13 + tr[i]) / 14
    assert_close_after(feats["atr_ratio"], np.array(atr) / np.array(c), 14)


# --- time -------------------------------------------------------------------------------------

# (open time UTC, hour, day_of_week, is_weekend, is_london_open, is_ny_open)
CALENDAR = [
    ("2024-01-06 10:00", 10, 5, 1, 0, 0),  # Saturday: sessions closed
    ("2024-01-07 23:00", 23, 6, 1, 0, 0),  # Sunday
    ("2024-01-08 06:59", 6, 0, 0, 0, 0),  # Monday before London
    ("2024-01-08 07:00", 7, 0, 0, 1, 0),
    ("2024-01-08 13:00", 13, 0, 0, 1, 1),
    ("2024-01-08 15:59", 15, 0, 0, 1, 1),
    ("2024-01-08 16:00", 16, 0, 0, 0, 1),
    ("2024-01-08 20:59", 20, 0, 0, 0, 1),
    ("2024-01-08 21:00", 21, 0, 0, 0, 0),
    ("2024-07-12 12:30", 12, 4, 0, 1, 0),  # Friday
    ("1969-12-31 23:00", 23, 2, 0, 0, 0),  # before the epoch: a Wednesday
]


def calendar_frame(index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame(
        {"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=index
    )


def test_calendar_flags_on_known_timestamps() -> None:
    index = pd.DatetimeIndex([row[0] for row in CALENDAR], tz="UTC").sort_values()
    out = FeatureEngineering().add_temporal_features(calendar_frame(index))
    expected = {pd.Timestamp(row[0], tz="UTC"): row[1:] for row in CALENDAR}
    cols = ["hour", "day_of_week", "is_weekend", "is_london_open", "is_ny_open"]
    for ts, row in out[cols].iterrows():
        assert tuple(row) == expected[ts], ts


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_calendar_is_the_same_for_any_resolution_and_timezone(unit: str) -> None:
    utc = pd.date_range("2024-03-30 20:00", periods=60, freq="37min", tz="UTC")
    fe = FeatureEngineering()
    reference = fe.temporal_frame(calendar_frame(utc))
    local = utc.tz_convert("America/New_York").as_unit(unit)
    out = fe.temporal_frame(calendar_frame(local))
    np.testing.assert_array_equal(out.to_numpy(), reference.to_numpy())
    assert (reference["hour"].to_numpy() == utc.hour.to_numpy()).all()
    assert (reference["day_of_week"].to_numpy() == utc.day_of_week.to_numpy()).all()
