"""DataLoader on a store filled with real shipped candles; import weight of btb.data.loader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from btb.data.loader import DataLoader
from btb.data.store import OHLCVStore
from btb.errors import DataError

from .ohlcv_cases import BTC_5M, ETH_1H, read_real

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def btc() -> pd.DataFrame:
    return read_real(rows=24 * 20)  # 2024-01-01 .. 2024-01-20, 1h


@pytest.fixture
def data_dir(tmp_path: Path, btc: pd.DataFrame) -> Path:
    store = OHLCVStore(tmp_path)
    store.write("binance", "BTCUSDT", "1h", btc)
    store.write("binance", "ETHUSDT", "1h", read_real(ETH_1H, rows=24 * 20))
    return tmp_path


def test_keys_and_inclusive_start_exclusive_end(data_dir: Path, btc: pd.DataFrame) -> None:
    loader = DataLoader({"data_dir": str(data_dir), "exchange": "binance"})
    data = loader.load_data(["BTC/USDT", "ETHUSDT"], ["1h"], "2024-01-02", "2024-01-03T00:00:00Z")
    assert list(data) == ["BTCUSDT_1h", "ETHUSDT_1h"]
    frame = data["BTCUSDT_1h"]
    assert len(frame) == 24
    assert frame.index[0] == pd.Timestamp("2024-01-02 00:00", tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2024-01-02 23:00", tz="UTC")
    pd.testing.assert_frame_equal(frame, btc.iloc[24:48])


def test_offset_dates_are_converted_to_utc(data_dir: Path, btc: pd.DataFrame) -> None:
    loader = DataLoader({"data_dir": str(data_dir)})
    frame = loader.load_data(["BTCUSDT"], ["1h"], "2024-01-02T02:00:00+02:00", None)["BTCUSDT_1h"]
    assert frame.index[0] == pd.Timestamp("2024-01-02 00:00", tz="UTC")
    assert frame.index[-1] == btc.index[-1]


@pytest.mark.parametrize("shape", ["full", "section", "plain"])
def test_config_shapes(data_dir: Path, shape: str) -> None:
    section = {"data_dir": str(data_dir), "exchange": "binance", "start_date": "2024-01-10"}
    config = {"full": {"data": section, "exchange": {"name": "bybit"}}, "section": section}.get(
        shape, section
    )
    frame = DataLoader(config).load_data("BTCUSDT", "1h")["BTCUSDT_1h"]
    assert frame.index[0] == pd.Timestamp("2024-01-10", tz="UTC")


def test_real_config_object(data_dir: Path) -> None:
    from btb.utils.config import load_config, override_config

    config = override_config(
        load_config(REPO / "configs" / "demo.yaml", env={}), {"data.data_dir": str(data_dir)}
    )
    data = DataLoader(config).load_data(["BTCUSDT"], ["1h"], "2024-01-05", "2024-01-06")
    assert len(data["BTCUSDT_1h"]) == 24


def test_missing_data_names_symbol_timeframe_and_path(data_dir: Path) -> None:
    loader = DataLoader({"data_dir": str(data_dir)})
    with pytest.raises(DataError) as err:
        loader.load_data(["SOLUSDT"], ["1h"], None, None)
    assert "SOLUSDT 1h" in str(err.value)
    assert str(data_dir / "binance" / "SOLUSDT-1h.parquet") in str(err.value)
    with pytest.raises(DataError, match="no finer timeframe to resample from"):
        loader.load_data(["BTCUSDT"], ["5m"], None, None)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-01-05", "2024-01-05", "not before"),
        ("yesterday-ish", None, "not an ISO date"),
        ("2025-01-01", None, "no BTCUSDT 1h candles"),
    ],
)
def test_bad_ranges(data_dir: Path, start: str, end: str | None, message: str) -> None:
    with pytest.raises(DataError, match=message):
        DataLoader({"data_dir": str(data_dir)}).load_data(["BTCUSDT"], ["1h"], start, end)


def test_missing_timeframe_is_resampled_from_coarsest_finer_one(
    data_dir: Path, btc: pd.DataFrame
) -> None:
    # 5m covers only the first 2 days, 1h all 20: a full-range 4h result proves 1h was used.
    OHLCVStore(data_dir).write("binance", "BTCUSDT", "5m", read_real(BTC_5M, rows=12 * 48))
    loader = DataLoader({"data_dir": str(data_dir)})
    frame = loader.load_data(["BTCUSDT"], ["4h"], "2024-01-01 02:00", "2024-01-02 10:00")[
        "BTCUSDT_4h"
    ]
    # Open times in [02:00, next day 10:00): bars 04:00 .. 08:00 next day; 08:00 is complete.
    assert frame.index[0] == pd.Timestamp("2024-01-01 04:00", tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2024-01-02 08:00", tz="UTC")
    hours = btc.loc["2024-01-02 08:00":"2024-01-02 11:00"]  # type: ignore[misc]
    assert frame.iloc[-1].tolist() == [
        hours["open"].iloc[0],
        hours["high"].max(),
        hours["low"].min(),
        hours["close"].iloc[-1],
        pytest.approx(hours["volume"].sum(), rel=1e-12),
    ]
    whole = loader.load_data(["BTCUSDT"], ["1d"])["BTCUSDT_1d"]
    assert len(whole) == 20


@pytest.mark.parametrize("module", ["btb.data.loader", "btb"])
def test_import_stays_light(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert module.split(".")[0] in imported or module in result.stderr  # the log is real
    assert not imported & {"torch", "lightgbm", "ccxt"}
