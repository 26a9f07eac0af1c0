"""btb.engine.Engine with SimulatedVenue: orders move only through events, protection is
placed on fill and cancelled one-cancels-other, and intents are checked by risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from btb.core import Bar, ExitReason, Instrument, MarketType, OrderStatus, OrderType, PositionSide
from btb.core.order import Order, OrderRejected
from btb.engine.engine import Engine
from btb.engine.intents import BracketUpdate, CancelIntent, EngineSettings, OrderIntent
from btb.engine.venue import SimulatedVenue
from btb.strategies.base import BaseStrategy
from btb.strategies.context import SignalRow, StrategyContext

SYM = "AAAUSDT"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
D = Decimal


class Plan(BaseStrategy):
    """Returns the intents planned for each bar index."""

    def __init__(self, plan: dict[int, list[Any]]) -> None:
        super().__init__({})
        self.plan = plan

    def on_bar(self, ctx: StrategyContext) -> list[Any]:
        return list(self.plan.get(ctx.index, []))


class NoFeed:
    def history(self, symbol: str) -> pd.DataFrame:
        return pd.DataFrame()

    def signal(self, symbol: str) -> SignalRow | None:
        return None


class RejectingStops(SimulatedVenue):
    """An exchange that refuses stop orders."""

    def submit(self, order: Order) -> None:
        if order.order_type is OrderType.STOP_MARKET:
            assert self._listener is not None and order.created_at is not None
            self._listener.on_order_event(
                order.client_order_id, OrderRejected(order.created_at, "no stops")
            )
            return
        super().submit(order)


def make(
    plan: dict[int, list[Any]],
    *,
    market: MarketType = MarketType.SPOT,
    leverage: int = 1,
    venue_cls: type[SimulatedVenue] = SimulatedVenue,
    **venue_kw: Any,
) -> Engine:
    step = D("1e-8")
    inst = {SYM: Instrument(SYM, "AAA", "USDT", market, step, step, step, max_leverage=125)}
    venue = venue_cls(
        inst,
        initial_cash=D(10_000),
        market_type=market,
        leverage=D(leverage),
        taker_fee=D(0),
        maker_fee=D(0),
        **venue_kw,
    )
    settings = EngineSettings(
        sizing="fixed_notional",
        fixed_notional=1000.0,
        market_type=market,
        leverage=leverage,
        stop_loss_pct=None,
        take_profit_pct=None,
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


def drive(engine: Engine, candles: list[tuple[float, float, float, float]]) -> None:
    venue = engine.venue
    assert isinstance(venue, SimulatedVenue)
    for i, (o, h, lo, c) in enumerate(candles):
        ts = T0 + timedelta(hours=i)
        venue.process_bar(SYM, ts, o, h, lo)
        engine.on_bar(Bar(SYM, "1h", ts, o, h, lo, c, 1.0), i)


def enter(**kw: Any) -> OrderIntent:
    return OrderIntent.enter(SYM, PositionSide.LONG, **kw)


def by_suffix(engine: Engine, suffix: str) -> list[Order]:
    return [o for coid, o in engine.orders.items() if coid.endswith(suffix)]


def test_entry_protection_and_one_cancels_other() -> None:
    e = make({0: [enter(stop_loss=0.02, take_profit=0.04)]})
    drive(e, [(100, 100, 100, 100), (100, 101, 99, 100), (101, 104.5, 100, 104)])
    entry = e.orders["btb-AAAUSDT-000001"]
    assert entry.status is OrderStatus.FILLED and entry.avg_fill_price == D(100)
    (sl,) = by_suffix(e, "-sl")
    (tp,) = by_suffix(e, "-tp")
    assert (sl.order_type, sl.reduce_only, sl.quantity) == (OrderType.STOP_MARKET, True, D(10))
    assert float(sl.trigger_price or 0) == 98.0 and float(tp.trigger_price or 0) == 104.0
    assert tp.status is OrderStatus.FILLED
    assert sl.status is OrderStatus.CANCELED  # the other side went with the position
    (trade,) = e.portfolio.trades
    assert trade.exit_reason is ExitReason.TAKE_PROFIT and trade.exit_price == D(104)
    assert e.portfolio.position(SYM).is_flat and e.open_orders(SYM) == ()
    assert e.strategy.get_performance().total_trades == 1


def test_rejected_protection_flattens_the_position() -> None:
    e = make({0: [enter(stop_loss=0.02)]}, venue_cls=RejectingStops)
    drive(e, [(100, 100, 100, 100), (100, 101, 99, 100), (100.5, 101, 100, 100.5)])
    (sl,) = by_suffix(e, "-sl")
    assert sl.status is OrderStatus.REJECTED
    (trade,) = e.portfolio.trades
    # flattened at market: same bar as the entry (the exit is born at the open), at its open
    assert trade.exit_reason is ExitReason.MANUAL
    assert trade.exit_time == T0 + timedelta(hours=1) and trade.exit_price == D(100)


def test_reversal_exits_then_enters_the_other_side_at_one_open() -> None:
    plan = {
        0: [enter()],
        2: [OrderIntent.exit(SYM, PositionSide.LONG), OrderIntent.enter(SYM, PositionSide.SHORT)],
    }
    e = make(plan, market=MarketType.LINEAR)
    drive(e, [(100, 100, 100, 100)] * 2 + [(100, 101, 99, 105), (106, 107, 105, 106)])
    (trade,) = e.portfolio.trades
    assert (trade.side, trade.exit_price, trade.exit_reason) == (
        PositionSide.LONG,
        D(106),
        ExitReason.SIGNAL,
    )
    pos = e.portfolio.position(SYM)
    assert pos.side is PositionSide.SHORT and pos.avg_entry_price == D(106)
    # sized at the decision close 105: 1000 / 105 = 9.5238095238..., floored to the 1e-8 step
    assert pos.quantity == D("-9.52380952")


def test_bracket_update_moves_the_stop() -> None:
    plan = {0: [enter(stop_loss=0.05)], 1: [BracketUpdate(SYM, stop_loss_price=99.5)]}
    e = make(plan)
    drive(e, [(100, 100, 100, 100), (100, 101, 99.6, 100.5), (100.5, 101, 99.4, 100)])
    stops = by_suffix(e, "-sl")
    assert [o.status for o in stops] == [OrderStatus.CANCELED, OrderStatus.FILLED]
    assert [float(o.trigger_price or 0) for o in stops] == [95.0, 99.5]
    (trade,) = e.portfolio.trades
    assert trade.exit_price == D(99.5) and trade.exit_reason is ExitReason.STOP_LOSS


def test_cancel_intent_cancels_a_working_limit() -> None:
    e = make({0: [enter(price=90.0, tag="dip")], 1: [CancelIntent(SYM, tag="dip")]})
    drive(e, [(100, 100, 100, 100), (100, 101, 95, 96), (96, 97, 80, 85)])
    (order,) = e.orders.values()
    assert order.status is OrderStatus.CANCELED
    assert e.portfolio.trades == [] and e.portfolio.position(SYM).is_flat


def test_exit_when_flat_and_entry_against_position_are_ignored() -> None:
    plan = {
        0: [OrderIntent.exit(SYM, PositionSide.LONG)],
        1: [enter()],
        2: [OrderIntent.enter(SYM, PositionSide.SHORT)],
    }
    e = make(plan, market=MarketType.LINEAR)
    drive(e, [(100, 100, 100, 100)] * 4)
    assert len(e.orders) == 1  # only the long entry was sent
    assert e.portfolio.position(SYM).side is PositionSide.LONG


def test_funding_is_charged_at_funding_hours_on_futures() -> None:
    # a long of 10 held over 08:00 and 16:00 UTC pays 10 * open * 0.0001 each time
    e = make({0: [enter()]}, market=MarketType.LINEAR, funding_rate=D("0.0001"))
    drive(e, [(100.0, 100.0, 100.0, 100.0)] * 20)
    venue = e.venue
    assert isinstance(venue, SimulatedVenue)
    assert [f.amount for f in e.portfolio.funding] == [D("0.1000"), D("0.1000")]
    assert [f.ts.hour for f in e.portfolio.funding] == [8, 16]
    assert e.portfolio.cash == D(10_000) - D("0.2")
    assert venue.account.cash == e.portfolio.cash  # the venue's ledger agrees
