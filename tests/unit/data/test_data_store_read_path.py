"""OHLCVStore's reader: the column-by-column Arrow read gives exactly what pandas' reader plus
the canonical shape gives, files in other layouts still read (or are refused) as before, and
what comes back is an ordinary writable frame. Also: ensure_canonical_shape shares the data
of a frame that is canonical already, without tying the two frames together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from btb.data.store import OHLCVStore
from btb.data.validate import canonical_frame, ensure_canonical_shape
from btb.errors import DataError

from .ohlcv_cases import read_real


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return read_real(rows=300)


def _pandas_reader(path: Path) -> pd.DataFrame:
    """The independent reference: pandas' own Parquet reader, then the canonical shape."""
    frame = pd.read_parquet(path, engine="pyarrow")
    return canonical_frame(pd.DatetimeIndex(frame.index), frame.to_numpy(dtype=np.float64))


def test_stored_file_reads_exactly_as_pandas_reads_it(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    path = store.write("binance", "BTCUSDT", "1h", real)
    back = store.read("binance", "BTCUSDT", "1h")
    pd.testing.assert_frame_equal(back, _pandas_reader(path), check_exact=True)
    assert back.index.dtype == pd.DatetimeTZDtype("us", "UTC")


def test_read_frame_is_writable_and_leaves_the_file_alone(
    tmp_path: Path, real: pd.DataFrame
) -> None:
    store = OHLCVStore(tmp_path)
    store.write("binance", "BTCUSDT", "1h", real)
    back = store.read("binance", "BTCUSDT", "1h")
    back.loc[back.index[0], "close"] = 1.0
    back["volume"] *= 2.0
    again = store.read("binance", "BTCUSDT", "1h")
    assert again["close"].iloc[0] == real["close"].iloc[0]
    pd.testing.assert_series_equal(again["volume"], real["volume"])


def test_nanosecond_file_from_another_writer_reads_as_canonical(
    tmp_path: Path, real: pd.DataFrame
) -> None:
    path = OHLCVStore(tmp_path).path("binance", "BTCUSDT", "1h")
    path.parent.mkdir(parents=True)
    ns = real.copy()
    ns.index = ns.index.as_unit("ns")
    ns.to_parquet(path, engine="pyarrow")  # timestamp[ns, UTC]: not the store's own layout
    assert pq.read_schema(path).field("timestamp").type == pa.timestamp("ns", tz="UTC")
    back = OHLCVStore(tmp_path).read("binance", "BTCUSDT", "1h")
    pd.testing.assert_frame_equal(back, real, check_exact=True)


def test_missing_values_read_as_nan_as_pandas_reads_them(
    tmp_path: Path, real: pd.DataFrame
) -> None:
    path = OHLCVStore(tmp_path).path("binance", "BTCUSDT", "1h")
    path.parent.mkdir(parents=True)
    table = pa.Table.from_pandas(real, preserve_index=True)
    volume = pa.array([None, *real["volume"].iloc[1:]], type=pa.float64())
    table = table.set_column(table.schema.get_field_index("volume"), "volume", volume)
    pq.write_table(table, path)
    back = OHLCVStore(tmp_path).read("binance", "BTCUSDT", "1h")
    assert np.isnan(back["volume"].iloc[0])
    pd.testing.assert_frame_equal(back, _pandas_reader(path), check_exact=True)


def test_other_columns_and_garbage_are_refused(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path)
    path = store.path("binance", "BTCUSDT", "1h")
    path.parent.mkdir(parents=True)
    real[["close", "open", "high", "low", "volume"]].to_parquet(path, engine="pyarrow")
    with pytest.raises(DataError, match="not a btb OHLCV dataset"):
        store.read("binance", "BTCUSDT", "1h")
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match="unreadable dataset"):
        store.read("binance", "BTCUSDT", "1h")


def test_canonical_frame_is_shared_not_copied_and_stays_independent(real: pd.DataFrame) -> None:
    shaped = ensure_canonical_shape(real, "real")
    assert np.shares_memory(shaped["close"].to_numpy(), real["close"].to_numpy())
    shaped.loc[shaped.index[0], "close"] = -1.0  # copy-on-write: the input keeps its value
    assert real["close"].iloc[0] > 0
    pd.testing.assert_frame_equal(
        ensure_canonical_shape(real, "real"),
        canonical_frame(real.index, real.to_numpy(dtype=np.float64)),
        check_exact=True,
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda df: df.set_axis(df.index.as_unit("ns")),
        lambda df: df.astype({"volume": "float32"}),
        lambda df: df[["open", "high", "low", "close", "volume"]].assign(extra=1.0),
        lambda df: df.set_axis(pd.Index(list(df.columns), dtype=object), axis=1),
    ],
    ids=["ns_index", "float32_column", "extra_column", "object_labels"],
)
def test_non_canonical_frames_are_rebuilt(real: pd.DataFrame, change: object) -> None:
    other = change(real)  # type: ignore[operator]
    shaped = ensure_canonical_shape(other, "other")
    expected = canonical_frame(
        pd.DatetimeIndex(other.index),
        other.loc[:, ["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64),
    )
    pd.testing.assert_frame_equal(shaped, expected, check_exact=True)
    assert not np.shares_memory(shaped["open"].to_numpy(), other["open"].to_numpy())
