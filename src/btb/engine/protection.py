"""Protection of open positions: the engine's bracket orders.

An entry's stop-loss and take-profit are placed with the venue as reduce-only stop-market /
take-profit-market orders the moment the entry fills, at distances measured from the
position's average entry (= the entry fill for a single entry); if the venue rejects one, the
position is flattened at market. When a position returns to flat, its remaining protective
and reduce-only orders are cancelled (one-cancels-other). A :class:`BracketUpdate` moves the
levels of an open position's brackets.

:class:`Brackets` is a part of :class:`btb.engine.engine.Engine` (its base class), kept here
so that each module stays small; it works on the engine's order book.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from btb.core import matching as m
from btb.core.enums import ExitReason, OrderType, Side
from btb.core.order import Order
from btb.core.position import Position
from btb.engine.intents import BracketUpdate, OrderIntent
from btb.engine.portfolio import Portfolio, to_decimal

log = logging.getLogger("btb.engine.engine")  # one logger for the whole engine

ENTRY, EXIT, STOP, TAKE = "entry", "exit", "stop_loss", "take_profit"
PROTECTION_REASON = {STOP: ExitReason.STOP_LOSS, TAKE: ExitReason.TAKE_PROFIT}
# Enum members as module constants: reading them off the enum class is several times slower
# (no attribute cache for classes in CPython 3.11), and these are read for every order.
_BUY, _SELL = Side.BUY, Side.SELL
_STOP_MARKET, _TAKE_PROFIT_MARKET = OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET
_PROTECTIVE = frozenset({STOP, TAKE})
# the two brackets, in placing order: role kind, order type, exit reason
_BRACKETS, _TYPES = (STOP, TAKE), (_STOP_MARKET, _TAKE_PROFIT_MARKET)
_REASONS = (PROTECTION_REASON[STOP], PROTECTION_REASON[TAKE])


@dataclass(slots=True)
class Role:
    """What an order is for, in the engine's book (by client order id)."""

    kind: str  # ENTRY | EXIT | STOP | TAKE
    reason: ExitReason = ExitReason.SIGNAL
    stop_loss: float | None = None  # entry only: fractions from the entry fill
    take_profit: float | None = None
    reserved: Decimal = Decimal(0)  # entry only: cash set aside until it fills or dies


class Brackets:
    """Placing, moving and cancelling the protective orders of the engine's positions."""

    portfolio: Portfolio
    orders: dict[str, Order]
    _roles: dict[str, Role]
    _working: dict[str, dict[str, None]]  # symbol -> working order ids (an ordered set)

    if TYPE_CHECKING:  # provided by the Engine

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
        ) -> None: ...

        def _cancel(self, coid: str, ts: datetime) -> None: ...

        def _exit(self, intent: OrderIntent, ts: datetime) -> None: ...

    def _after_position_change(self, symbol: str, ts: datetime, entry: Role | None) -> None:
        pos = self.portfolio.positions.get(symbol) or self.portfolio.position(symbol)
        working = self._working[symbol]
        held = pos.quantity
        if held == 0:
            orders = self.orders
            for coid in list(working):
                if orders[coid].reduce_only:
                    self._cancel(coid, ts)
            return
        roles = self._roles
        protective = [c for c in working if roles[c].kind in _PROTECTIVE]
        if entry is None and not protective:
            return
        levels = self._bracket_levels(pos, entry, protective)
        for coid in protective:
            self._cancel(coid, ts)
        qty, close_side = abs(held), (_SELL if held > 0 else _BUY)
        for kind, otype, reason, level in zip(_BRACKETS, _TYPES, _REASONS, levels, strict=True):
            if level is not None:
                self._submit(
                    symbol,
                    close_side,
                    otype,
                    qty,
                    ts,
                    Role(kind, reason),
                    trigger=to_decimal(level),
                    reduce_only=True,
                )

    def _bracket_levels(
        self, pos: Position, entry: Role | None, protective: list[str]
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
        entry = Role(ENTRY)
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
