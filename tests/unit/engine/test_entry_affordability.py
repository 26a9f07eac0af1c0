"""Entries are sized to what free cash can pay at the expected fill (decision price plus
slippage and the 0.2 % gap allowance), so a slightly higher next open does not get them
refused; and an entry the venue still refuses is reported once, not on every bar."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from btb.core import Bar, Instrument, MarketType, OrderStatus, PositionSide
from btb.engine.engine import Engine
from btb.engine.intents import EngineSettings, OrderIntent
from btb.engine.venue import SimulatedVenue
from btb.strategies.base import BaseStrategy
from btb.strategies.context import SignalRow, StrategyContext

T0 = datetime(2024, 1, 1, tzinfo=UTC)
D = Decimal


class Plan(BaseStrategy):
    """Enters long on the planned (symbol, bar index) pairs."""

    def __init__(self, plan: set[tuple[str, int]]) -> None:
        super().__init__({})
        self.plan = plan

    def on_bar(self, ctx: StrategyContext) -> list[Any]:
        if (ctx.symbol, ctx.index) in self.plan:
            return [OrderIntent.enter(ctx.symbol, PositionSide.LONG)]
        return []


class NoFeed:
    def history(self, symbol: str) -> pd.DataFrame:
        return pd.DataFrame()

    def signal(self, symbol: str) -> SignalRow | None:
        return None


def make(symbols: list[str], plan: set[tuple[str, int]], stop: float) -> Engine:
    step = D("0.001")
    inst = {
        s: Instrument(s, s[:3], "USDT", MarketType.SPOT, D("0.01"), step, step) for s in symbols
    }
    venue = SimulatedVenue(inst, initial_cash=D(10_000), taker_fee=D("0.001"), maker_fee=D("0.001"))
    settings = EngineSettings(
        sizing="risk_per_trade",
        risk_per_trade=0.01,
        stop_loss_pct=stop,
        take_profit_pct=None,
        taker_fee=0.001,
    )
    return Engine(
        Plan(plan),
        venue,
        NoFeed(),
        instruments=inst,
        settings=settings,
        initial_cash=D(10_000),
        timeframe="1h",
    )


def drive(engine: Engine, candles: dict[str, list[tuple[float, float, float, float]]]) -> None:
    venue = engine.venue
    assert isinstance(venue, SimulatedVenue)
    n = len(next(iter(candles.values())))
    for i in range(n):
        ts = T0 + timedelta(hours=i)
        for symbol, rows in candles.items():
            o, h, lo, _ = rows[i]
            venue.process_bar(symbol, ts, o, h, lo)
        for symbol, rows in candles.items():
            o, h, lo, c = rows[i]
            engine.on_bar(Bar(symbol, "1h", ts, o, h, lo, c, 1.0), i)


def test_oversized_entry_is_capped_and_fills_at_a_slightly_higher_open() -> None:
    # risk_per_trade: 10,000 * 0.01 / (100 * 0.005) = 200 units, twice the account: capped.
    # Cap: 10,000 / (100 * 1.002 * 1.001) = 10,000 / 100.3002 = 99.7007 -> 99.700 units.
    # The next open is 0.1 % higher: 99.7 * 100.1 * 1.001 = 9,990.0 <= 10,000, so it fills.
    # (Capped at the decision close alone, 10,000 / 100.1 = 99.900 would need 10,010.0.)
    e = make(["AAAUSDT"], {("AAAUSDT", 0)}, stop=0.005)
    drive(e, {"AAAUSDT": [(100, 100, 100, 100), (100.1, 100.1, 100.1, 100.1)]})
    entry = e.orders["btb-AAAUSDT-000001"]
    assert entry.status is OrderStatus.FILLED
    assert e.portfolio.position("AAAUSDT").quantity == D("99.700")
    assert e.portfolio.cash == D(10_000) - D("99.700") * D("100.1") * D("1.001")


def test_two_entries_on_one_bar_both_fill_after_a_small_gap() -> None:
    # Each entry: 10,000 * 0.01 / (100 * 0.02) = 50 units (5,000, half the account).
    # The first is sized fully and reserves 50 * 100 * 1.002 * 1.001 = 5,015.01; the second
    # is capped at (10,000 - 5,015.01) / 100.3002 = 49.7007 -> 49.700 units. Both fill at
    # 100.1: 50 * 100.1 * 1.001 + 49.7 * 100.1 * 1.001 = 5,010.005 + 4,979.94497 = 9,989.95.
    e = make(["AAAUSDT", "BBBUSDT"], {("AAAUSDT", 0), ("BBBUSDT", 0)}, stop=0.02)
    bars = [(100.0, 100.0, 100.0, 100.0), (100.1, 100.1, 100.1, 100.1)]
    drive(e, {"AAAUSDT": bars, "BBBUSDT": bars})
    entries = [o for coid, o in e.orders.items() if not coid.endswith("-sl")]
    assert [o.status for o in entries] == [OrderStatus.FILLED] * 2
    assert e.portfolio.position("AAAUSDT").quantity == D(50)
    assert e.portfolio.position("BBBUSDT").quantity == D("49.700")
    assert e.portfolio.cash == D("10000") - D("5010.005") - D("4979.94497")


def test_a_refused_entry_is_logged_once_per_symbol(caplog: pytest.LogCaptureFixture) -> None:
    # Every open is 1 % above the previous close, more than the 0.2 % allowance: the entry
    # re-sent on bars 0..3 expires at the opens of bars 1..4, four times.
    e = make(["AAAUSDT"], {("AAAUSDT", i) for i in range(4)}, stop=0.005)
    prices = [100 * 1.01**k for k in range(5)]
    with caplog.at_level(logging.DEBUG, logger="btb.engine.venue"):
        drive(e, {"AAAUSDT": [(p, p, p, p) for p in prices]})
    expired = [r for r in caplog.records if "expired" in r.getMessage()]
    assert [r.levelno for r in expired] == [logging.INFO] + [logging.DEBUG] * 3
    assert all(o.status is OrderStatus.EXPIRED for o in e.orders.values())
    assert e.portfolio.position("AAAUSDT").is_flat
