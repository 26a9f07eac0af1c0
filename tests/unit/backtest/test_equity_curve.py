"""btb.backtest.results.equity_curve: equity rebuilt from fills and closes."""

from __future__ import annotations

import pandas as pd
import pytest

from btb.backtest.results import equity_curve

IDX = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")


def test_equity_from_fills_two_symbols_and_funding() -> None:
    closes = {
        "AAA": pd.Series([10.0, 11.0, 12.0, 13.0], index=IDX),
        "BBB": pd.Series([100.0, 90.0, 80.0], index=IDX[1:]),
    }
    fills = pd.DataFrame(
        {
            "symbol": ["AAA", "BBB", "AAA"],
            "time": [IDX[0], IDX[1], IDX[2]],
            "signed_qty": [5.0, -1.0, -5.0],
            "price": [10.0, 100.0, 12.5],
            "fee": [0.1, 0.2, 0.3],
        }
    )
    funding = pd.DataFrame({"symbol": ["BBB"], "time": [IDX[3]], "amount": [-0.5]})
    eq = equity_curve(closes, fills, funding, 1000.0)
    # bar 0: 1000 - 50 - 0.1 + 5 * 10 = 999.9
    # bar 1: cash 949.9 + (100 - 0.2) = 1049.7; marked 5 * 11 - 1 * 100 = -45 -> 1004.7
    # bar 2: cash 1049.7 + 62.5 - 0.3 = 1111.9; marked -1 * 90 -> 1021.9
    # bar 3: funding received 0.5 -> cash 1112.4; marked -1 * 80 -> 1032.4
    assert eq.tolist() == pytest.approx([999.9, 1004.7, 1021.9, 1032.4])
    assert list(eq.index) == list(IDX)


def test_a_fill_off_the_bar_grid_is_an_error() -> None:
    closes = {"AAA": pd.Series([1.0, 2.0], index=IDX[:2])}
    fills = pd.DataFrame(
        {
            "symbol": ["AAA"],
            "time": [IDX[0] + pd.Timedelta(minutes=1)],
            "signed_qty": [1.0],
            "price": [1.0],
            "fee": [0.0],
        }
    )
    empty = pd.DataFrame({"symbol": [], "time": pd.DatetimeIndex([], tz="UTC"), "amount": []})
    with pytest.raises(ValueError, match="not a bar time"):
        equity_curve(closes, fills, empty, 10.0)
