"""Feature set shape: names, warm-up, finiteness on real data, input validation, config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.data.features import (
    FEATURE_NAMES,
    OHLCV_COLUMNS,
    WARMUP_ROWS,
    FeatureEngineering,
    compute_features,
)
from btb.errors import ConfigError, DataError

# The 30 names seed 002 lists; btb must produce each of them.
SEED_NAMES = [
    "price_change", "price_change_2", "price_change_5", "price_change_10", "price_change_20",
    "volatility_5", "volatility_10", "volatility_20", "volume_change", "volume_ratio",
    "volume_std", "ema_cross_9_21", "ema_cross_21_50", "bb_position", "bb_width", "rsi_7",
    "rsi_14", "rsi_21", "macd", "macd_histogram", "stoch_k", "stoch_d", "atr_ratio",
    "williams_r", "cci", "mfi", "hour", "is_weekend", "is_london_open", "is_ny_open",
]  # fmt: skip

# Leading NaN rows per feature, from the definitions: a k-bar change needs k earlier rows, an
# n-row window over one-bar returns needs n, TA-Lib lookbacks are EMA n-1, RSI/ATR/MFI n,
# BBANDS/CCI/WILLR n-1, MACD (26-1)+(9-1), ADX 2n-1, STOCH (14-1)+(3-1)+(3-1).
EXPECTED_WARMUP = {
    "price_change": 1, "price_change_2": 2, "price_change_5": 5, "price_change_10": 10,
    "price_change_20": 20, "volatility_5": 5, "volatility_10": 10, "volatility_20": 20,
    "hl_range": 0, "close_location": 0, "volume_change": 1, "volume_ratio": 19, "volume_std": 19,
    "obv_change_20": 20, "ema_cross_9_21": 20, "ema_cross_21_50": 49, "dist_ema_50": 49,
    "macd": 33, "macd_signal": 33, "macd_histogram": 33, "adx_14": 27, "bb_position": 19,
    "bb_width": 19, "rsi_7": 7, "rsi_14": 14, "rsi_21": 21, "stoch_k": 17, "stoch_d": 17,
    "williams_r": 13, "cci": 19, "mfi": 14, "atr_ratio": 14, "hour": 0, "day_of_week": 0,
    "is_weekend": 0, "is_london_open": 0, "is_ny_open": 0,
}  # fmt: skip


def read_ohlcv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    index = pd.to_datetime(frame.pop("timestamp"), unit="ms", utc=True)
    frame.index = pd.DatetimeIndex(index, name="timestamp")
    return frame.astype("float64")


def ohlcv(close: np.ndarray, volume: float | np.ndarray = 1.0) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=len(close), freq="1h", tz="UTC")
    data = {"open": close, "high": close * 1.001, "low": close * 0.999, "close": close}
    return pd.DataFrame({**data, "volume": volume}, index=index)


def test_names_cover_the_seed_and_reach_34() -> None:
    assert len(FEATURE_NAMES) >= 34
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert [n for n in SEED_NAMES if n not in FEATURE_NAMES] == []
    assert list(EXPECTED_WARMUP) == FEATURE_NAMES


def test_warmup_rows_is_the_longest_warmup() -> None:
    assert max(EXPECTED_WARMUP.values()) == WARMUP_ROWS == 49
    assert FeatureEngineering().warmup_by_feature() == EXPECTED_WARMUP


@pytest.mark.parametrize(
    "name", ["binance_spot/BTC_USDT-5m", *(f"binance_spot/{s}_USDT-1h" for s in
             ["BTC", "ETH", "SOL", "XRP", "DOGE", "LTC", "LINK", "AVAX"]), "coinbase/BTC_USD-1h"],
)  # fmt: skip
def test_nan_only_in_warmup_and_never_inf_on_real_data(ohlcv_dir: Path, name: str) -> None:
    # coinbase/BTC_USD-1h has 28 zero-volume candles: the volume features must stay finite.
    out = compute_features(read_ohlcv(ohlcv_dir / f"{name}.csv.gz"))
    assert list(out.columns) == FEATURE_NAMES
    assert not np.isinf(out.to_numpy()).any()
    leading_nan = {c: int(out[c].isna().sum()) for c in out.columns}
    assert leading_nan == EXPECTED_WARMUP  # counts ...
    for column, warm in EXPECTED_WARMUP.items():  # ... and positions
        assert out[column].iloc[:warm].isna().all(), column


def test_flat_prices_and_zero_volume_stay_finite() -> None:
    frame = ohlcv(np.full(120, 100.0), volume=0.0)
    frame["high"] = frame["low"] = 100.0
    out = compute_features(frame).iloc[WARMUP_ROWS:]
    assert np.isfinite(out.to_numpy()).all()
    # Documented conventions for degenerate windows.
    assert (out["bb_position"] == 0.5).all()
    assert (out["close_location"] == 0.5).all()
    assert (out["volume_ratio"] == 1.0).all()
    assert (
        (out[["volume_change", "volume_std", "obv_change_20", "price_change"]] == 0.0).all().all()
    )


@pytest.mark.parametrize("n", [0, 1, 10, WARMUP_ROWS])
def test_short_frames_give_all_warmup(n: int) -> None:
    out = compute_features(ohlcv(np.linspace(100.0, 110.0, n)))
    assert out.shape == (n, len(FEATURE_NAMES))
    assert out["ema_cross_21_50"].isna().all()


def test_seed_methods_add_columns_without_touching_the_input(ohlcv_dir: Path) -> None:
    data = read_ohlcv(ohlcv_dir / "binance_spot" / "ETH_USDT-1h.csv.gz").iloc[:400]
    before = data.copy()
    fe = FeatureEngineering()
    tech = fe.add_technical_indicators(data)
    both = fe.add_temporal_features(tech)
    pd.testing.assert_frame_equal(data, before)
    assert list(tech.columns) == [*OHLCV_COLUMNS, *fe.technical_names]
    assert list(both.columns) == [*OHLCV_COLUMNS, *FEATURE_NAMES]
    pd.testing.assert_frame_equal(both[FEATURE_NAMES], compute_features(data))
    # Running it again replaces the columns instead of duplicating them.
    assert list(fe.add_technical_indicators(both).columns).count("rsi_14") == 1


# --- input validation -------------------------------------------------------------------------


def test_missing_column_is_named() -> None:
    with pytest.raises(DataError, match="volume"):
        compute_features(ohlcv(np.linspace(1, 2, 60)).drop(columns="volume"))


@pytest.mark.parametrize(("column", "value"), [("close", np.nan), ("low", 0.0), ("volume", -1.0)])
def test_bad_values_are_named_with_their_row(column: str, value: float) -> None:
    frame = ohlcv(np.linspace(1, 2, 60))
    frame.iloc[42, frame.columns.get_loc(column)] = value
    with pytest.raises(DataError, match=rf"'{column}'.*row 42"):
        compute_features(frame)


def test_unsorted_or_naive_index_is_rejected() -> None:
    frame = ohlcv(np.linspace(1, 2, 60))
    with pytest.raises(DataError, match="ascending"):
        compute_features(frame.iloc[::-1])
    with pytest.raises(DataError, match="tz-aware"):
        compute_features(frame.tz_localize(None))


# --- config -----------------------------------------------------------------------------------


def test_periods_come_from_config_and_name_the_columns() -> None:
    fe = FeatureEngineering(
        {"rsi_periods": [3, 5], "ema_cross_pairs": [[5, 8]], "adx_periods": [7]}
    )
    names = fe.feature_names
    assert {"rsi_3", "rsi_5", "ema_cross_5_8", "adx_7"} <= set(names)
    assert not {"rsi_14", "ema_cross_9_21", "adx_14"} & set(names)
    out = fe.compute_features(ohlcv(np.linspace(100.0, 90.0, 80)))
    assert list(out.columns) == names
    assert out["rsi_3"].iloc[3:].eq(0.0).all()  # a falling series has no gains


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"rsi_period": [14]}, "features.rsi_period"),
        ({"rsi_periods": [14, 0]}, "features.rsi_periods[1]"),
        ({"rsi_periods": [14, 14]}, "features.rsi_periods"),
        ({"rsi_periods": "14"}, "features.rsi_periods"),
        ({"ema_cross_pairs": [[21, 9]]}, "features.ema_cross_pairs[0]"),
        ({"bb_std": -2}, "features.bb_std"),
        ({"cci_period": 2.5}, "features.cci_period"),
        ({"london_hours": [7, 25]}, "features.london_hours"),
        ({"macd_fast": 30}, "features.macd_fast"),
        ({"price_change_periods": [1, 5], "obv_periods": [5]}, None),
    ],
)
def test_bad_config_names_the_key(config: dict[str, object], key: str | None) -> None:
    if key is None:  # a valid edge: period 1 is allowed for k-bar changes
        assert "price_change_1" in FeatureEngineering(config).feature_names
        return
    with pytest.raises(ConfigError) as info:
        FeatureEngineering(config)
    assert info.value.key_path == key
