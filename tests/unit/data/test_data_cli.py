"""``btb data`` and ``btb demo`` through the real click group (lazy commands, exit codes)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pandas as pd
from click.testing import CliRunner, Result

from btb.cli.main import cli
from btb.data.store import OHLCVStore

from .ohlcv_cases import BTC_1H, read_real, to_csv_text


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_import_list_and_check_a_stored_dataset(tmp_path: Path) -> None:
    store_dir = str(tmp_path / "store")
    imported = run("data", "import", str(BTC_1H), "--data-dir", store_dir)
    assert imported.exit_code == 0, imported.output
    assert "5980 rows read, 5980 new, 5980 stored (column 'timestamp': epoch milliseconds)" in (
        imported.output
    )
    listed = run("data", "list", "--data-dir", store_dir)
    assert listed.output.splitlines()[1].split() == [
        "binance", "BTCUSDT", "1h", "5980", "2024-01-01", "00:00", "2024-09-06", "03:00",
    ]  # fmt: skip
    checked = run("data", "check", "BTC/USDT", "1h", "--data-dir", store_dir)
    assert checked.exit_code == 0
    assert "OK: no problems found" in checked.output


def test_bad_file_is_one_error_line_exit_2_and_nothing_stored(tmp_path: Path) -> None:
    frame = read_real(rows=50)
    frame.iloc[20, frame.columns.get_loc("open")] = -3.0
    path = tmp_path / "BTC_USDT-1h.csv.gz"
    path.write_bytes(gzip.compress(to_csv_text(frame).encode()))
    result = run("data", "import", str(path), "--data-dir", str(tmp_path / "store"))
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert "non_positive_price: 1 row(s)" in result.output and "2024-01-01 20:00" in result.output
    assert OHLCVStore(tmp_path / "store").list_datasets() == []


def test_import_on_conflict_option_replaces_a_stored_candle(tmp_path: Path) -> None:
    frame = read_real(rows=30)
    store_dir = str(tmp_path / "store")
    first = tmp_path / "BTC_USDT-1h.csv"
    first.write_text(to_csv_text(frame))
    assert run("data", "import", str(first), "--data-dir", store_dir).exit_code == 0
    fixed = frame.copy()
    fixed.iloc[5, fixed.columns.get_loc("volume")] = 1.5
    second = tmp_path / "fixed" / "BTC_USDT-1h.csv"
    second.parent.mkdir()
    second.write_text(to_csv_text(fixed))
    refused = run("data", "import", str(second), "--data-dir", store_dir)
    assert refused.exit_code == 2 and "--on-conflict" in refused.output
    assert refused.output.startswith("error: ") and "Traceback" not in refused.output
    done = run("data", "import", str(second), "--data-dir", store_dir, "--on-conflict", "replace")
    assert done.exit_code == 0 and "0 new, 1 replaced, 30 stored" in done.output
    assert OHLCVStore(store_dir).read("binance", "BTCUSDT", "1h")["volume"].iloc[5] == 1.5


def test_unwritable_store_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = run("data", "import", str(BTC_1H), "--data-dir", str(blocker / "store"))
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "Not a directory" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_file_reports_defects_with_exit_1(tmp_path: Path) -> None:
    frame = read_real(rows=100).drop(index=[pd.Timestamp("2024-01-02 05:00", tz="UTC")])
    doubled = pd.concat([frame, frame.iloc[[10]]])
    path = tmp_path / "BTC_USDT-1h.csv"
    path.write_text(to_csv_text(doubled))
    result = run("data", "check", str(path))
    assert result.exit_code == 1
    assert "REPAIRABLE duplicate_exact: 1 redundant row(s)" in result.output
    assert "REPAIRABLE unsorted: 1 row(s)" in result.output
    assert "WARNING gap: 1 missing candle(s) in 1 gap(s)" in result.output
    assert "first: 2024-01-02 05:00" in result.output


def test_check_of_a_symbol_alone_explains_the_two_forms(tmp_path: Path) -> None:
    result = run("data", "check", "BTCUSDT", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert result.output == (
        "error: BTCUSDT: no such file (a stored dataset is checked with SYMBOL TIMEFRAME, "
        "e.g. btb data check BTCUSDT 1h)\n"
    )


def test_check_everything_in_an_empty_store(tmp_path: Path) -> None:
    result = run("data", "check", "--data-dir", str(tmp_path))
    assert result.exit_code == 0 and "no datasets" in result.output


def test_demo_imports_summarises_and_checks(tmp_path: Path) -> None:
    result = run("demo", "--workdir", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("[1/") and lines[0].endswith("] Import the shipped sample candles")
    assert "  binance BTCUSDT  5m   71769 rows  2024-01-01 00:00 .. 2024-09-06 04:40 UTC" in lines
    assert "  binance ETHUSDT  1h    5980 rows  2024-01-01 00:00 .. 2024-09-06 03:00 UTC" in lines
    assert result.output.count("OK: no problems found") == 4
    assert len(OHLCVStore(tmp_path / "demo" / "data").list_datasets()) == 4
    again = run("demo", "--workdir", str(tmp_path / "demo"))
    assert again.exit_code == 0 and "71769 rows read, 0 new" in again.output


def test_import_of_a_gappy_file_reports_the_gap_once(tmp_path: Path) -> None:
    frame = read_real(rows=100).drop(index=[pd.Timestamp("2024-01-02 05:00", tz="UTC")])
    path = tmp_path / "BTC_USDT-1h.csv"
    path.write_text(to_csv_text(frame))
    btb = Path(sys.executable).with_name("btb")
    done = subprocess.run(
        [str(btb), "data", "import", str(path), "--data-dir", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        check=True,
    )
    both = done.stdout + done.stderr
    assert both.count("gap: 1 missing candle(s) in 1 gap(s)") == 1, both
    assert "99 rows read, 99 new" in done.stdout
