"""OrderTracker (used by grid and DCA): fills matched to the orders a strategy asked for."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from btb.core import Fill, Order, OrderType, Position, Side
from btb.strategies.order_tracker import OrderTracker

D = Decimal
TS = datetime(2024, 1, 1, tzinfo=UTC)


def fill(coid: str, side: Side, qty: str, price: str) -> Fill:
    return Fill(coid, "BTCUSDT", side, D(qty), D(price), D(0), TS)


def working(coid: str, tag: str, side: Side = Side.BUY) -> Order:
    return Order(coid, "BTCUSDT", side, OrderType.LIMIT, D("1"), price=D("100"), tag=tag)


def test_never_seen_order_is_matched_by_side_quantity_and_limit() -> None:
    t = OrderTracker()
    t.expect("b1", Side.BUY, D("1"), 100.0)
    t.expect("b2", Side.BUY, D("2"), 95.0)
    pos = Position("BTCUSDT")
    pos.apply(fill("x1", Side.BUY, "1", "99.5"))  # gapped below the 100 limit: allowed
    out = {o.tag: o for o in t.update(pos, [])}
    assert out["b1"].filled and out["b1"].filled_qty == D("1") and out["b1"].avg_price == D("99.5")
    assert not out["b2"].filled  # no fill of 2: refused somewhere
    assert t.pending == {}


def test_a_fill_above_a_buy_limit_is_not_that_buy() -> None:
    t = OrderTracker()
    t.expect("b", Side.BUY, D("1"), 100.0)
    t.expect("s", Side.SELL, D("1"), 110.0)
    pos = Position("BTCUSDT")
    pos.apply(fill("x1", Side.BUY, "1", "101"))
    pos.apply(fill("x2", Side.SELL, "1", "109"))
    assert [o.filled for o in t.update(pos, [])] == [False, False]


def test_bound_order_sums_partial_fills() -> None:
    t = OrderTracker()
    t.expect("b", Side.BUY, D("1"), 100.0)
    pos = Position("BTCUSDT")
    assert t.update(pos, [working("c7", "b")]) == []  # still working: binds c7
    pos.apply(fill("c7", Side.BUY, "0.25", "100"))
    assert t.update(pos, [working("c7", "b")]) == []  # partly filled, still working
    pos.apply(fill("c7", Side.BUY, "0.75", "98"))
    (out,) = t.update(pos, [])
    assert out.filled_qty == D("1") and out.avg_price == D("98.5")  # (25 + 73.5) / 1


def test_best_limit_first_and_sells_need_a_price_at_or_above() -> None:
    t = OrderTracker()
    t.expect("b95", Side.BUY, D("1"), 95.0)
    t.expect("b100", Side.BUY, D("1"), 100.0)
    t.expect("s110", Side.SELL, D("1"), 110.0)
    pos = Position("BTCUSDT")
    pos.apply(fill("x1", Side.BUY, "1", "94"))  # one fill for two equal buys: 100 is reached first
    pos.apply(fill("x2", Side.SELL, "1", "110"))
    out = {o.tag: o.filled for o in t.update(pos, [])}
    assert out == {"b100": True, "b95": False, "s110": True}


def test_tags_are_unique_and_forget_stops_following() -> None:
    t = OrderTracker()
    t.expect("a", Side.BUY, D("1"), None)
    with pytest.raises(ValueError, match="already pending"):
        t.expect("a", Side.BUY, D("1"), None)
    t.forget(["a"])
    assert t.update(Position("BTCUSDT"), []) == []


def test_each_never_seen_order_gets_the_fill_nearest_its_limit_in_any_ledger_order() -> None:
    # Two buys and two sells of equal size, all filled before they were ever seen working.
    # The ledger lists the fills worst-limit first (as the simulator books limits placed in
    # that order); a buy at 100 filled at 100 and a buy at 95 filled at 95 must not swap.
    t = OrderTracker()
    t.expect("b100", Side.BUY, D("1"), 100.0)
    t.expect("b95", Side.BUY, D("1"), 95.0)
    t.expect("s105", Side.SELL, D("1"), 105.0)
    t.expect("s110", Side.SELL, D("1"), 110.0)
    pos = Position("BTCUSDT")
    pos.apply(fill("x1", Side.BUY, "1", "95"))
    pos.apply(fill("x2", Side.BUY, "1", "100"))
    pos.apply(fill("x3", Side.SELL, "1", "110"))
    pos.apply(fill("x4", Side.SELL, "1", "105"))
    out = {o.tag: (o.filled_qty, o.avg_price) for o in t.update(pos, [])}
    assert out == {
        "b100": (D("1"), D("100")),
        "b95": (D("1"), D("95")),
        "s105": (D("1"), D("105")),
        "s110": (D("1"), D("110")),
    }


def test_a_fill_nobody_claimed_is_not_claimed_by_a_later_order() -> None:
    t = OrderTracker()
    pos = Position("BTCUSDT")
    pos.apply(fill("x1", Side.BUY, "1", "100"))  # an entry the tracker never expected
    assert t.update(pos, []) == []
    # bar 2: a buy of the same size at the same limit is placed and refused (never fills)
    t.expect("b", Side.BUY, D("1"), 100.0)
    (out,) = t.update(pos, [])
    assert not out.filled and out.avg_price is None
