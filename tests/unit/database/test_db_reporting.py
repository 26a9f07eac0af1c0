"""Seed 002's reporting queries against hand-computed answers on a recorded set of trades.

The expectations below were worked out by hand from data/recorded_trades.json (sums shown
step by step), not by running the code.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from btb.database.manager import DatabaseManager
from btb.database.records import DailyPnl, SymbolPerformance

TRADES = json.loads((Path(__file__).parent / "data" / "recorded_trades.json").read_text())["trades"]
D = Decimal

# Daily P&L (UTC days; T05 = 1 Mar 23:59:59 UTC, T06 = 2 Mar 00:00:00 UTC):
#   1 Mar: T01 12.45 - T02 4.10 - T03 7.35 + T04 3.21 + T05 6.66 = 10.87
#   2 Mar: T06 20.00 - T07 1.99 + T08 0.00 + T09 5.55 - T10 0.01 = 23.55
#   3 Mar: T11 9.87 - T12 15.20 + T13 4.44 (T14 none) - T15 2.22 = -3.11
#   5 Mar: T16 7.77 + T17 0.10 + T18 0.20 - T19 8.88 - T20 3.33 = -4.14
EXPECTED_DAILY = [
    DailyPnl(date(2024, 3, 5), D("-4.14")),
    DailyPnl(date(2024, 3, 3), D("-3.11")),
    DailyPnl(date(2024, 3, 2), D("23.55")),
    DailyPnl(date(2024, 3, 1), D("10.87")),
]
# Wins (pnl > 0): T01 T04 T05 T06 T09 T11 T13 T16 T17 T18 = 10 of 20 trades
# (T08's 0.00 is no win; T14 without pnl still counts as a trade) -> 50 %.
EXPECTED_WIN_RATE = 50.0
# Per symbol (AVG over trades that have a pnl; 18 places, half-even):
#   BTCUSDT 8 trades: 12.45 - 7.35 + 20.00 + 5.55 - 15.20 + 0.10 + 0.20 = 15.75 over 7 -> 2.25
#   ETHUSDT 6 trades: -4.10 + 6.66 + 0.00 + 9.87 - 2.22 - 8.88 = 1.33 -> 1.33/6 = 0.2216666...
#   SOLUSDT 6 trades: 3.21 - 1.99 - 0.01 + 4.44 + 7.77 - 3.33 = 10.09 -> 10.09/6 = 1.6816666...
EXPECTED_SYMBOLS = [
    SymbolPerformance("BTCUSDT", 8, D("15.75"), D("2.25")),
    SymbolPerformance("ETHUSDT", 6, D("1.33"), D("0.221666666666666667")),
    SymbolPerformance("SOLUSDT", 6, D("10.09"), D("1.681666666666666667")),
]


@pytest.fixture
async def recorded(db: DatabaseManager) -> DatabaseManager:
    for trade in TRADES:
        await db.store_trade(trade)
    return db


async def test_daily_pnl_report_matches_hand_computation(recorded: DatabaseManager) -> None:
    assert await recorded.daily_pnl_report() == EXPECTED_DAILY


async def test_get_daily_pnl_per_day(recorded: DatabaseManager) -> None:
    for day, pnl in EXPECTED_DAILY:
        assert await recorded.get_daily_pnl(day) == pnl
    assert await recorded.get_daily_pnl(date(2024, 3, 4)) == D(0)  # no trades that day


async def test_win_rate_matches_hand_computation(recorded: DatabaseManager) -> None:
    assert await recorded.win_rate() == EXPECTED_WIN_RATE


async def test_symbol_performance_matches_hand_computation(recorded: DatabaseManager) -> None:
    assert await recorded.symbol_performance() == EXPECTED_SYMBOLS


async def test_reports_filter_by_bot(db: DatabaseManager) -> None:
    # T01..T05 by bot "alpha" (all on 1 March), the rest by "beta".
    for i, trade in enumerate(TRADES):
        await db.store_trade(trade, bot_name="alpha" if i < 5 else "beta")
    assert await db.daily_pnl_report(bot_name="alpha") == [EXPECTED_DAILY[-1]]
    # alpha's wins: T01 T04 T05 = 3 of 5.
    assert await db.win_rate(bot_name="alpha") == 60.0
    assert await db.get_daily_pnl(date(2024, 3, 1), bot_name="beta") == D(0)
    # beta's BTCUSDT: T06 20.00 + T09 5.55 - T12 15.20 + T17 0.10 + T18 0.20 = 10.65 (T14 none)
    beta = {row.symbol: row for row in await db.symbol_performance(bot_name="beta")}
    assert (beta["BTCUSDT"].trades, beta["BTCUSDT"].total_pnl) == (6, D("10.65"))


async def test_reports_on_an_empty_database(db: DatabaseManager) -> None:
    assert await db.daily_pnl_report() == []
    assert await db.win_rate() == 0.0
    assert await db.symbol_performance() == []
    assert await db.get_daily_pnl() == D(0)


async def test_storing_the_record_twice_changes_nothing(recorded: DatabaseManager) -> None:
    for trade in TRADES:
        assert await recorded.store_trade(trade) is False  # same trade_id: already stored
    assert await recorded.win_rate() == EXPECTED_WIN_RATE
    assert len(await recorded.get_trades()) == len(TRADES)
