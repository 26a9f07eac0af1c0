"""What a strategy asks the engine to do: order intents, cancels, bracket moves.

A strategy never talks to a venue. It returns intents from
:meth:`btb.strategies.base.BaseStrategy.on_bar`; the engine passes them through risk (sizing,
position limits, funds) and turns the approved ones into :class:`btb.core.Order` objects for
the venue. Intents live here, below the engine, because strategies may not import
:mod:`btb.engine` (layers point down); :mod:`btb.engine.intents` re-exports them.

Stop-loss and take-profit are *attached* to an entry: the fractions ``stop_loss`` and
``take_profit`` are price distances from the entry fill (``0.02`` = 2 %). When the entry
fills, the engine places the protective orders with the venue at once (exchange-side stops),
so they are live from the entry bar on, and flattens the position if they cannot be placed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from btb.core.enums import ExitReason, OrderType, PositionSide, Side


def _check_fraction(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive fraction of the entry price, got {value!r}")


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One order a strategy wants placed.

    ``quantity=None`` lets the engine size an entry (by the configured sizing rule) or, for a
    ``reduce_only`` exit, close the whole position. ``price`` is the limit price of a LIMIT
    order. ``stop_loss``/``take_profit`` (entries only) are distances from the entry fill as
    fractions; ``None`` means "use the risk config's default" and ``0`` is rejected: a
    strategy that wants no stop must say so with ``protect=False``.
    """

    symbol: str
    side: Side
    order_type: OrderType = OrderType.MARKET
    quantity: Decimal | None = None
    price: float | None = None
    reduce_only: bool = False
    stop_loss: float | None = None
    take_profit: float | None = None
    protect: bool = True
    reason: ExitReason = ExitReason.SIGNAL
    tag: str = ""

    def __post_init__(self) -> None:
        if self.order_type not in (OrderType.MARKET, OrderType.LIMIT):
            raise ValueError(
                f"intent {self.symbol}: order_type must be market or limit; stop and "
                "take-profit orders are attached with stop_loss/take_profit"
            )
        if self.order_type is OrderType.LIMIT and (self.price is None or not self.price > 0):
            raise ValueError(f"intent {self.symbol}: a limit intent needs a price > 0")
        if self.quantity is not None and self.quantity <= 0:
            raise ValueError(f"intent {self.symbol}: quantity must be > 0")
        _check_fraction("stop_loss", self.stop_loss)
        _check_fraction("take_profit", self.take_profit)
        if self.reduce_only and (self.stop_loss is not None or self.take_profit is not None):
            raise ValueError(f"intent {self.symbol}: an exit cannot carry stop_loss/take_profit")

    @property
    def position_side(self) -> PositionSide:
        """The side of the position this intent opens (entries) or closes (exits)."""
        buys_long = (self.side is Side.BUY) != self.reduce_only
        return PositionSide.LONG if buys_long else PositionSide.SHORT

    @classmethod
    def enter(
        cls,
        symbol: str,
        side: PositionSide,
        *,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        price: float | None = None,
        quantity: Decimal | None = None,
        tag: str = "",
    ) -> OrderIntent:
        """Open ``side`` (LONG buys, SHORT sells) at market, or at ``price`` as a limit."""
        if side is PositionSide.FLAT:
            raise ValueError("enter needs LONG or SHORT")
        return cls(
            symbol=symbol,
            side=Side.BUY if side is PositionSide.LONG else Side.SELL,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            quantity=quantity,
            price=price,
            stop_loss=stop_loss,
            take_profit=take_profit,
            tag=tag,
        )

    @classmethod
    def exit(
        cls,
        symbol: str,
        side: PositionSide,
        *,
        reason: ExitReason = ExitReason.SIGNAL,
        quantity: Decimal | None = None,
        price: float | None = None,
        tag: str = "",
    ) -> OrderIntent:
        """Close (all of, or ``quantity`` of) an open ``side`` position, reduce-only."""
        if side is PositionSide.FLAT:
            raise ValueError("exit needs LONG or SHORT")
        return cls(
            symbol=symbol,
            side=Side.SELL if side is PositionSide.LONG else Side.BUY,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            quantity=quantity,
            price=price,
            reduce_only=True,
            reason=reason,
            tag=tag,
        )


@dataclass(frozen=True, slots=True)
class CancelIntent:
    """Cancel this strategy's working orders in ``symbol``: one by id, by tag, or all of them.

    Protective (stop-loss / take-profit) orders are never cancelled this way; move them with
    :class:`BracketUpdate`.
    """

    symbol: str
    client_order_id: str | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class BracketUpdate:
    """Move the protective orders of the open position in ``symbol`` to absolute prices.

    ``None`` leaves that side as it is. Used for trailing stops and break-even moves.
    """

    symbol: str
    stop_loss_price: float | None = None
    take_profit_price: float | None = None


Intent = OrderIntent | CancelIntent | BracketUpdate
"""Anything :meth:`BaseStrategy.on_bar` may return."""

__all__ = ["BracketUpdate", "CancelIntent", "Intent", "OrderIntent"]
