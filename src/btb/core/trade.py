"""A round trip: a position opened and closed again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btb.core.enums import ExitReason, PositionSide


@dataclass(frozen=True, slots=True)
class Trade:
    """One completed round trip. ``gross_pnl`` excludes fees; ``fees`` covers entry and exit."""

    trade_id: str
    symbol: str
    side: PositionSide
    quantity: Decimal
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    gross_pnl: Decimal
    fees: Decimal
    exit_reason: ExitReason

    def __post_init__(self) -> None:
        if self.side is PositionSide.FLAT:
            raise ValueError(f"trade {self.trade_id}: side must be long or short")

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.fees

    @property
    def return_pct(self) -> Decimal:
        """Net PnL relative to the entry notional, in percent."""
        basis = self.quantity * self.entry_price
        return self.net_pnl / basis * 100 if basis else Decimal(0)
