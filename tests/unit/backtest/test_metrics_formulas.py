"""btb.backtest.metrics on a tiny hand-worked equity curve and trade list."""

from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest

from btb.backtest.metrics import calculate_metrics, exposure, trade_stats

INDEX = pd.date_range("2024-01-01", periods=5, freq="1D", tz="UTC")
EQUITY = pd.Series([110.0, 99.0, 105.0, 121.0, 110.0], index=INDEX)
# bar returns, the first from the initial 100: +10 %, -10 %, 6/99, 16/105, -1/11
RETURNS = [0.1, -0.1, 6 / 99, 16 / 105, -1 / 11]
TRADES = pd.DataFrame(
    {
        "symbol": ["AAA", "AAA", "BBB", "BBB"],
        "entry_time": [INDEX[0], INDEX[3], INDEX[3], INDEX[4]],
        "exit_time": [INDEX[1], INDEX[3], INDEX[3], INDEX[4]],
        "net_pnl": [10.0, -5.0, 20.0, 0.0],
        "fees": [0.5, 0.25, 1.0, 0.25],
        "bars": [1, 0, 0, 0],
    }
)


@pytest.fixture(scope="module")
def metrics() -> dict:
    return calculate_metrics(EQUITY, TRADES, initial=100.0, timeframe="1d")


def test_returns_and_growth(metrics) -> None:
    assert metrics["total_return"] == pytest.approx(0.10)
    years = 5 / 365.25  # first open to last close: 5 days
    assert metrics["cagr"] == pytest.approx(1.1 ** (1 / years) - 1)


def test_sharpe_and_sortino_annualised_from_daily_bars(metrics) -> None:
    mean, std = statistics.mean(RETURNS), statistics.stdev(RETURNS)
    downside = math.sqrt(sum(min(r, 0) ** 2 for r in RETURNS) / len(RETURNS))
    assert metrics["sharpe"] == pytest.approx(mean / std * math.sqrt(365.25))
    assert metrics["sortino"] == pytest.approx(mean / downside * math.sqrt(365.25))


def test_drawdown_depth_duration_and_calmar(metrics) -> None:
    # peak 110 -> 99 is -10 %; 121 -> 110 is -9.09 %. Underwater from the 110 peak (day 0)
    # until 121 on day 3: 3 days, 2 bars below the peak
    assert metrics["max_drawdown"] == pytest.approx(0.1)
    assert metrics["max_drawdown_duration"] == str(pd.Timedelta(days=3))
    assert metrics["max_drawdown_bars"] == 2
    assert metrics["calmar"] == pytest.approx(metrics["cagr"] / 0.1)


def test_trade_statistics(metrics) -> None:
    assert metrics["trade_count"] == 4
    assert metrics["win_rate"] == pytest.approx(0.5)  # a zero trade is not a win
    assert metrics["profit_factor"] == pytest.approx(30 / 5)
    assert metrics["expectancy"] == pytest.approx(25 / 4)
    assert metrics["fees_paid"] == pytest.approx(2.0)
    assert metrics["per_symbol"]["BBB"]["profit_factor"] == math.inf
    assert metrics["per_symbol"]["AAA"]["net_pnl"] == pytest.approx(5.0)


def test_exposure_counts_bars_with_a_position(metrics) -> None:
    # trades cover days 0-1, 3 and 4 -> 4 of 5 bars
    assert metrics["exposure"] == pytest.approx(0.8)
    assert exposure(TRADES.iloc[:1], INDEX) == pytest.approx(0.4)


def test_no_trades_gives_undefined_ratios() -> None:
    stats = trade_stats(TRADES.iloc[:0])
    assert (stats["trade_count"], stats["win_rate"], stats["profit_factor"]) == (0, None, None)
    flat = pd.Series([100.0] * 3, index=INDEX[:3])
    m = calculate_metrics(flat, TRADES.iloc[:0], initial=100.0, timeframe="1d")
    assert m["sharpe"] is None and m["max_drawdown"] == 0.0 and m["total_return"] == 0.0
