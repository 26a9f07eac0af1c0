"""A round trip: a position opened and closed again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btb.core.enums import ExitReason, PositionSide


def round_trip_id(
    symbol: str,
    side: PositionSide,
    entry_time: datetime,
    quantity: Decimal,
    entry_price: Decimal | float,
) -> str:
    """A trade id made from the round trip itself: the same trade always gets the same id (a
    replayed or re-run backtest stores idempotently), different trades different ones (no
    per-run counter, which restarts and clashes across runs and restarts).

    ``SYMBOL-YYYYmmddTHHMMSS-<10 hex>``: symbol and entry time (UTC, to the second) for
    people; the digest of symbol, side, exact entry time, quantity and entry price tells apart
    round trips that share the readable part. Quantity and price are normalised (``0.50`` and
    ``0.5`` give one id) so that a Decimal ledger and a float one agree.
    """
    qty = Decimal(quantity).normalize()
    price = repr(float(entry_price))
    stamp = entry_time.isoformat()
    key = f"{symbol}|{side.value}|{stamp}|{qty:f}|{price}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    # YYYYmmddTHHMMSS cut from the ISO form (strftime costs twice as much per trade)
    readable = stamp[:19].replace("-", "").replace(":", "")
    return f"{symbol}-{readable}-{digest}"


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
