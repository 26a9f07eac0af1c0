"""A point-in-time view of an account's money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Balances in the quote currency. ``total_balance`` is the wallet (realised) balance."""

    ts: datetime
    total_balance: Decimal
    available_balance: Decimal
    unrealized_pnl: Decimal = Decimal(0)
    total_margin: Decimal = Decimal(0)
    total_pnl: Decimal = Decimal(0)

    @property
    def equity(self) -> Decimal:
        """Wallet balance plus open positions' unrealised PnL."""
        return self.total_balance + self.unrealized_pnl
