"""The one engine: closed bars in, orders out; venue events in, ledger updated.

    bar -> strategy.on_bar(ctx) -> intents -> risk/sizing -> Order -> venue.submit
    venue events -> Order.apply(event) -> Portfolio.apply_fill -> positions, trades

Synchronous and I/O-free: the backtest shell and the live shell drive the same object. The
shell supplies closed bars (:meth:`Engine.on_bar`), the history/signals behind them (a
:class:`DataFeed`) and a :class:`~btb.engine.venue.Venue`; the venue calls back
:meth:`Engine.on_order_event`, :meth:`Engine.on_liquidation` and :meth:`Engine.on_funding`.

Protection (stop-loss and take-profit placed when an entry fills, one-cancels-other,
flatten when the venue refuses one) is :class:`btb.engine.protection.Brackets`, a base class
of the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from btb.core.enums import (
    ExitReason,
    MarketType,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.core.order import Order, OrderEvent, OrderFilled, OrderPendingCancel, OrderSubmitted
from btb.core.position import Position
from btb.engine.intents import CancelIntent, EngineSettings, Intent, OrderIntent
from btb.engine.portfolio import ZERO, Portfolio, to_decimal
from btb.engine.protection import (
    ENTRY,
    EXIT,
    PROTECTION_REASON,
    STOP,
    TAKE,
    Brackets,
    Role,
)
from btb.engine.sizing import (
    ENTRY_GAP_ALLOWANCE,
    SIZING_FIXED_NOTIONAL,
    entry_lots,
    raw_quantity,
)
from btb.engine.venue import Venue
from btb.strategies.base import BaseStrategy
from btb.strategies.context import SignalRow, StrategyContext

if TYPE_CHECKING:
    import pandas as pd

    from btb.core.bar import Bar

log = logging.getLogger(__name__)

_TERMINAL = frozenset(s for s in OrderStatus if s.is_terminal)
_SUFFIX = {ENTRY: "", EXIT: "", STOP: "-sl", TAKE: "-tp"}  # of client order ids
# Enum members as module constants: reading them off the enum class is several times slower
# (no attribute cache for classes in CPython 3.11), and these are read for every order.
_SPOT, _SHORT = MarketType.SPOT, PositionSide.SHORT
_PENDING_CANCEL, _REJECTED = OrderStatus.PENDING_CANCEL, OrderStatus.REJECTED
_GTC = TimeInForce.GTC


class DataFeed(Protocol):
    """The shell's market data behind a strategy context."""

    def history(self, symbol: str) -> pd.DataFrame: ...

    def signal(self, symbol: str) -> SignalRow | None: ...


class Engine(Brackets):
    """Strategy -> risk -> orders -> venue -> fills -> portfolio, for any number of symbols."""

    def __init__(
        self,
        strategy: BaseStrategy,
        venue: Venue,
        feed: DataFeed,
        *,
        instruments: Mapping[str, Instrument],
        settings: EngineSettings,
        initial_cash: Decimal,
        timeframe: str,
    ) -> None:
        self.strategy = strategy
        self.venue = venue
        self.feed = feed
        self.instruments = dict(instruments)
        self.settings = settings
        leverage = Decimal(settings.leverage)
        self.portfolio = Portfolio(Decimal(initial_cash), settings.market_type, leverage)
        self.marks: dict[str, float] = {}
        self.orders: dict[str, Order] = {}
        self._roles: dict[str, Role] = {}
        # symbol -> working order ids, in submission order (a dict used as an ordered set)
        self._working: dict[str, dict[str, None]] = {s: {} for s in self.instruments}
        self._contexts = {s: StrategyContext(s, timeframe, self) for s in self.instruments}
        self._seq = 0
        self._warned: set[str] = set()
        # cash set aside per unit of notional (at the sizing price) for a pending entry: margin
        # plus the entry fee at the buffered fill price, as sizing.entry_lots caps it
        self._fee_rate, self._slippage = settings.entry_fee_rate, settings.slippage
        self._reserve_rate = (1 / Decimal(settings.leverage) + to_decimal(self._fee_rate)) * (
            1 + to_decimal(self._slippage + ENTRY_GAP_ALLOWANCE)
        )
        # sizing reads these floats for every entry (instruments are immutable)
        self._lot_rules = {
            s: (float(i.lot_step), float(i.min_qty), float(i.min_notional))
            for s, i in self.instruments.items()
        }
        self._bar_lengths: dict[str, timedelta] = {}
        # read for every order: bound once (settings and venue do not change)
        self._prefix, self._venue_submit = settings.order_prefix, venue.submit
        self._venue_cancel = venue.cancel
        self._sizing_mode = settings.sizing_mode
        venue.bind(self)

    # ---- driver -> engine ---------------------------------------------------------------

    def on_bar(self, bar: Bar, index: int = -1) -> None:
        """Decide on the closed ``bar``: ask the strategy, turn its intents into orders."""
        self.marks[bar.symbol] = bar.close
        ctx = self._contexts[bar.symbol]
        ctx.bar, ctx.index = bar, index
        intents = self.strategy.on_bar(ctx)
        if intents:  # most bars of a long run decide nothing
            length = self._bar_lengths.get(bar.timeframe)
            if length is None:  # Bar.close_time parses the timeframe on every call
                length = self._bar_lengths[bar.timeframe] = bar.close_time - bar.open_time
            ts = bar.open_time + length
            for intent in intents:
                self.handle(intent, ts)

    def close(self) -> None:
        """Drop the strategy contexts (they refer back to the engine) once the engine is done,
        so that reference counting alone frees it."""
        self._contexts.clear()

    def mark(self, symbol: str, price: float) -> None:
        """Update the last price of ``symbol`` without a decision (equity of other symbols)."""
        self.marks[symbol] = price

    def handle(self, intent: Intent, ts: datetime) -> None:
        """Apply one intent at time ``ts`` (risk checks, sizing, order placement)."""
        if isinstance(intent, OrderIntent):
            if intent.reduce_only:
                self._exit(intent, ts)
            else:
                self._enter(intent, ts)
        elif isinstance(intent, CancelIntent):
            for coid in list(self._working[intent.symbol]):
                role, order = self._roles[coid], self.orders[coid]
                if role.kind in (STOP, TAKE):
                    continue
                if intent.client_order_id not in (None, coid):
                    continue
                if intent.tag is None or intent.tag == order.tag:
                    self._cancel(coid, ts)
        else:
            self._move_brackets(intent, ts)

    def close_all(self, reason: ExitReason, ts: datetime) -> None:
        """Cancel every working order and close every position at market (e.g. end of data)."""
        for symbol in self.instruments:
            for coid in list(self._working[symbol]):
                self._cancel(coid, ts)
            pos = self.portfolio.position(symbol)
            if not pos.is_flat:
                self._exit(OrderIntent.exit(symbol, pos.side, reason=reason), ts)

    # ---- venue -> engine (VenueListener) --------------------------------------------------

    def on_order_event(self, client_order_id: str, event: OrderEvent) -> None:
        order = self.orders.get(client_order_id)
        if order is None:
            log.warning("event %s for unknown order %s", type(event).__name__, client_order_id)
            return
        order.apply(event)
        status = order.status
        if status in _TERMINAL:
            role = self._roles[client_order_id]
            self._working[order.symbol].pop(client_order_id, None)
            role.reserved = ZERO
            if isinstance(event, OrderFilled):
                self._on_fill(order, role, event.fill)
            elif status is _REJECTED and role.kind in (STOP, TAKE):
                self._protection_failed(order)
        elif isinstance(event, OrderFilled):  # a partial fill
            self._on_fill(order, self._roles[client_order_id], event.fill)

    def on_liquidation(self, fill: Fill) -> None:
        log.warning("%s liquidated at %s", fill.symbol, fill.price)
        self._book(fill, ExitReason.LIQUIDATION)
        self._after_position_change(fill.symbol, fill.ts, None)

    def on_funding(self, symbol: str, ts: datetime, amount: Decimal) -> None:
        self.portfolio.apply_funding(symbol, ts, amount)

    # ---- MarketSource (what strategy contexts read) ---------------------------------------

    def history(self, symbol: str) -> pd.DataFrame:
        return self.feed.history(symbol)

    def signal(self, symbol: str) -> SignalRow | None:
        return self.feed.signal(symbol)

    def position(self, symbol: str) -> Position:
        # read by the strategy on every decision: the existing position without a second call
        return self.portfolio.positions.get(symbol) or self.portfolio.position(symbol)

    def equity(self) -> float:
        return float(self.portfolio.equity(self.marks))

    def cash(self) -> float:
        return float(self.portfolio.free_cash(self.marks) - self._reserved())

    def open_orders(self, symbol: str) -> tuple[Order, ...]:
        return tuple(self.orders[c] for c in list(self._working[symbol]))

    def open_positions(self) -> int:
        positions = self.portfolio.positions
        count = 0
        for symbol, ids in self._working.items():
            pos = positions.get(symbol)
            if (pos is not None and pos.quantity != 0) or (ids and self._has_entry(ids)):
                count += 1
        return count

    # ---- entries and exits --------------------------------------------------------------

    def _enter(self, intent: OrderIntent, ts: datetime) -> None:
        s = self.settings
        symbol, side = intent.symbol, intent.position_side
        pos = self.portfolio.position(symbol)
        if s.market_type is _SPOT and side is _SHORT:
            self._warn_once("spot-short", "spot account: short entries are ignored")
            return
        ids = self._working[symbol]
        held = pos.quantity
        if held != 0 and pos.side is not side and self._closing(ids) < abs(held):
            self._warn_once(
                f"reverse-{symbol}",
                f"{symbol}: entry against the open position ignored; exit first",
            )
            return
        # A symbol with a position or a pending entry keeps its slot (also when reversing).
        busy = held != 0 or (bool(ids) and self._has_entry(ids))
        # the other symbols can fill the slots only when there are more of them than slots
        crowded = len(self._working) > s.max_open_positions
        if not busy and crowded and self.open_positions() >= s.max_open_positions:
            log.debug(
                "%s: entry skipped, max_open_positions %d reached", symbol, s.max_open_positions
            )
            return
        sl = intent.stop_loss if intent.stop_loss is not None else s.stop_loss_pct
        tp = intent.take_profit if intent.take_profit is not None else s.take_profit_pct
        if not intent.protect:
            sl = tp = None
        inst = self.instruments[symbol]
        ref = intent.price if intent.price is not None else self.marks[symbol]
        qty = intent.quantity or self._size(inst, ref, sl)
        if qty <= 0:
            log.debug("%s: entry skipped, size below the instrument minimum", symbol)
            return
        reserve = qty * to_decimal(ref) * self._reserve_rate
        role = Role(ENTRY, stop_loss=sl, take_profit=tp, reserved=reserve)
        price = to_decimal(intent.price) if intent.price is not None else None
        self._submit(
            symbol, intent.side, intent.order_type, qty, ts, role, price=price, tag=intent.tag
        )

    def _closing(self, ids: dict[str, None]) -> Decimal:
        """Quantity the working exit orders among ``ids`` still close."""
        return sum((self.orders[c].remaining_qty for c in ids if self._roles[c].kind == EXIT), ZERO)

    def _size(self, inst: Instrument, price: float, stop: float | None) -> Decimal:
        s = self.settings
        free = self.portfolio.free_cash(self.marks) - self._reserved()
        # fixed notional sizing never reads equity, which costs a Decimal mark-to-market
        mode = self._sizing_mode
        equity = 0.0 if mode == SIZING_FIXED_NOTIONAL else self.equity()
        qty = raw_quantity(
            mode,
            equity,
            price,
            stop if stop is not None else float("nan"),
            s.fixed_notional,
            s.equity_fraction,
            s.risk_per_trade,
            float(s.leverage),
        )
        lot_step, min_qty, min_notional = self._lot_rules[inst.symbol]
        lots = entry_lots(
            qty,
            float(free),
            price,
            float(s.leverage),
            self._fee_rate,
            self._slippage,
            lot_step,
            min_qty,
            min_notional,
        )
        return Decimal(int(lots)) * inst.lot_step

    def _exit(self, intent: OrderIntent, ts: datetime) -> None:
        pos = self.portfolio.position(intent.symbol)
        if pos.is_flat or pos.side is not intent.position_side:
            return
        held = abs(pos.quantity)
        qty = min(intent.quantity, held) if intent.quantity is not None else held
        price = to_decimal(intent.price) if intent.price is not None else None
        self._submit(
            intent.symbol,
            intent.side,
            intent.order_type,
            qty,
            ts,
            Role(EXIT, reason=intent.reason),
            price=price,
            reduce_only=True,
            tag=intent.tag,
        )

    def _submit(
        self,
        symbol: str,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        ts: datetime,
        role: Role,
        *,
        price: Decimal | None = None,
        trigger: Decimal | None = None,
        reduce_only: bool = False,
        tag: str = "",
    ) -> None:
        self._seq = seq = self._seq + 1
        kind = role.kind
        coid = f"{self._prefix}-{symbol}-{seq:06d}{_SUFFIX[kind]}"
        # positional (keywords cost a third of the construction): the fields in their order
        order = Order(
            coid,
            symbol,
            side,
            order_type,
            qty,
            price,  # price
            trigger,  # trigger_price
            reduce_only,  # reduce_only
            _GTC,  # time_in_force
            ts,  # created_at
            None,  # stop_loss
            None,  # take_profit
            tag or kind,  # tag
        )
        order.apply(OrderSubmitted(ts))
        self.orders[coid] = order
        self._roles[coid] = role
        self._working[symbol][coid] = None
        self._venue_submit(order)

    def _cancel(self, coid: str, ts: datetime) -> None:
        order = self.orders[coid]
        status = order.status
        if status in _TERMINAL or status is _PENDING_CANCEL:
            return
        order.apply(OrderPendingCancel(ts))
        self._venue_cancel(coid)

    # ---- fills and protection -----------------------------------------------------------

    def _on_fill(self, order: Order, role: Role, fill: Fill) -> None:
        if role.kind == EXIT:
            reason = role.reason
        elif role.kind == ENTRY:
            reason = ExitReason.SIGNAL  # only labels a round trip an entry fill flips
        else:
            reason = PROTECTION_REASON[role.kind]
        self._book(fill, reason)
        self._after_position_change(fill.symbol, fill.ts, role if role.kind == ENTRY else None)

    def _book(self, fill: Fill, reason: ExitReason) -> None:
        trade = self.portfolio.apply_fill(fill, reason)
        if trade is not None:
            self.strategy.on_trade(trade)

    # ---- small helpers ------------------------------------------------------------------

    def _has_entry(self, ids: dict[str, None]) -> bool:
        return any(self._roles[c].kind == ENTRY for c in ids)

    def _reserved(self) -> Decimal:
        total = ZERO
        for ids in self._working.values():
            for coid in ids:
                total += self._roles[coid].reserved
        return total

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)
