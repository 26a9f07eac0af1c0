"""Orders and their state machine.

An order changes state only by applying an event; each event names a target status and the
move is checked against :data:`TRANSITIONS`. Anything else raises :class:`btb.errors.StateError`,
because an order in a state we did not expect means our book-keeping no longer matches the
venue and trading must stop until it is reconciled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from btb.core.enums import OrderStatus, OrderType, Side, TimeInForce
from btb.core.fill import Fill
from btb.errors import StateError

S = OrderStatus

#: status -> statuses it may move to. Terminal statuses have no way out.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.INITIALIZED: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELED}),
    # A venue can fill, cancel (IOC) or expire an order before its acknowledgement arrives,
    # and we may ask to cancel an order whose acknowledgement is still on its way.
    S.SUBMITTED: frozenset(
        {
            S.ACCEPTED,
            S.REJECTED,
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.CANCELED,
            S.EXPIRED,
            S.PENDING_CANCEL,
        }
    ),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.EXPIRED}
    ),
    # While our cancel request travels the order goes on living at the venue: it can fill,
    # expire, or (if it was never acknowledged) be rejected; the venue can also acknowledge
    # it late or refuse the cancel, which returns it to working.
    S.PENDING_CANCEL: frozenset(
        {S.CANCELED, S.PARTIALLY_FILLED, S.FILLED, S.ACCEPTED, S.REJECTED, S.EXPIRED}
    ),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    ts: datetime


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    ts: datetime
    exchange_order_id: str


@dataclass(frozen=True, slots=True)
class OrderRejected:
    ts: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class OrderFilled:
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderPendingCancel:
    ts: datetime


@dataclass(frozen=True, slots=True)
class OrderCancelRejected:
    ts: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    ts: datetime


@dataclass(frozen=True, slots=True)
class OrderExpired:
    ts: datetime


OrderEvent = (
    OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderPendingCancel
    | OrderCancelRejected
    | OrderCanceled
    | OrderExpired
)

_ZERO = Decimal(0)
_FILLED, _PARTIALLY_FILLED = S.FILLED, S.PARTIALLY_FILLED
#: statuses that may take a fill (partial or full)
_TAKES_FILLS = frozenset(s for s, to in TRANSITIONS.items() if to & {_FILLED, _PARTIALLY_FILLED})
_LIMIT = OrderType.LIMIT
_NEEDS_TRIGGER = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})

_SIMPLE_TARGETS: dict[type, OrderStatus] = {
    OrderSubmitted: S.SUBMITTED,
    OrderAccepted: S.ACCEPTED,
    OrderRejected: S.REJECTED,
    OrderPendingCancel: S.PENDING_CANCEL,
    OrderCanceled: S.CANCELED,
    OrderExpired: S.EXPIRED,
}


@dataclass(slots=True)
class Order:
    """An instruction to trade, identified by our deterministic ``client_order_id``."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    created_at: datetime | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    tag: str = ""
    status: OrderStatus = S.INITIALIZED
    exchange_order_id: str | None = None
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    fills: list[Fill] = field(default_factory=list)
    updated_at: datetime | None = None
    reject_reason: str | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"order {self.client_order_id}: quantity must be > 0")
        order_type = self.order_type
        if order_type is _LIMIT and self.price is None:
            raise ValueError(f"order {self.client_order_id}: a limit order needs a price")
        if order_type in _NEEDS_TRIGGER and self.trigger_price is None:
            raise ValueError(f"order {self.client_order_id}: a stop order needs a trigger_price")

    @property
    def remaining_qty(self) -> Decimal:
        return self.quantity - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def apply(self, event: OrderEvent) -> None:
        """Move to the state ``event`` implies, or raise StateError if the table forbids it."""
        # Dispatch on the exact event class (dict lookups and identity tests): a backtest
        # applies ~14 events per round trip, and an isinstance chain cost more than the move.
        kind = type(event)
        if kind not in _SIMPLE_TARGETS:
            if isinstance(event, OrderFilled):
                self._apply_fill(event.fill)
                return
            if isinstance(event, OrderCancelRejected):
                target = S.PARTIALLY_FILLED if self.filled_qty > 0 else S.ACCEPTED
                self._move(target, kind.__name__)
                self.updated_at = event.ts
                return
            kind = next(k for k in kind.__mro__ if k in _SIMPLE_TARGETS)  # an event subclass
        target = _SIMPLE_TARGETS[kind]
        if target not in TRANSITIONS[self.status]:
            self._move(target, type(event).__name__)  # raises, saying why
        self.status = target
        if kind is OrderAccepted:
            self.exchange_order_id = event.exchange_order_id  # type: ignore[union-attr]
        elif kind is OrderRejected:
            self.reject_reason = event.reason  # type: ignore[union-attr]
        self.updated_at = event.ts  # type: ignore[union-attr]  # OrderFilled returned above

    def _apply_fill(self, fill: Fill) -> None:
        if fill.symbol != self.symbol or fill.side is not self.side:
            raise StateError(
                f"order {self.client_order_id}: fill {fill.side} {fill.symbol} does not match "
                f"order {self.side} {self.symbol}"
            )
        if self.status not in _TAKES_FILLS:
            self._move(_PARTIALLY_FILLED, "OrderFilled")  # raises: this state takes no fills
        qty, filled = fill.quantity, self.filled_qty
        remaining = self.quantity - filled
        if qty > remaining:
            raise StateError(
                f"order {self.client_order_id}: fill of {qty} exceeds remaining {remaining}"
            )
        self._move(_FILLED if qty == remaining else _PARTIALLY_FILLED, "OrderFilled")
        avg = self.avg_fill_price
        cost = (avg if avg is not None else _ZERO) * filled + fill.notional
        self.filled_qty = filled = filled + qty
        self.avg_fill_price = cost / filled
        self.fills.append(fill)
        if fill.exchange_order_id and not self.exchange_order_id:
            self.exchange_order_id = fill.exchange_order_id
        self.updated_at = fill.ts

    def _move(self, target: OrderStatus, because: str) -> None:
        if target not in TRANSITIONS[self.status]:
            raise StateError(
                f"order {self.client_order_id}: {because} cannot move it from "
                f"{self.status.value} to {target.value}"
            )
        self.status = target
