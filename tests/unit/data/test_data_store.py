"""OHLCVStore: layout, round trip, atomic writes, merge/resume, listing (real BTC/ETH 1h)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.data.store import OHLCVStore, normalize_symbol, store_exchange_name
from btb.errors import DataError

from .ohlcv_cases import ETH_1H, read_real


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return read_real(rows=500)


@pytest.mark.parametrize("raw", ["BTCUSDT", "BTC/USDT", "BTC_USDT", "btc-usdt", "BTC/USDT:USDT"])
def test_symbols_are_normalised(raw: str) -> None:
    assert normalize_symbol(raw) == "BTCUSDT"


def test_bad_names_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="invalid symbol"):
        normalize_symbol("BTC USDT")
    with pytest.raises(DataError, match="invalid exchange"):
        OHLCVStore(tmp_path).path("../etc", "BTCUSDT", "1h")
    with pytest.raises(DataError, match="unknown timeframe"):
        OHLCVStore(tmp_path).path("binance", "BTCUSDT", "1hour")
    assert store_exchange_name("Bybit", "linear") == "bybit_futures"


def test_round_trip_keeps_values_dtypes_and_layout(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    path = store.write("binance", "BTC/USDT", "1h", real)
    assert path == tmp_path / "binance" / "BTCUSDT-1h.parquet"
    back = store.read("binance", "BTC_USDT", "1h")
    pd.testing.assert_frame_equal(back, real)
    assert str(back.index.tz) == "UTC" and back.index.name == "timestamp"
    assert list(back.dtypes) == [np.dtype("float64")] * 5


def test_read_filters_inclusive_start_exclusive_end(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    store.write("binance", "BTCUSDT", "1h", real)
    part = store.read(
        "binance", "BTCUSDT", "1h", pd.Timestamp("2024-01-02", tz="UTC"), pd.Timestamp("2024-01-03")
    )
    assert len(part) == 24
    assert part.index[0] == pd.Timestamp("2024-01-02 00:00", tz="UTC")
    assert part.index[-1] == pd.Timestamp("2024-01-02 23:00", tz="UTC")


def test_missing_dataset_error_names_symbol_timeframe_and_path(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        OHLCVStore(tmp_path).read("binance", "ETH/USDT", "4h")
    message = str(err.value)
    assert "ETHUSDT 4h" in message and str(tmp_path / "binance" / "ETHUSDT-4h.parquet") in message


def test_defective_data_is_never_written(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    store.write("binance", "BTCUSDT", "1h", real.iloc[:100])
    before = store.path("binance", "BTCUSDT", "1h").read_bytes()
    bad = real.copy()
    bad.iloc[150, bad.columns.get_loc("high")] = 1.0  # below open/close
    with pytest.raises(DataError, match="high_low_inconsistent"):
        store.write("binance", "BTCUSDT", "1h", bad)
    with pytest.raises(DataError, match="unsorted"):
        store.write("binance", "BTCUSDT", "1h", real.iloc[::-1])
    assert store.path("binance", "BTCUSDT", "1h").read_bytes() == before


def test_failing_write_leaves_old_file_intact(
    tmp_path: Path, real: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = OHLCVStore(tmp_path)
    path = store.write("binance", "BTCUSDT", "1h", real.iloc[:100])
    before = path.read_bytes()

    def crash_midway(self: pd.DataFrame, target: object, **kwargs: object) -> None:
        # Simulate a crash (disk full, kill) after half the bytes reached the file.
        Path(str(target)).write_bytes(before[: len(before) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_midway)
    with pytest.raises(OSError, match="No space left"):
        store.append("binance", "BTCUSDT", "1h", real)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["BTCUSDT-1h.parquet"]  # no temp left
    pd.testing.assert_frame_equal(store.read("binance", "BTCUSDT", "1h"), real.iloc[:100])


def test_append_merges_overlap_and_resumes(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    first = store.append("binance", "BTCUSDT", "1h", real.iloc[:300])
    assert (first.added, first.total) == (300, 300)
    second = store.append("binance", "BTCUSDT", "1h", real.iloc[250:])  # 50 rows overlap
    assert (second.added, second.replaced, second.total) == (200, 0, 500)
    pd.testing.assert_frame_equal(store.read("binance", "BTCUSDT", "1h"), real)
    again = store.append("binance", "BTCUSDT", "1h", real.iloc[100:200])
    assert (again.added, again.total) == (0, 500)


def test_append_refuses_conflicting_candles_unless_told(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    store.append("binance", "BTCUSDT", "1h", real.iloc[:300])
    revised = real.iloc[290:310].copy()
    revised.iloc[[2, 5], revised.columns.get_loc("volume")] += 1.0  # rows 292 and 295
    with pytest.raises(DataError) as err:
        store.append("binance", "BTCUSDT", "1h", revised)
    assert "2 candle(s)" in str(err.value)
    assert real.index[292].isoformat() in str(err.value)
    pd.testing.assert_frame_equal(store.read("binance", "BTCUSDT", "1h"), real.iloc[:300])
    kept = store.append("binance", "BTCUSDT", "1h", revised, on_conflict="keep")
    assert (kept.added, kept.replaced) == (10, 0)
    assert store.read("binance", "BTCUSDT", "1h")["volume"].iloc[292] == real["volume"].iloc[292]
    replaced = store.append("binance", "BTCUSDT", "1h", revised, on_conflict="replace")
    assert (replaced.added, replaced.replaced) == (0, 2)
    stored = store.read("binance", "BTCUSDT", "1h")
    assert stored["volume"].iloc[292] == real["volume"].iloc[292] + 1.0


def test_list_datasets_info_and_timeframes(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    eth = read_real(ETH_1H, rows=48)
    store.write("binance", "BTCUSDT", "1h", real)
    store.write("binance", "ETHUSDT", "1h", eth)
    store.write("binance", "ETHUSDT", "4h", eth.iloc[::4])
    store.write("bybit", "BTCUSDT", "1d", real.iloc[::24])
    rows = [
        (d.exchange, d.symbol, d.timeframe, d.rows, d.first, d.last) for d in store.list_datasets()
    ]
    assert rows == [
        ("binance", "BTCUSDT", "1h", 500, real.index[0], real.index[499]),
        ("binance", "ETHUSDT", "1h", 48, eth.index[0], eth.index[47]),
        ("binance", "ETHUSDT", "4h", 12, eth.index[0], eth.index[44]),
        ("bybit", "BTCUSDT", "1d", 21, real.index[0], real.index[480]),
    ]
    assert store.timeframes("binance", "ETHUSDT") == ["1h", "4h"]
    assert store.last_timestamp("binance", "BTCUSDT", "1h") == real.index[499]
    assert store.last_timestamp("binance", "BTCUSDT", "5m") is None
