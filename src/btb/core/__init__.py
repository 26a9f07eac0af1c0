"""Domain values shared by every layer: enums, Instrument, Bar, Order, Fill, Position, Trade.

Pure Python and Decimal; no I/O, no pandas, so every layer (and ``import btb``) stays light.
"""

from btb.core.account import AccountSnapshot
from btb.core.bar import Bar, timeframe_seconds
from btb.core.enums import (
    ExitReason,
    LiquiditySide,
    MarketType,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.core.order import TRANSITIONS, Order
from btb.core.position import Position
from btb.core.trade import Trade

__all__ = [
    "TRANSITIONS",
    "AccountSnapshot",
    "Bar",
    "ExitReason",
    "Fill",
    "Instrument",
    "LiquiditySide",
    "MarketType",
    "Order",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionSide",
    "Side",
    "TimeInForce",
    "Trade",
    "timeframe_seconds",
]
