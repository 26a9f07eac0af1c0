"""The five built-in strategies beside ema_cross on real Binance candles, end to end.

Each runs through :class:`btb.backtest.engine.Backtester` on BTC/USDT 1h (Jan-May 2024) and must
trade; signal strategies must pass the look-ahead check and give the same trades on the fast
and the event path; stateful ones must make the same fills up to a cut whether or not the
later candles exist; every entry the engine fills gets a protective stop near it at once
(grid excepted: it exits through its own sells and range stop, by design); and the grid's
inventory always equals the position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from btb.backtest.engine import Backtester
from btb.backtest.lookahead import check_lookahead
from btb.core import Bar, Instrument, MarketType, OrderStatus, OrderType
from btb.engine.engine import Engine
from btb.engine.intents import EngineSettings
from btb.engine.venue import SimulatedVenue
from btb.strategies.base import BaseStrategy
from btb.strategies.context import SignalRow
from btb.strategies.factory import create_strategy
from btb.strategies.grid import GridStrategy

SIGNAL = ["enhanced", "trend_follower", "smc"]
STATEFUL = ["grid", "dca"]
ROWS = 3000
SYMBOL = "BTCUSDT"
D = Decimal


@pytest.fixture(scope="module")
def btc(ohlcv_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz", nrows=ROWS)
    df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("timestamp"), unit="ms", utc=True))
    return df.astype("float64")


def config(strategy: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "exchange": {"name": "sim", "testnet": True},
        "trading": {"symbols": [SYMBOL], "timeframes": ["1h"], "strategy": strategy},
        "risk": {},
        "data": {},
        "strategy_params": dict(params or {}),
        "backtest": {"initial_capital": 10_000.0},
    }


def run(name: str, df: pd.DataFrame, path: str = "auto") -> dict[str, Any]:
    return Backtester(config(name), {SYMBOL: df}, path=path).run()


@pytest.mark.parametrize("name", SIGNAL)
def test_signal_strategies_trade_without_lookahead_on_both_paths(
    name: str, btc: pd.DataFrame
) -> None:
    fast, event = run(name, btc, "fast"), run(name, btc, "event")
    assert fast["path"] == "fast" and event["path"] == "event"
    assert len(event["trades"]) >= 10
    pd.testing.assert_frame_equal(fast["trades"], event["trades"])
    assert check_lookahead(create_strategy(name, {}), {SYMBOL: btc}) == []
    assert set(event["trades"]["exit_reason"]) <= {
        "signal", "stop_loss", "take_profit", "end_of_data",
    }  # fmt: skip
    assert (event["trades"]["exit_reason"] == "stop_loss").any()


@pytest.mark.parametrize("name", STATEFUL)
def test_stateful_strategies_trade_and_do_not_peek(name: str, btc: pd.DataFrame) -> None:
    full = run(name, btc)
    assert full["path"] == "event" and len(full["trades"]) >= 1
    fills = full["fills"]
    for cut in (700, 1900):
        part = run(name, btc.iloc[: cut + 1])["fills"]
        # Fills before the last candle of the shorter run cannot depend on later candles
        # (the last candle also carries the end-of-data exit, so it is left out).
        before = btc.index[cut]
        pd.testing.assert_frame_equal(
            part[part["time"] < before].reset_index(drop=True),
            fills[fills["time"] < before].reset_index(drop=True),
        )


def test_grid_cycles_and_range_stop(btc: pd.DataFrame) -> None:
    # January 2024 chops around the first close (42,475): a +-5 % grid completes many cycles.
    grid = create_strategy("grid", {"range_pct": 0.05, "levels": 11, "stop_loss": 0.02})
    Backtester(config("grid"), {SYMBOL: btc.iloc[:400]}, strategy=grid).run()
    assert grid.cycles >= 10 and not grid.stopped  # type: ignore[attr-defined]
    # On 2024-01-03 BTC fell from 45,150 to 40,750 within two hours. A +-2 % grid set at the
    # 11:00 close (43,703; levels 42,829 .. 44,577) buys on the 12:00 drop; the 14:00 close
    # (42,180) is below 42,829 * 0.99, so the grid sells everything and stops.
    stop = create_strategy("grid", {"range_pct": 0.02, "levels": 5, "stop_loss": 0.01})
    crash = btc.loc["2024-01-03 11:00":"2024-01-04 12:00"]
    trades = Backtester(config("grid"), {SYMBOL: crash}, strategy=stop).run()["trades"]
    assert stop.stopped and len(trades) == 1  # type: ignore[attr-defined]
    assert str(trades["entry_time"].iloc[0]) == "2024-01-03 12:00:00+00:00"
    assert str(trades["exit_time"].iloc[0]) == "2024-01-03 15:00:00+00:00"  # next open


# ---- every filled entry is protected at once ----------------------------------------------


class _Feed:
    def __init__(self, df: pd.DataFrame, strategy: BaseStrategy) -> None:
        self.df, self.pos = df, -1
        self.sig = strategy.signals(df) if strategy.is_signal_strategy() else None

    def history(self, symbol: str) -> pd.DataFrame:
        return self.df.iloc[: self.pos + 1]

    def signal(self, symbol: str) -> SignalRow | None:
        if self.sig is None:
            return None
        row = self.sig.iloc[self.pos]
        return SignalRow(
            *(bool(row[c]) for c in ("enter_long", "exit_long", "enter_short", "exit_short")),
            *(float(row.get(c, np.nan)) for c in ("stop_loss", "take_profit")),
        )


def drive(
    strategy: BaseStrategy, df: pd.DataFrame, after_bar: Callable[[Engine], None] | None = None
) -> Engine:
    """Run the real engine and venue bar by bar (as the backtest shell does) and keep them;
    ``after_bar`` inspects the engine after each decision."""
    inst = {
        SYMBOL: Instrument(
            SYMBOL, "BTC", "USDT", MarketType.SPOT, tick_size=D("0.01"), lot_step=D("0.00001"),
            min_qty=D("0.00001"), min_notional=D("5"),
        )
    }  # fmt: skip
    venue = SimulatedVenue(inst, initial_cash=D(10_000))
    feed = _Feed(df, strategy)
    engine = Engine(
        strategy, venue, feed, instruments=inst, settings=EngineSettings(),
        initial_cash=D(10_000), timeframe="1h",
    )  # fmt: skip
    for i, (ts, o, h, lo, c, v) in enumerate(
        zip(df.index, *(df[k].tolist() for k in ("open", "high", "low", "close", "volume")),
            strict=True)
    ):  # fmt: skip
        when: datetime = ts.to_pydatetime()
        venue.process_bar(SYMBOL, when, o, h, lo)
        feed.pos = i
        engine.on_bar(Bar(SYMBOL, "1h", when, o, h, lo, c, v), i)
        if after_bar is not None:
            after_bar(engine)
    return engine


@pytest.mark.parametrize("name", [*SIGNAL, "dca"])
def test_every_filled_entry_gets_a_stop(name: str, btc: pd.DataFrame) -> None:
    engine = drive(create_strategy(name, {}), btc.iloc[:2000])
    orders = list(engine.orders.values())
    stops: dict[datetime | None, float] = {
        o.created_at: float(o.trigger_price or 0)
        for o in orders
        if o.order_type is OrderType.STOP_MARKET and o.reduce_only
    }
    entries = [
        o for o in orders
        if not o.reduce_only and o.order_type in (OrderType.MARKET, OrderType.LIMIT)
        and o.status is OrderStatus.FILLED
    ]  # fmt: skip
    assert len(entries) >= 5
    for order in entries:
        # the protective stop is submitted at the fill's own timestamp, and it protects: it
        # lies within 35 % of the fill (DCA's default stop, beyond its 19.8 %-deep ladder, is
        # at most 21.3 % under the average entry, which is never above the base fill)
        fill = order.fills[-1]
        assert fill.ts in stops, order.client_order_id
        assert abs(stops[fill.ts] / float(fill.price) - 1) < 0.35, order.client_order_id


def test_grid_inventory_matches_the_position_every_bar(btc: pd.DataFrame) -> None:
    # A coarse lot step gives every slot the same size (500 quote at 40,351 .. 44,175 is 0.0124
    # .. 0.0113 BTC, floored to 0.01), so only prices tell the grid's fills apart. After every
    # bar the slots' inventory must be the engine's position (the simulator never part-fills).
    grid = create_strategy(
        "grid", {"range_pct": 0.05, "levels": 11, "investment": 5000.0, "qty_step": 0.01}
    )
    assert isinstance(grid, GridStrategy)
    checked: list[int] = []

    def check(engine: Engine) -> None:
        held = sum((slot.held for slot in grid.slots), D(0))
        assert held == engine.portfolio.position(SYMBOL).quantity, len(checked)
        checked.append(1)

    drive(grid, btc.iloc[:400], check)
    assert len({s.quantity for s in grid.slots}) == 1 and grid.cycles >= 10
