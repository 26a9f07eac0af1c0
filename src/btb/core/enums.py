"""Enumerations shared by every layer; values are the lower-case strings stored and logged."""

from __future__ import annotations

import enum


class Side(enum.StrEnum):
    """Order or fill direction."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        """+1 for buys, -1 for sells: the sign of the position change a fill makes."""
        return 1 if self is Side.BUY else -1


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    TAKE_PROFIT_MARKET = "take_profit_market"


class OrderStatus(enum.StrEnum):
    """Lifecycle of an order; allowed moves are in :data:`btb.core.order.TRANSITIONS`."""

    INITIALIZED = "initialized"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        """Working at (or on its way to) the venue: it may still fill."""
        return self in _OPEN


_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
_OPEN = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
    }
)


class TimeInForce(enum.StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class MarketType(enum.StrEnum):
    SPOT = "spot"
    LINEAR = "linear"


class PositionSide(enum.StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class LiquiditySide(enum.StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class ExitReason(enum.StrEnum):
    """Why a round trip ended; reported in trade tables and stored with trades."""

    SIGNAL = "signal"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    END_OF_DATA = "end_of_data"
    LIQUIDATION = "liquidation"
    MANUAL = "manual"
