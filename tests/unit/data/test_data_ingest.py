"""Import of CSV variants and freqtrade folders, built from real shipped candles in the test."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from btb.data.ingest import import_path, parse_dataset_name, read_csv_ohlcv
from btb.data.store import OHLCVStore
from btb.errors import DataError

from .ohlcv_cases import BTC_1H, ETH_1H, read_real, to_csv_text


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return read_real(rows=200)


def write_csv(path: Path, text: str) -> Path:
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def stored(tmp_path: Path, exchange: str = "binance", tf: str = "1h") -> pd.DataFrame:
    return OHLCVStore(tmp_path / "store").read(exchange, "BTCUSDT", tf)


def test_shipped_csv_reads_to_the_canonical_frame() -> None:
    frame, note = read_csv_ohlcv(BTC_1H)
    pd.testing.assert_frame_equal(frame, read_real(BTC_1H))
    assert note == "column 'timestamp': epoch milliseconds"


@pytest.mark.parametrize(
    ("header", "render", "note"),
    [
        ("date", lambda ts: ts.strftime("%Y-%m-%d %H:%M:%S"), "ISO-8601 strings (without a zone"),
        (
            "Date",
            lambda ts: ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ISO-8601 strings (with UTC offsets",
        ),
        ("time", lambda ts: str(ts.value // 10**9), "epoch seconds"),
        ("open_time", lambda ts: str(ts.value // 10**6), "epoch milliseconds"),
    ],
)
def test_csv_header_variants_are_detected(
    tmp_path: Path, real: pd.DataFrame, header: str, render: object, note: str
) -> None:
    lines = [f"{header},Open,High,Low,Close,Volume,quote_volume"]
    for ts, row in zip(real.index, real.itertuples(index=False), strict=True):
        values = ",".join(repr(float(x)) for x in row)
        lines.append(f"{render(ts)},{values},1.0")  # type: ignore[operator]
    path = write_csv(tmp_path / "BTC_USDT-1h.csv", "\n".join(lines) + "\n")
    frame, found = read_csv_ohlcv(path)
    assert found.startswith(f"column '{header.lower()}': {note}")
    pd.testing.assert_frame_equal(frame, real)


def test_import_gz_and_plain_csv_into_store(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path / "store")
    gz = write_csv(tmp_path / "BTC_USDT-1h.csv.gz", to_csv_text(real.iloc[:120]))
    plain = write_csv(tmp_path / "BTC_USDT-1h.csv", to_csv_text(real.iloc[100:]))
    [first] = import_path(store, gz, exchange="binance")
    [second] = import_path(store, plain, exchange="binance")
    assert (first.symbol, first.timeframe, first.added) == ("BTCUSDT", "1h", 120)
    assert (second.rows_read, second.added, second.total) == (100, 80, 200)
    pd.testing.assert_frame_equal(stored(tmp_path), real)
    [again] = import_path(store, plain, exchange="binance")
    assert again.added == 0  # re-import is harmless


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda row: row + ",7", "Expected 6 fields in line 8, saw 7"),
        (lambda row: row.rsplit(",", 1)[0], "line 8: 5 field(s), expected 6"),
        (
            lambda row: row.replace(row.split(",")[4], "", 1),
            "line 8: empty value in column(s) close",
        ),
        (lambda row: row.replace(row.split(",")[4], "abc", 1), "line 8: 'close' value 'abc'"),
        (
            lambda row: "yesterday" + row[row.index(",") :],
            "line 8: 'timestamp' mixes numbers and text",
        ),
    ],
)
def test_malformed_csv_row_names_file_and_line(
    tmp_path: Path, real: pd.DataFrame, edit: object, message: str
) -> None:
    lines = to_csv_text(real.iloc[:20]).splitlines()
    lines[7] = edit(lines[7])  # type: ignore[operator]  # line 8 of the file (header is line 1)
    path = write_csv(tmp_path / "BTC_USDT-1h.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        import_path(OHLCVStore(tmp_path / "store"), path, exchange="binance")
    assert str(path) in str(err.value) and message in str(err.value)
    assert not (tmp_path / "store").exists()


def test_unsafe_defects_block_the_import(tmp_path: Path, real: pd.DataFrame) -> None:
    bad = real.copy()
    bad.iloc[42, bad.columns.get_loc("low")] = bad.iloc[42]["high"] + 1.0
    path = write_csv(tmp_path / "BTC_USDT-1h.csv", to_csv_text(bad))
    with pytest.raises(DataError) as err:
        import_path(OHLCVStore(tmp_path / "store"), path, exchange="binance", repair_sort=True)
    assert "high_low_inconsistent: 1 row(s)" in str(err.value)
    assert real.index[42].strftime("%Y-%m-%d %H:%M") in str(err.value)
    assert not OHLCVStore(tmp_path / "store").has("binance", "BTCUSDT", "1h")


def test_safe_repairs_only_with_flags(tmp_path: Path, real: pd.DataFrame) -> None:
    messy = pd.concat([real.iloc[100:], real.iloc[:100], real.iloc[50:51]])
    path = write_csv(tmp_path / "BTC_USDT-1h.csv", to_csv_text(messy))
    store = OHLCVStore(tmp_path / "store")
    with pytest.raises(DataError, match="--repair-sort"):
        import_path(store, path, exchange="binance")
    with pytest.raises(DataError, match="--drop-duplicates"):
        import_path(store, path, exchange="binance", repair_sort=True)
    [res] = import_path(store, path, exchange="binance", repair_sort=True, drop_duplicates=True)
    assert (res.rows_read, res.added) == (201, 200)
    pd.testing.assert_frame_equal(stored(tmp_path), real)


def test_import_conflicting_with_stored_data_changes_nothing(
    tmp_path: Path, real: pd.DataFrame
) -> None:
    store = OHLCVStore(tmp_path / "store")
    import_path(
        store, write_csv(tmp_path / "BTC_USDT-1h.csv", to_csv_text(real)), exchange="binance"
    )
    other = real.copy()
    other.iloc[10, other.columns.get_loc("close")] += 0.01
    path = write_csv(tmp_path / "x.csv", to_csv_text(other))
    with pytest.raises(DataError, match="different OHLCV values"):
        import_path(store, path, exchange="binance", symbol="BTCUSDT", timeframe="1h")
    pd.testing.assert_frame_equal(stored(tmp_path), real)


def test_conflicts_are_replaced_or_kept_only_when_asked(tmp_path: Path, real: pd.DataFrame) -> None:
    store = OHLCVStore(tmp_path / "store")
    import_path(
        store, write_csv(tmp_path / "BTC_USDT-1h.csv", to_csv_text(real)), exchange="binance"
    )
    corrected = real.copy()
    corrected.iloc[10, corrected.columns.get_loc("close")] += 0.01  # a re-issued candle
    (tmp_path / "fixed").mkdir()
    path = write_csv(tmp_path / "fixed" / "BTC_USDT-1h.csv", to_csv_text(corrected))
    [kept] = import_path(store, path, exchange="binance", on_conflict="keep")
    assert (kept.added, kept.replaced) == (0, 0)
    pd.testing.assert_frame_equal(stored(tmp_path), real)
    [res] = import_path(store, path, exchange="binance", on_conflict="replace")
    assert (res.added, res.replaced, res.total) == (0, 1, 200)
    pd.testing.assert_frame_equal(stored(tmp_path), corrected)


@pytest.mark.parametrize("name", ["BTC_USDT-1h.csv", "BTC_USDT-1h.csv.gz", "BTC_USDT-1h.json"])
def test_a_file_without_candles_is_refused(tmp_path: Path, real: pd.DataFrame, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text("[]")
    else:  # the real header line of a shipped file and no rows
        write_csv(path, to_csv_text(real).splitlines()[0] + "\n")
    with pytest.raises(DataError, match=f"{name}: no candles in the file; nothing stored"):
        import_path(OHLCVStore(tmp_path / "store"), path, exchange="binance")
    assert OHLCVStore(tmp_path / "store").list_datasets() == []


@pytest.mark.parametrize("name", ["BTC_USDT-1h.csv.gz", "BTC_USDT-1h.json.gz"])
def test_truncated_gzip_is_a_data_error(tmp_path: Path, real: pd.DataFrame, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".json.gz"):
        freqtrade_json(real, tmp_path / "full.json")
        whole = gzip.compress((tmp_path / "full.json").read_bytes())
    else:
        whole = gzip.compress(to_csv_text(real).encode())
    path.write_bytes(whole[: len(whole) // 2])  # a download cut off half way
    with pytest.raises(DataError, match=f"{name}: cannot read .*EOFError"):
        import_path(OHLCVStore(tmp_path / "store"), path, exchange="binance")
    assert not (tmp_path / "store").exists()


def test_file_name_without_symbol_needs_arguments(tmp_path: Path, real: pd.DataFrame) -> None:
    path = write_csv(tmp_path / "candles.csv", to_csv_text(real))
    store = OHLCVStore(tmp_path / "store")
    with pytest.raises(DataError, match="pass symbol and timeframe"):
        import_path(store, path, exchange="binance")
    [res] = import_path(store, path, exchange="binance", symbol="BTC/USDT", timeframe="1h")
    assert res.store_path == tmp_path / "store" / "binance" / "BTCUSDT-1h.parquet"


def freqtrade_feather(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` the way freqtrade does: a ``date`` column (UTC, ms) plus OHLCV."""
    out = frame.reset_index().rename(columns={"timestamp": "date"})
    out["date"] = out["date"].dt.as_unit("ms")
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_feather(path)


def freqtrade_json(frame: pd.DataFrame, path: Path) -> None:
    rows = [
        [int(ts.value // 10**6), *map(float, row)]
        for ts, row in zip(frame.index, frame.to_numpy(), strict=True)
    ]
    path.write_text(json.dumps(rows))


def test_freqtrade_folder_feather_json_and_futures(tmp_path: Path, real: pd.DataFrame) -> None:
    folder = tmp_path / "user_data" / "data" / "binance"
    eth = read_real(ETH_1H, rows=50)
    freqtrade_feather(real, folder / "BTC_USDT-1h.feather")
    freqtrade_json(eth, folder / "ETH_USDT-1h.json")
    freqtrade_feather(real.iloc[:30], folder / "futures" / "BTC_USDT_USDT-1h-futures.feather")
    freqtrade_feather(real.iloc[:30], folder / "futures" / "BTC_USDT_USDT-1h-mark.feather")
    (folder / "notes.txt").write_text("not candles")
    store = OHLCVStore(tmp_path / "store")
    results = import_path(store, folder, exchange="binance")
    got = sorted((r.exchange, r.symbol, r.timeframe, r.added) for r in results)
    assert got == [
        ("binance", "BTCUSDT", "1h", 200),
        ("binance", "ETHUSDT", "1h", 50),
        ("binance_futures", "BTCUSDT", "1h", 30),
    ]
    pd.testing.assert_frame_equal(store.read("binance", "BTCUSDT", "1h"), real)
    pd.testing.assert_frame_equal(store.read("binance", "ETHUSDT", "1h"), eth)
    pd.testing.assert_frame_equal(store.read("binance_futures", "BTCUSDT", "1h"), real.iloc[:30])
    notes = {r.symbol: r.time_format for r in results if r.exchange == "binance"}
    assert notes == {
        "BTCUSDT": "column 'date': UTC datetimes",
        "ETHUSDT": "first element: epoch milliseconds",
    }


def test_freqtrade_json_bad_row_is_named(tmp_path: Path, real: pd.DataFrame) -> None:
    path = tmp_path / "BTC_USDT-1h.json"
    freqtrade_json(real.iloc[:10], path)
    rows = json.loads(path.read_text())
    rows[3] = rows[3][:5]
    path.write_text(json.dumps(rows))
    with pytest.raises(DataError, match=r"BTC_USDT-1h.json: row 4: expected 6 values"):
        import_path(OHLCVStore(tmp_path / "store"), path, exchange="binance")


def test_folder_filters_by_symbol_and_timeframe(tmp_path: Path, real: pd.DataFrame) -> None:
    freqtrade_feather(real, tmp_path / "ft" / "BTC_USDT-1h.feather")
    freqtrade_feather(read_real(ETH_1H, rows=10), tmp_path / "ft" / "ETH_USDT-1h.feather")
    results = import_path(
        OHLCVStore(tmp_path / "store"), tmp_path / "ft", exchange="binance", symbol="ETH/USDT"
    )
    assert [r.symbol for r in results] == ["ETHUSDT"]
    with pytest.raises(DataError, match="no candle files"):
        import_path(
            OHLCVStore(tmp_path / "store"), tmp_path / "ft", exchange="binance", timeframe="4h"
        )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BTC_USDT-5m.csv.gz", ("BTCUSDT", "5m", "spot", "")),
        ("ETH_USDT-1h.feather", ("ETHUSDT", "1h", "spot", "")),
        ("BTC_USDT_USDT-1h-futures.feather", ("BTCUSDT", "1h", "futures", "futures")),
        ("BTC_USDT_USDT-8h-funding_rate.feather", ("BTCUSDT", "8h", "futures", "funding_rate")),
        ("SOL_USDT-1d.json.gz", ("SOLUSDT", "1d", "spot", "")),
    ],
)
def test_dataset_names(name: str, expected: tuple[str, str, str, str]) -> None:
    parsed = parse_dataset_name(name)
    assert parsed is not None
    assert (parsed.symbol, parsed.timeframe, parsed.market, parsed.candle_type) == expected
    assert parse_dataset_name("readme.md") is None
