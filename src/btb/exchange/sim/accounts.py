"""Per-account state of the simulator: balances, orders, positions, executions.

All money and quantities are Decimal. Orders are :class:`btb.core.order.Order` objects (the
domain state machine, so an impossible transition raises StateError here too) wrapped with what
only a venue knows: its order id, the client's id, timestamps and trigger details. Positions are
:class:`btb.core.position.Position` built only from fills (one-way mode, linear USDT contracts).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from btb.core.enums import OrderType
from btb.core.fill import Fill
from btb.core.order import Order
from btb.core.position import Position

ZERO = Decimal(0)


class Trigger(enum.IntEnum):
    """When a conditional order fires (Bybit's ``triggerDirection`` numbers)."""

    NONE = 0
    RISE = 1  # last price rises to the trigger or above
    FALL = 2  # last price falls to the trigger or below


class StopKind(enum.StrEnum):
    """What a conditional order is for; the values are Bybit's ``stopOrderType`` names."""

    NONE = ""
    STOP = "Stop"
    STOP_LOSS = "StopLoss"
    TAKE_PROFIT = "TakeProfit"
    LIQUIDATION = "Liquidation"  # not a Bybit stopOrderType: shown as a market close


@dataclass(slots=True)
class SimOrder:
    """One order at the venue: the domain order plus the venue's bookkeeping."""

    order: Order
    order_id: str
    link_id: str
    created_ms: int
    updated_ms: int
    price_on_created: Decimal
    trigger: Trigger = Trigger.NONE
    stop_kind: StopKind = StopKind.NONE
    close_position: bool = False
    algo: bool = False  # Binance conditional orders live in the separate algo-order book
    triggered_ms: int = 0
    cancel_type: str = ""
    fee: Decimal = ZERO
    leverage: Decimal = Decimal(1)

    @property
    def symbol(self) -> str:
        return self.order.symbol

    @property
    def is_conditional(self) -> bool:
        return self.trigger is not Trigger.NONE

    @property
    def is_open(self) -> bool:
        return self.order.status.is_open

    @property
    def reserve_price(self) -> Decimal:
        """The price margin for this resting order is reserved at."""
        o = self.order
        return o.price or o.trigger_price or self.price_on_created

    @property
    def is_market(self) -> bool:
        return self.order.order_type is not OrderType.LIMIT


@dataclass(frozen=True, slots=True)
class Execution:
    """One trade of an order against replayed prices."""

    exec_id: str
    order: SimOrder
    fill: Fill
    ts_ms: int
    fee_rate: Decimal
    is_maker: bool
    closed_size: Decimal
    realized_pnl: Decimal
    seq: int


@dataclass(slots=True)
class SimAccount:
    """Everything the venue keeps for one API key."""

    api_key: str
    api_secret: str = field(repr=False)
    settle_coin: str = "USDT"
    wallet: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, Decimal] = field(default_factory=dict)
    stop_loss: dict[str, Decimal] = field(default_factory=dict)
    take_profit: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    by_link_id: dict[str, str] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    position_created_ms: dict[str, int] = field(default_factory=dict)
    position_updated_ms: dict[str, int] = field(default_factory=dict)
    cum_realised: dict[str, Decimal] = field(default_factory=dict)
    # Open orders and the margin they hold, kept incrementally: with thousands of resting
    # orders, recomputing both on every request would make each order O(open orders).
    _open: dict[str, SimOrder] = field(default_factory=dict, repr=False)
    _reserved: Decimal = field(default=ZERO, repr=False)

    def __repr__(self) -> str:  # never show the secret
        return f"SimAccount(api_key={self.api_key[:4]}…, wallet={self.wallet})"

    def position(self, symbol: str) -> Position:
        """The (possibly flat) position in ``symbol``; created on first use."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = Position(symbol=symbol, leverage=self.leverage_of(symbol))
            self.positions[symbol] = pos
        return pos

    def leverage_of(self, symbol: str) -> Decimal:
        return self.leverage.get(symbol, Decimal(10))

    def add_order(self, so: SimOrder) -> None:
        """Book a new order (it must be open) and the margin it reserves."""
        self.orders[so.order_id] = so
        if so.link_id:
            self.by_link_id[so.link_id] = so.order_id
        self._open[so.order_id] = so
        self._reserved += self.margin_held(so)

    def margin_held(self, so: SimOrder) -> Decimal:
        """Initial margin ``so`` holds now: open orders that can open or add to a position."""
        o = so.order
        if not so.is_open or o.reduce_only or so.close_position:
            return ZERO
        return o.remaining_qty * so.reserve_price / so.leverage

    def changed(self, so: SimOrder, held_before: Decimal) -> None:
        """Account for a fill, cancel or expiry of ``so`` (``held_before``: margin before it)."""
        self._reserved += self.margin_held(so) - held_before
        if not so.is_open:
            self._open.pop(so.order_id, None)

    def open_orders(self, symbol: str | None = None) -> list[SimOrder]:
        """Open orders, oldest first (optionally of one symbol)."""
        return [o for o in self._open.values() if symbol is None or o.symbol == symbol]

    def find(self, order_id: str | None, link_id: str | None) -> SimOrder | None:
        """The order with this venue id or client id (either may be given)."""
        if order_id:
            return self.orders.get(order_id)
        if link_id:
            oid = self.by_link_id.get(link_id)
            return self.orders.get(oid) if oid else None
        return None

    def wallet_balance(self) -> Decimal:
        return self.wallet.get(self.settle_coin, ZERO)

    def order_margin(self) -> Decimal:
        """Initial margin reserved by resting orders that can open or add to a position."""
        return self._reserved

    def position_margin(self) -> Decimal:
        return sum((p.margin for p in self.positions.values()), ZERO)

    def unrealised(self, marks: dict[str, Decimal]) -> Decimal:
        return sum(
            (
                p.unrealized_pnl(marks[s])
                for s, p in self.positions.items()
                if s in marks and p.quantity
            ),
            ZERO,
        )

    def available(self, marks: dict[str, Decimal]) -> Decimal:
        """Margin balance minus the initial margin held by positions and resting orders."""
        return (
            self.wallet_balance()
            + self.unrealised(marks)
            - self.position_margin()
            - self.order_margin()
        )
