"""resample: hand-computed bars, no partial bars, Monday weeks, and Binance's own 1h candles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from btb.data.resample import resample
from btb.errors import DataError

from .ohlcv_cases import BTC_1H, BTC_5M, read_real


def frame(start: str, freq: str, rows: list[list[float]]) -> pd.DataFrame:
    """Hand-written bars from ``start`` every ``freq`` as a canonical frame."""
    index = pd.date_range(start, periods=len(rows), freq=freq, tz="UTC", name="timestamp")
    index = pd.DatetimeIndex(index.to_list(), name="timestamp").as_unit("us")  # no freq attribute
    return pd.DataFrame(rows, index=index, columns=["open", "high", "low", "close", "volume"])


# Eight 15m bars 00:00 .. 01:45 (values chosen by hand).
QUARTERS = [
    [10.0, 12.0, 9.0, 11.0, 1.0],
    [11.0, 15.0, 10.0, 14.0, 2.0],
    [14.0, 14.5, 8.0, 9.0, 3.0],
    [9.0, 10.0, 8.5, 9.5, 4.0],
    [9.5, 11.0, 9.5, 10.5, 0.5],
    [10.5, 10.5, 7.0, 8.0, 1.5],
    [8.0, 20.0, 8.0, 19.0, 2.5],
    [19.0, 19.5, 18.0, 18.5, 3.5],
]


def test_complete_bars_by_hand() -> None:
    out = resample(frame("2024-03-01", "15min", QUARTERS), "1h")
    expected = frame(
        "2024-03-01", "1h", [[10.0, 15.0, 8.0, 9.5, 10.0], [9.5, 20.0, 7.0, 18.5, 8.0]]
    )
    pd.testing.assert_frame_equal(out, expected)


def test_incomplete_first_last_and_gap_bars_are_dropped() -> None:
    # Starts at 00:15 (first hour incomplete), lacks 01:30 (second hour incomplete),
    # then a full third hour, then one bar of a fourth hour.
    rows = QUARTERS[1:4] + QUARTERS[4:6] + QUARTERS[7:8] + QUARTERS[:4] + QUARTERS[:1]
    index = pd.DatetimeIndex(
        [
            pd.Timestamp("2024-03-01 00:15", tz="UTC") + pd.Timedelta(minutes=15 * i)
            for i in range(3)
        ]
        + [
            pd.Timestamp("2024-03-01 01:00", tz="UTC") + pd.Timedelta(minutes=m)
            for m in (0, 15, 45)
        ]
        + [
            pd.Timestamp("2024-03-01 02:00", tz="UTC") + pd.Timedelta(minutes=15 * i)
            for i in range(5)
        ],
        name="timestamp",
    ).as_unit("us")
    fine = pd.DataFrame(rows, index=index, columns=["open", "high", "low", "close", "volume"])
    out = resample(fine, "1h", "15m")
    expected = frame("2024-03-01 02:00", "1h", [[10.0, 15.0, 8.0, 9.5, 10.0]])
    pd.testing.assert_frame_equal(out, expected)


def test_bars_align_to_utc_boundaries_not_to_the_first_row() -> None:
    hours = [[float(i + 1), i + 1.5, i + 0.5, i + 1.25, 1.0] for i in range(10)]
    out = resample(frame("2024-03-01 01:00", "1h", hours), "4h")
    # 01:00-03:00 cannot fill 00:00-04:00; bars start at 04:00 (rows 3..6) and 08:00 (7..9: 3 only).
    expected = frame("2024-03-01 04:00", "4h", [[4.0, 7.5, 3.5, 7.25, 4.0]])
    pd.testing.assert_frame_equal(out, expected)


def test_weeks_start_on_monday_utc() -> None:
    # Daily bars Wednesday 2024-01-03 .. Tuesday 2024-01-16; day i: open i, close i+0.5.
    days = [[float(i), i + 2.0, i - 1.0, i + 0.5, 10.0 * i] for i in range(1, 15)]
    out = resample(frame("2024-01-03", "1D", days), "1w")
    # Only Monday 2024-01-08 .. Sunday 2024-01-14 is complete: rows 6..12 (i = 6..12).
    expected = frame("2024-01-08", "7D", [[6.0, 14.0, 5.0, 12.5, 10.0 * sum(range(6, 13))]])
    pd.testing.assert_frame_equal(out, expected)
    assert out.index[0].day_name() == "Monday"


def test_matches_binance_own_hourly_candles() -> None:
    # An independent oracle: Binance's 1h candles vs our aggregation of its 5m candles.
    five = read_real(BTC_5M, rows=12 * 24 * 7 + 7)  # one week plus 7 bars of an hour
    hourly = read_real(BTC_1H, rows=24 * 7)
    out = resample(five, "1h", "5m")
    assert out.index.equals(hourly.index)
    pd.testing.assert_frame_equal(
        out[["open", "high", "low", "close"]], hourly[["open", "high", "low", "close"]]
    )
    np.testing.assert_allclose(out["volume"], hourly["volume"], rtol=1e-12)


def test_inferred_source_timeframe() -> None:
    out = resample(frame("2024-03-01", "15min", QUARTERS), "30m")
    assert len(out) == 4 and out.iloc[0].tolist() == [10.0, 15.0, 9.0, 14.0, 3.0]


@pytest.mark.parametrize(
    ("target", "source", "message"),
    [
        ("15m", "15m", "coarser"),
        ("5m", "15m", "coarser"),
        ("40m", "15m", "multiple"),
        ("1M", "15m", "unknown timeframe"),
    ],
)
def test_rejects_targets_that_are_not_coarser_multiples(
    target: str, source: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        resample(frame("2024-03-01", "15min", QUARTERS), target, source)


def test_rejects_unsorted_or_off_grid_input() -> None:
    fine = frame("2024-03-01", "15min", QUARTERS)
    with pytest.raises(DataError, match="sorted"):
        resample(fine.iloc[::-1], "1h", "15m")
    shifted = fine.copy()
    shifted.index = shifted.index + pd.Timedelta(minutes=5)
    with pytest.raises(DataError, match="grid"):
        resample(shifted, "1h", "15m")
