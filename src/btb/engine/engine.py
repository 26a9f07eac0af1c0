"""The one engine: closed bars in, orders out; venue events in, ledger updated.

    bar -> strategy.on_bar(ctx) -> intents -> risk/sizing -> Order -> venue.submit
    venue events -> Order.apply(event) -> Portfolio.apply_fill -> positions, trades

Synchronous and I/O-free: the backtest shell and the live shell drive the same object. The
shell supplies closed bars (:meth:`Engine.on_bar`), the history/signals behind them (a
:class:`DataFeed`) and a :class:`~btb.engine.venue.Venue`; the venue calls back
:meth:`Engine.on_order_event`, :meth:`Engine.on_liquidation` and :meth:`Engine.on_funding`.

Protection: an entry's stop-loss and take-profit are placed with the venue as reduce-only
stop-market / take-profit-market orders the moment the entry fills, at distances measured
from the position's average entry (= the entry fill for a single entry); if the venue rejects
one, the position is flattened at market. When a position returns to flat, its remaining
protective and reduce-only orders are cancelled (one-cancels-other).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from btb.core import matching as m
from btb.core.enums import ExitReason, MarketType, OrderStatus, OrderType, PositionSide, Side
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.core.order import Order, OrderEvent, OrderFilled, OrderPendingCancel, OrderSubmitted
from btb.core.position import Position
from btb.engine.intents import BracketUpdate, CancelIntent, EngineSettings, Intent, OrderIntent
from btb.engine.portfolio import ZERO, Portfolio, to_decimal
from btb.engine.sizing import entry_lots, raw_quantity
from btb.engine.venue import Venue
from btb.strategies.base import BaseStrategy
from btb.strategies.context import SignalRow, StrategyContext

if TYPE_CHECKING:
    import pandas as pd

    from btb.core.bar import Bar

log = logging.getLogger(__name__)

ENTRY, EXIT, STOP, TAKE = "entry", "exit", "stop_loss", "take_profit"
_TERMINAL = frozenset(s for s in OrderStatus if s.is_terminal)
_SUFFIX = {ENTRY: "", EXIT: "", STOP: "-sl", TAKE: "-tp"}  # of client order ids
# Enum members as module constants: reading them off the enum class is several times slower
# (no attribute cache for classes in CPython 3.11), and these are read for every order.
_BUY, _SELL, _SPOT, _SHORT = Side.BUY, Side.SELL, MarketType.SPOT, PositionSide.SHORT
_PENDING_CANCEL, _REJECTED = OrderStatus.PENDING_CANCEL, OrderStatus.REJECTED
_STOP_MARKET, _TAKE_PROFIT_MARKET = OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET
_PROTECTION_REASON = {STOP: ExitReason.STOP_LOSS, TAKE: ExitReason.TAKE_PROFIT}


class DataFeed(Protocol):
    """The shell's market data behind a strategy context."""

    def history(self, symbol: str) -> pd.DataFrame: ...

    def signal(self, symbol: str) -> SignalRow | None: ...


@dataclass(slots=True)
class _Role:
    kind: str  # ENTRY | EXIT | STOP | TAKE
    reason: ExitReason = ExitReason.SIGNAL
    stop_loss: float | None = None  # entry only: fractions from the entry fill
    take_profit: float | None = None
    reserved: Decimal = Decimal(0)  # entry only: cash set aside until it fills or dies


class Engine:
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
        self._roles: dict[str, _Role] = {}
        # symbol -> working order ids, in submission order (a dict used as an ordered set)
        self._working: dict[str, dict[str, None]] = {s: {} for s in self.instruments}
        self._contexts = {s: StrategyContext(s, timeframe, self) for s in self.instruments}
        self._seq = 0
        self._warned: set[str] = set()
        # cash set aside per unit of notional for a pending entry: margin plus the entry fee
        self._reserve_rate = 1 / Decimal(settings.leverage) + to_decimal(settings.taker_fee)
        # sizing reads these floats for every entry (instruments are immutable)
        self._lot_rules = {
            s: (float(i.lot_step), float(i.min_qty), float(i.min_notional))
            for s, i in self.instruments.items()
        }
        self._bar_lengths: dict[str, timedelta] = {}
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
        return self.portfolio.position(symbol)

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
        if not busy and self.open_positions() >= s.max_open_positions:
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
        role = _Role(ENTRY, stop_loss=sl, take_profit=tp, reserved=reserve)
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
        qty = raw_quantity(
            s.sizing_mode,
            self.equity(),
            price,
            stop if stop is not None else float("nan"),
            s.fixed_notional,
            s.equity_fraction,
            s.risk_per_trade,
            float(s.leverage),
        )
        lot_step, min_qty, min_notional = self._lot_rules[inst.symbol]
        lots = entry_lots(
            qty, float(free), price, float(s.leverage), s.taker_fee, lot_step, min_qty, min_notional
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
            _Role(EXIT, reason=intent.reason),
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
        role: _Role,
        *,
        price: Decimal | None = None,
        trigger: Decimal | None = None,
        reduce_only: bool = False,
        tag: str = "",
    ) -> None:
        self._seq += 1
        coid = f"{self.settings.order_prefix}-{symbol}-{self._seq:06d}{_SUFFIX[role.kind]}"
        order = Order(
            coid,
            symbol,
            side,
            order_type,
            qty,
            price=price,
            trigger_price=trigger,
            reduce_only=reduce_only,
            created_at=ts,
            tag=tag or role.kind,
        )
        order.apply(OrderSubmitted(ts))
        self.orders[coid] = order
        self._roles[coid] = role
        self._working[symbol][coid] = None
        self.venue.submit(order)

    def _cancel(self, coid: str, ts: datetime) -> None:
        order = self.orders[coid]
        status = order.status
        if status in _TERMINAL or status is _PENDING_CANCEL:
            return
        order.apply(OrderPendingCancel(ts))
        self.venue.cancel(coid)

    # ---- fills and protection -----------------------------------------------------------

    def _on_fill(self, order: Order, role: _Role, fill: Fill) -> None:
        if role.kind == EXIT:
            reason = role.reason
        elif role.kind == ENTRY:
            reason = ExitReason.SIGNAL  # only labels a round trip an entry fill flips
        else:
            reason = _PROTECTION_REASON[role.kind]
        self._book(fill, reason)
        self._after_position_change(fill.symbol, fill.ts, role if role.kind == ENTRY else None)

    def _book(self, fill: Fill, reason: ExitReason) -> None:
        trade = self.portfolio.apply_fill(fill, reason)
        if trade is not None:
            self.strategy.on_trade(trade)

    def _after_position_change(self, symbol: str, ts: datetime, entry: _Role | None) -> None:
        pos = self.portfolio.position(symbol)
        working = self._working[symbol]
        if pos.is_flat:
            for coid in list(working):
                if self.orders[coid].reduce_only:
                    self._cancel(coid, ts)
            return
        protective = [c for c in working if self._roles[c].kind in (STOP, TAKE)]
        if entry is None and not protective:
            return
        levels = self._bracket_levels(pos, entry, protective)
        for coid in protective:
            self._cancel(coid, ts)
        qty, close_side = abs(pos.quantity), (_SELL if pos.quantity > 0 else _BUY)
        for kind, level in zip((STOP, TAKE), levels, strict=True):
            if level is not None:
                otype = _STOP_MARKET if kind == STOP else _TAKE_PROFIT_MARKET
                self._submit(
                    symbol,
                    close_side,
                    otype,
                    qty,
                    ts,
                    _Role(kind, _PROTECTION_REASON[kind]),
                    trigger=to_decimal(level),
                    reduce_only=True,
                )

    def _bracket_levels(
        self, pos: Position, entry: _Role | None, protective: list[str]
    ) -> tuple[float | None, float | None]:
        """New stop/take prices: from the entry's fractions, else keep the current ones."""
        if entry is not None:
            avg, sign = float(pos.avg_entry_price), (1 if pos.quantity > 0 else -1)
            sl = entry.stop_loss
            tp = entry.take_profit
            return (
                m.stop_loss_level(avg, sign, sl) if sl is not None else None,
                m.take_profit_level(avg, sign, tp) if tp is not None else None,
            )
        current: dict[str, float | None] = {STOP: None, TAKE: None}
        for coid in protective:
            trigger = self.orders[coid].trigger_price
            current[self._roles[coid].kind] = float(trigger) if trigger is not None else None
        return current[STOP], current[TAKE]

    def _move_brackets(self, update: BracketUpdate, ts: datetime) -> None:
        pos = self.portfolio.position(update.symbol)
        if pos.is_flat:
            return
        protective = [
            c for c in list(self._working[update.symbol]) if self._roles[c].kind in (STOP, TAKE)
        ]
        sl, tp = self._bracket_levels(pos, None, protective)
        sl = update.stop_loss_price if update.stop_loss_price is not None else sl
        tp = update.take_profit_price if update.take_profit_price is not None else tp
        entry = _Role(ENTRY)
        avg, sign = float(pos.avg_entry_price), (1 if pos.quantity > 0 else -1)
        # Express the absolute prices as fractions of the average entry, then re-place.
        entry.stop_loss = (1 - sl / avg) * sign if sl is not None else None
        entry.take_profit = (tp / avg - 1) * sign if tp is not None else None
        self._after_position_change(update.symbol, ts, entry)

    def _protection_failed(self, order: Order) -> None:
        pos = self.portfolio.position(order.symbol)
        if pos.is_flat:
            return
        # Protection could not be placed: never hold the position naked.
        log.error(
            "%s: protective order rejected (%s); flattening", order.symbol, order.reject_reason
        )
        ts = order.updated_at or order.created_at
        assert ts is not None
        self._exit(OrderIntent.exit(order.symbol, pos.side, reason=ExitReason.MANUAL), ts)

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
