"""check_ohlcv and repair on real shipped BTC/USDT 1h candles with injected defects.

Every expectation (count, first timestamps) follows from where the defect was injected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from btb.data.validate import IssueKind, check_ohlcv, repair, validate_frame
from btb.errors import DataError

from .ohlcv_cases import read_real


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return read_real(rows=300)


def ts(real: pd.DataFrame, *rows: int) -> tuple[pd.Timestamp, ...]:
    return tuple(real.index[r] for r in rows)


def kinds(report: object) -> set[str]:
    return {str(issue.kind) for issue in report.issues}  # type: ignore[attr-defined]


def test_clean_real_data_reports_nothing(real: pd.DataFrame) -> None:
    report = check_ohlcv(real, "1h", source="BTC 1h")
    assert report.ok and report.rows == 300
    assert (report.first, report.last) == (real.index[0], real.index[299])
    assert "OK: no problems found" in report.text()
    pd.testing.assert_frame_equal(repair(real, report), real)


def test_unsorted_rows_are_found_and_sorted_only_when_asked(real: pd.DataFrame) -> None:
    order = list(range(300))
    order[10], order[11] = 11, 10
    order[100], order[101] = 101, 100
    shuffled = real.iloc[order]
    report = check_ohlcv(shuffled, "1h", source="x.csv")
    issue = report.issue(IssueKind.UNSORTED)
    assert issue is not None and issue.count == 2
    # The rows that are earlier than their predecessor: original rows 10 and 100.
    assert issue.first == ts(real, 10, 100)
    assert kinds(report) == {"unsorted"}
    with pytest.raises(DataError, match="--repair-sort"):
        repair(shuffled, report)
    pd.testing.assert_frame_equal(repair(shuffled, report, sort=True), real)


def test_agreeing_duplicates_are_dropped_only_when_asked(real: pd.DataFrame) -> None:
    doubled = pd.concat([real.iloc[:21], real.iloc[20:21], real.iloc[21:]])
    report = check_ohlcv(doubled, "1h")
    issue = report.issue(IssueKind.DUPLICATE_EXACT)
    assert issue is not None and (issue.count, issue.first) == (1, ts(real, 20))
    assert kinds(report) == {"duplicate_exact"}
    with pytest.raises(DataError, match="--drop-duplicates"):
        repair(doubled, report)
    pd.testing.assert_frame_equal(repair(doubled, report, drop_exact_duplicates=True), real)


def test_conflicting_duplicates_are_never_repaired(real: pd.DataFrame) -> None:
    other = real.iloc[30:31].copy()
    other["close"] += 1.0
    clash = pd.concat([real.iloc[:31], other, real.iloc[31:]])
    report = check_ohlcv(clash, "1h", source="clash.csv")
    issue = report.issue(IssueKind.DUPLICATE_CONFLICTING)
    assert issue is not None and (issue.count, issue.first) == (1, ts(real, 30))
    assert report.issue(IssueKind.DUPLICATE_EXACT) is None
    with pytest.raises(DataError) as err:
        repair(clash, report, sort=True, drop_exact_duplicates=True)
    assert "duplicate_conflicting" in str(err.value) and "clash.csv" in str(err.value)


def test_gaps_are_reported_as_warnings_and_not_filled(real: pd.DataFrame) -> None:
    holed = real.drop(index=list(ts(real, 50, 51, 52, 200)))
    report = check_ohlcv(holed, "1h")
    issue = report.issue(IssueKind.GAP)
    # 4 missing candles in 2 gaps; first missing candle of each gap.
    assert issue is not None and (issue.count, issue.first) == (4, ts(real, 50, 200))
    assert "2 gap(s)" in issue.description and "largest 3" in issue.description
    assert report.warnings == (issue,) and not report.errors
    repaired = repair(holed, report)
    assert len(repaired) == 296  # nothing invented


def test_nan_values(real: pd.DataFrame) -> None:
    bad = real.copy()
    bad.iloc[7, bad.columns.get_loc("close")] = np.nan
    bad.iloc[9, bad.columns.get_loc("volume")] = np.nan
    report = check_ohlcv(bad, "1h")
    issue = report.issue(IssueKind.NAN)
    assert issue is not None and (issue.count, issue.first) == (2, ts(real, 7, 9))
    with pytest.raises(DataError, match="nan"):
        repair(bad, report)


def test_non_positive_prices_and_negative_volume(real: pd.DataFrame) -> None:
    bad = real.copy()
    bad.iloc[3, [bad.columns.get_loc("close"), bad.columns.get_loc("low")]] = 0.0
    bad.iloc[5, bad.columns.get_loc("low")] = -1.0
    bad.iloc[8, bad.columns.get_loc("volume")] = -5.0
    report = check_ohlcv(bad, "1h")
    prices = report.issue(IssueKind.NON_POSITIVE_PRICE)
    volume = report.issue(IssueKind.NEGATIVE_VOLUME)
    assert prices is not None and (prices.count, prices.first) == (2, ts(real, 3, 5))
    assert volume is not None and (volume.count, volume.first) == (1, ts(real, 8))
    assert kinds(report) == {"non_positive_price", "negative_volume"}
    with pytest.raises(DataError):
        repair(bad, report)


def test_high_low_inconsistent_bars(real: pd.DataFrame) -> None:
    bad = real.copy()
    row = bad.iloc[12]
    bad.iloc[12, bad.columns.get_loc("high")] = max(row["open"], row["close"]) - 1.0
    row = bad.iloc[14]
    bad.iloc[14, bad.columns.get_loc("low")] = min(row["open"], row["close"]) + 1.0
    row = bad.iloc[16]
    bad.iloc[16, [bad.columns.get_loc("high"), bad.columns.get_loc("low")]] = [
        row["low"],
        row["high"],
    ]
    report = check_ohlcv(bad, "1h")
    issue = report.issue(IssueKind.HIGH_LOW_INCONSISTENT)
    assert issue is not None and (issue.count, issue.first) == (3, ts(real, 12, 14, 16))
    assert kinds(report) == {"high_low_inconsistent"}
    with pytest.raises(DataError, match="high_low_inconsistent"):
        repair(bad, report)


def test_first_timestamps_are_capped_at_five(real: pd.DataFrame) -> None:
    bad = real.copy()
    rows = [40, 41, 60, 61, 62, 63, 64]
    bad.iloc[rows, bad.columns.get_loc("open")] = np.nan
    issue = check_ohlcv(bad, "1h").issue(IssueKind.NAN)
    assert issue is not None and issue.count == 7
    assert issue.first == ts(real, 40, 41, 60, 61, 62)


def test_misaligned_open_time(real: pd.DataFrame) -> None:
    shifted = real.copy()
    index = shifted.index.to_list()
    index[40] = index[40] + pd.Timedelta(minutes=1)
    shifted.index = pd.DatetimeIndex(index, name="timestamp")
    report = check_ohlcv(shifted, "1h")
    issue = report.issue(IssueKind.MISALIGNED)
    assert issue is not None and (issue.count, issue.first) == (1, (index[40],))
    assert kinds(report) == {"misaligned"}  # 61 and 59 minute steps hide no candle


def test_wrong_timeframe_label_is_caught(real: pd.DataFrame) -> None:
    # Real hourly candles checked as 4h: three of every four open times are off the grid.
    report = check_ohlcv(real.iloc[:8], "4h")
    issue = report.issue(IssueKind.MISALIGNED)
    assert issue is not None and issue.count == 6
    assert issue.first == ts(real, 1, 2, 3, 5, 6)


def test_report_text_lists_every_issue(real: pd.DataFrame) -> None:
    bad = real.drop(index=list(ts(real, 100)))
    bad.iloc[2, bad.columns.get_loc("close")] = np.nan
    text = check_ohlcv(bad, "1h", source="f.csv").text()
    assert text.splitlines()[0] == "f.csv [1h]: 299 rows, 2024-01-01 00:00 .. 2024-01-13 11:00 UTC"
    assert "ERROR nan: 1 row(s)" in text and "first: 2024-01-01 02:00" in text
    assert "WARNING gap: 1 missing candle(s)" in text and "first: 2024-01-05 04:00" in text


def test_validate_frame_returns_repaired_frame_and_report(real: pd.DataFrame) -> None:
    messy = pd.concat([real.iloc[5:], real.iloc[:5], real.iloc[:1]])
    frame, report = validate_frame(messy, "1h", "m.csv", sort=True, drop_exact_duplicates=True)
    pd.testing.assert_frame_equal(frame, real)
    assert {str(i.kind) for i in report.repairable} == {"unsorted", "duplicate_exact"}


def test_wrong_shape_is_a_data_error(real: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="missing column"):
        check_ohlcv(real.drop(columns=["volume"]), "1h", source="s")
    with pytest.raises(DataError, match="unknown timeframe"):
        check_ohlcv(real, "1M")
