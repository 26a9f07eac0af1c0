"""An execution: part or all of an order traded at one price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btb.core.enums import LiquiditySide, Side


@dataclass(frozen=True, slots=True)
class Fill:
    """``quantity`` of ``symbol`` traded at ``price``; ``fee`` is in ``fee_currency`` (quote)."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    ts: datetime
    liquidity: LiquiditySide = LiquiditySide.TAKER
    trade_id: str = ""
    exchange_order_id: str | None = None
    fee_currency: str = "USDT"

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"fill of {self.client_order_id}: quantity must be > 0")
        if self.price <= 0:
            raise ValueError(f"fill of {self.client_order_id}: price must be > 0")

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price

    @property
    def signed_quantity(self) -> Decimal:
        """Position change: positive for a buy, negative for a sell."""
        return self.quantity * self.side.sign
