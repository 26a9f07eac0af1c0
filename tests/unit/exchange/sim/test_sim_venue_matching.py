"""The simulated venue: order entry rules and fills against candles (shared fill rules).

Every expected price, fee and balance below is worked out by hand from the candle table.
"""

from __future__ import annotations

from decimal import Decimal as D

import pandas as pd
import pytest

from btb.core.enums import MarketType, OrderStatus, OrderType, Side
from btb.core.instrument import Instrument
from btb.exchange.sim.accounts import SimAccount, StopKind, Trigger
from btb.exchange.sim.clock import SimClock
from btb.exchange.sim.market import MarketReplay
from btb.exchange.sim.venue import OrderRequest, Reject, SimVenue, VenueError

# 1-minute candles: open, high, low, close
CANDLES = [
    (100, 101, 99, 100),  # bar0 (history)
    (100, 102, 99.5, 101),  # bar1: the clock starts at its open
    (101, 105, 100, 104),  # bar2
    (104, 104, 95, 96),  # bar3: drop
    (90, 92, 89, 91),  # bar4: gap down
    (91, 93, 90, 92),  # bar5
]
SYMBOL = "TESTUSDT"
TAKER, MAKER = D("0.00055"), D("0.0002")


def _venue(min_qty: str = "0.01", min_notional: str = "5") -> tuple[SimVenue, SimAccount]:
    index = pd.date_range("2024-01-01", periods=len(CANDLES), freq="1min", tz="UTC")
    frame = pd.DataFrame(CANDLES, index=index, columns=["open", "high", "low", "close"])
    frame["volume"] = 1.0
    replay = MarketReplay({SYMBOL: frame})
    inst = Instrument(
        symbol=SYMBOL,
        base="TEST",
        quote="USDT",
        market_type=MarketType.LINEAR,
        tick_size=D("0.01"),
        lot_step=D("0.01"),
        min_qty=D(min_qty),
        min_notional=D(min_notional),
        max_qty=D("100000"),
        max_leverage=50,
        maker_fee=MAKER,
        taker_fee=TAKER,
    )
    venue = SimVenue(replay, SimClock(replay.start_ms + 60_000), instruments={SYMBOL: inst})
    return venue, venue.add_account("k", "s", {"USDT": "10000"})


def _req(
    side: Side, kind: OrderType = OrderType.MARKET, qty: str = "1", **kw: object
) -> OrderRequest:
    return OrderRequest(SYMBOL, side, kind, D(qty), **kw)  # type: ignore[arg-type]


def test_market_order_fills_at_the_forming_candles_open_and_pays_taker_fee() -> None:
    venue, acct = _venue()
    so = venue.place_order(acct, _req(Side.BUY))
    assert so.order.status is OrderStatus.FILLED
    assert so.order.avg_fill_price == D("100")
    assert acct.wallet["USDT"] == D("10000") - D("100") * TAKER
    assert acct.positions[SYMBOL].quantity == D("1")


def test_limit_fills_only_when_traded_through_at_limit_as_maker() -> None:
    venue, acct = _venue()
    so = venue.place_order(acct, _req(Side.BUY, OrderType.LIMIT, price=D("99.5")))
    venue.step()  # bar1 low is exactly 99.5: touched, not traded through
    venue.step()  # bar2 low 100
    assert so.order.status is OrderStatus.ACCEPTED
    venue.step()  # bar3 opens 104, trades down to 95: fills at the limit
    assert so.order.status is OrderStatus.FILLED
    assert so.order.avg_fill_price == D("99.5")
    assert acct.executions[-1].is_maker
    assert acct.wallet["USDT"] == D("10000") - D("99.5") * MAKER


def test_marketable_limit_fills_at_once_at_the_better_open() -> None:
    venue, acct = _venue()
    so = venue.place_order(acct, _req(Side.BUY, OrderType.LIMIT, price=D("100.5")))
    assert so.order.status is OrderStatus.FILLED
    assert so.order.avg_fill_price == D("100")


def test_stop_fills_at_trigger_or_at_the_open_after_a_gap() -> None:
    venue, acct = _venue()
    venue.place_order(acct, _req(Side.BUY, qty="2"))
    stop = dict(order_type=OrderType.STOP_MARKET, trigger=Trigger.FALL, reduce_only=True)
    at_97 = venue.place_order(
        acct, OrderRequest(SYMBOL, Side.SELL, quantity=D("1"), trigger_price=D("97"), **stop)
    )  # type: ignore[arg-type]
    at_93 = venue.place_order(
        acct, OrderRequest(SYMBOL, Side.SELL, quantity=D("1"), trigger_price=D("93"), **stop)
    )  # type: ignore[arg-type]
    venue.step(3)  # bars 1-3: bar3 trades down to 95 -> only the 97 stop
    assert (at_97.order.avg_fill_price, at_93.order.status) == (D("97"), OrderStatus.ACCEPTED)
    venue.step()  # bar4 opens at 90, below 93: the gap fills at the open
    assert at_93.order.avg_fill_price == D("90")
    assert acct.positions[SYMBOL].is_flat
    realized = (D("97") - 100) + (D("90") - 100)
    fees = D("200") * TAKER + D("97") * TAKER + D("90") * TAKER
    assert acct.wallet["USDT"] == D("10000") + realized - fees


def test_stop_loss_wins_when_stop_and_take_profit_are_in_one_candle() -> None:
    venue, acct = _venue()
    venue.place_order(acct, _req(Side.BUY, stop_loss=D("99.6"), take_profit=D("101.5")))
    assert (acct.stop_loss[SYMBOL], acct.take_profit[SYMBOL]) == (D("99.6"), D("101.5"))
    venue.step()  # bar1: high 102 >= 101.5 and low 99.5 <= 99.6
    exit_ = acct.executions[-1]
    assert (exit_.fill.price, exit_.order.stop_kind) == (D("99.6"), StopKind.STOP_LOSS)
    assert exit_.realized_pnl == D("-0.4")
    assert SYMBOL not in acct.stop_loss and SYMBOL not in acct.take_profit


def test_position_take_profit_fills_at_its_level() -> None:
    venue, acct = _venue()
    venue.place_order(acct, _req(Side.BUY, take_profit=D("104.5")))
    venue.step(2)
    exit_ = acct.executions[-1]
    assert (exit_.fill.price, exit_.order.stop_kind, exit_.realized_pnl) == (
        D("104.5"),
        StopKind.TAKE_PROFIT,
        D("4.5"),
    )


def test_liquidation_at_the_isolated_level_or_the_gapped_open() -> None:
    venue, acct = _venue()
    venue.place_order(acct, _req(Side.BUY))  # leverage 10: liquidation at 100*(1-0.1+0.005) = 90.5
    venue.step(3)
    assert not acct.positions[SYMBOL].is_flat  # bar3 low 95 stays above 90.5
    venue.step()  # bar4 opens at 90: gapped through the level
    assert acct.executions[-1].fill.price == D("90")
    assert acct.executions[-1].order.stop_kind is StopKind.LIQUIDATION


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        (_req(Side.BUY, qty="0.015"), Reject.BAD_QTY),
        (_req(Side.BUY, qty="0.03"), Reject.QTY_TOO_SMALL),
        (_req(Side.BUY, OrderType.LIMIT, qty="0.05", price=D("100.001")), Reject.BAD_PRICE),
        (_req(Side.BUY, qty="1001"), Reject.INSUFFICIENT),
        (_req(Side.SELL, reduce_only=True), Reject.REDUCE_ONLY),
        (OrderRequest("NOPEUSDT", Side.BUY, OrderType.MARKET, D("1")), Reject.UNKNOWN_SYMBOL),
        (
            _req(Side.BUY, OrderType.STOP_MARKET, trigger_price=D("99"), trigger=Trigger.RISE),
            Reject.WOULD_TRIGGER_RISE,
        ),
        (
            _req(Side.SELL, OrderType.STOP_MARKET, trigger_price=D("101"), trigger=Trigger.FALL),
            Reject.WOULD_TRIGGER_FALL,
        ),
        (_req(Side.BUY, stop_loss=D("100.5")), Reject.BAD_TPSL),
        (_req(Side.SELL, take_profit=D("100.5")), Reject.BAD_TPSL),
    ],
)
def test_entry_rules_refuse_like_the_exchange(req: OrderRequest, reason: Reject) -> None:
    venue, acct = _venue(min_qty="0.05")
    with pytest.raises(VenueError) as err:
        venue.place_order(acct, req)
    assert err.value.reason is reason
    assert not acct.orders  # nothing booked


def test_margin_check_counts_leverage_and_fee() -> None:
    venue, acct = _venue()
    # 990 @ 100 at leverage 10 needs 9900 margin + 54.45 fee < 10000: accepted
    assert venue.place_order(acct, _req(Side.BUY, qty="990")).order.status is OrderStatus.FILLED
    venue2, acct2 = _venue()
    with pytest.raises(VenueError):  # 1000 @ 100 needs 10000 + 55 fee
        venue2.place_order(acct2, _req(Side.BUY, qty="1000"))


def test_min_notional_duplicates_cancel_and_leverage() -> None:
    venue, acct = _venue(min_notional="10")
    with pytest.raises(VenueError) as err:
        venue.place_order(acct, _req(Side.BUY, qty="0.05"))  # 5 USDT < 10
    assert err.value.reason is Reject.MIN_NOTIONAL
    so = venue.place_order(acct, _req(Side.BUY, OrderType.LIMIT, price=D("90"), link_id="a1"))
    with pytest.raises(VenueError) as err:
        venue.place_order(acct, _req(Side.BUY, OrderType.LIMIT, price=D("90"), link_id="a1"))
    assert err.value.reason is Reject.DUPLICATE
    assert venue.cancel_order(acct, SYMBOL, None, "a1") is so
    assert so.order.status is OrderStatus.CANCELED
    with pytest.raises(VenueError) as err:
        venue.cancel_order(acct, SYMBOL, so.order_id, None)
    assert err.value.reason is Reject.NOT_FOUND
    venue.set_leverage(acct, SYMBOL, D("20"))
    for value, reason in ((D("20"), Reject.LEVERAGE_UNCHANGED), (D("51"), Reject.BAD_LEVERAGE)):
        with pytest.raises(VenueError) as err:
            venue.set_leverage(acct, SYMBOL, value)
        assert err.value.reason is reason


def test_events_reach_listeners_in_order() -> None:
    venue, acct = _venue()
    seen: list[str] = []
    venue.subscribe(lambda kind, account, obj: seen.append(kind))
    venue.place_order(acct, _req(Side.BUY))
    venue.step()
    assert seen == ["order", "order", "execution", "position", "kline"]
