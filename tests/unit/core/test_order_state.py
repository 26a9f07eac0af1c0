"""Every order transition: legal moves land in the right state, illegal ones raise StateError."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from btb.core import TRANSITIONS, Fill, Order, OrderStatus, OrderType, Side
from btb.core.order import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderRejected,
    OrderSubmitted,
)
from btb.errors import StateError

T0 = datetime(2024, 1, 1, tzinfo=UTC)
S = OrderStatus

# Written out by hand from the lifecycle we want (not read from TRANSITIONS), so a careless
# edit of the table fails here.
LEGAL = {
    (S.INITIALIZED, S.SUBMITTED), (S.INITIALIZED, S.REJECTED), (S.INITIALIZED, S.CANCELED),
    (S.SUBMITTED, S.ACCEPTED), (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.PARTIALLY_FILLED),
    (S.SUBMITTED, S.FILLED), (S.SUBMITTED, S.CANCELED), (S.SUBMITTED, S.EXPIRED),
    (S.SUBMITTED, S.PENDING_CANCEL),  # cancel sent before the venue's acknowledgement
    (S.ACCEPTED, S.PARTIALLY_FILLED), (S.ACCEPTED, S.FILLED), (S.ACCEPTED, S.PENDING_CANCEL),
    (S.ACCEPTED, S.CANCELED), (S.ACCEPTED, S.EXPIRED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED), (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.PENDING_CANCEL), (S.PARTIALLY_FILLED, S.CANCELED),
    (S.PARTIALLY_FILLED, S.EXPIRED),
    (S.PENDING_CANCEL, S.CANCELED), (S.PENDING_CANCEL, S.PARTIALLY_FILLED),
    (S.PENDING_CANCEL, S.FILLED), (S.PENDING_CANCEL, S.ACCEPTED),
    (S.PENDING_CANCEL, S.REJECTED), (S.PENDING_CANCEL, S.EXPIRED),
}  # fmt: skip


def test_transition_table_is_the_reviewed_lifecycle() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == LEGAL
    assert set(TRANSITIONS) == set(OrderStatus)
    for terminal in (S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED):
        assert terminal.is_terminal and not TRANSITIONS[terminal]


def _order(qty: str = "1") -> Order:
    return Order("c1", "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal(qty), price=Decimal("100"))


def _fill(qty: str) -> Fill:
    return Fill("c1", "BTCUSDT", Side.BUY, Decimal(qty), Decimal("100"), Decimal("0"), T0)


# How to bring a fresh order (quantity 1) into each state.
PATHS: dict[OrderStatus, list[object]] = {
    S.INITIALIZED: [],
    S.SUBMITTED: [OrderSubmitted(T0)],
    S.ACCEPTED: [OrderSubmitted(T0), OrderAccepted(T0, "x1")],
    S.PARTIALLY_FILLED: [OrderSubmitted(T0), OrderAccepted(T0, "x1"), OrderFilled(_fill("0.25"))],
    S.PENDING_CANCEL: [OrderSubmitted(T0), OrderAccepted(T0, "x1"), OrderPendingCancel(T0)],
    S.FILLED: [OrderSubmitted(T0), OrderFilled(_fill("1"))],
    S.CANCELED: [OrderSubmitted(T0), OrderCanceled(T0)],
    S.REJECTED: [OrderSubmitted(T0), OrderRejected(T0, "no margin")],
    S.EXPIRED: [OrderSubmitted(T0), OrderExpired(T0)],
}

# Each event and the status it asks for (a partial fill of 0.25 from a fresh order).
EVENTS: list[tuple[object, OrderStatus]] = [
    (OrderSubmitted(T0), S.SUBMITTED),
    (OrderAccepted(T0, "x2"), S.ACCEPTED),
    (OrderRejected(T0, "bad"), S.REJECTED),
    (OrderFilled(_fill("0.25")), S.PARTIALLY_FILLED),
    (OrderPendingCancel(T0), S.PENDING_CANCEL),
    (OrderCanceled(T0), S.CANCELED),
    (OrderExpired(T0), S.EXPIRED),
]


def _in_state(status: OrderStatus) -> Order:
    order = _order()
    for event in PATHS[status]:
        order.apply(event)  # type: ignore[arg-type]
    assert order.status is status
    return order


@pytest.mark.parametrize("start", list(OrderStatus), ids=lambda s: s.value)
@pytest.mark.parametrize("event,target", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_from_every_state(start: OrderStatus, event: object, target: object) -> None:
    if not isinstance(target, OrderStatus):
        pytest.fail("bad parametrization")
    order = _in_state(start)
    if (start, target) in LEGAL:
        order.apply(event)  # type: ignore[arg-type]
        assert order.status is target
    else:
        with pytest.raises(StateError, match=f"from {start.value} to {target.value}"):
            order.apply(event)  # type: ignore[arg-type]
        assert order.status is start  # a refused event changes nothing


def test_fills_accumulate_average_price_and_complete_the_order() -> None:
    order = _in_state(S.ACCEPTED)
    order.apply(OrderFilled(Fill("c1", "BTCUSDT", Side.BUY, Decimal("0.4"), Decimal("100"),
                                 Decimal("0"), T0)))  # fmt: skip
    order.apply(OrderFilled(Fill("c1", "BTCUSDT", Side.BUY, Decimal("0.6"), Decimal("110"),
                                 Decimal("0"), T0)))  # fmt: skip
    assert order.status is S.FILLED
    assert order.filled_qty == Decimal("1")
    assert order.avg_fill_price == Decimal("106")  # (0.4*100 + 0.6*110) / 1
    assert order.remaining_qty == 0


def test_overfill_and_mismatched_fill_raise() -> None:
    order = _in_state(S.ACCEPTED)
    with pytest.raises(StateError, match="exceeds remaining"):
        order.apply(OrderFilled(_fill("1.5")))
    wrong_side = Fill("c1", "BTCUSDT", Side.SELL, Decimal("0.1"), Decimal("1"), Decimal(0), T0)
    with pytest.raises(StateError, match="does not match"):
        order.apply(OrderFilled(wrong_side))
    assert order.filled_qty == 0


def test_cancel_rejected_returns_to_working_state() -> None:
    order = _in_state(S.PENDING_CANCEL)
    order.apply(OrderCancelRejected(T0, "too late"))
    assert order.status is S.ACCEPTED
    order = _in_state(S.PARTIALLY_FILLED)
    order.apply(OrderPendingCancel(T0))
    order.apply(OrderCancelRejected(T0, "too late"))
    assert order.status is S.PARTIALLY_FILLED


@pytest.mark.parametrize(
    ("venue_says", "final"),
    [
        ([OrderAccepted(T0, "x7"), OrderCanceled(T0)], S.CANCELED),  # late ack, then cancelled
        ([OrderCanceled(T0)], S.CANCELED),
        ([OrderRejected(T0, "price out of band")], S.REJECTED),  # the order never lived
        ([OrderFilled(_fill("1"))], S.FILLED),  # it filled before the cancel arrived
        ([OrderExpired(T0)], S.EXPIRED),
    ],
)
def test_cancel_before_the_acknowledgement(venue_says: list[object], final: OrderStatus) -> None:
    # Live trading: the strategy cancels an order whose "accepted" has not arrived yet.
    order = _in_state(S.SUBMITTED)
    order.apply(OrderPendingCancel(T0))
    assert order.status is S.PENDING_CANCEL and order.is_open
    for event in venue_says:
        order.apply(event)  # type: ignore[arg-type]
    assert order.status is final


def test_accept_records_exchange_id_and_reject_reason() -> None:
    order = _in_state(S.SUBMITTED)
    order.apply(OrderAccepted(T0, "ex-9"))
    assert order.exchange_order_id == "ex-9"
    rejected = _in_state(S.SUBMITTED)
    rejected.apply(OrderRejected(T0, "insufficient margin"))
    assert rejected.reject_reason == "insufficient margin"
    assert not rejected.is_open


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"order_type": OrderType.LIMIT, "price": None}, "needs a price"),
        ({"order_type": OrderType.STOP_MARKET, "price": None}, "trigger_price"),
        ({"order_type": OrderType.MARKET, "quantity": Decimal(0)}, "quantity must be > 0"),
    ],
)
def test_malformed_orders_are_refused(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"quantity": Decimal(1)}
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        Order("c1", "BTCUSDT", Side.BUY, **base)  # type: ignore[arg-type]
