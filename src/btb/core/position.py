"""A position built only from fills.

Sign convention: ``quantity`` > 0 is long, < 0 is short. A fill in the direction of the
position adds to it at a volume-weighted average entry price; a fill against it realises
PnL on the closed part at ``(fill price - average entry) * closed quantity * sign``; a fill
larger than the position closes it and opens the remainder the other way at the fill price.

Identities every sequence of fills keeps (property-tested):
``quantity == sum of signed fill quantities`` and
``sum(sell notionals) - sum(buy notionals) == realized_pnl - quantity * avg_entry_price``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from btb.core.enums import MarketType, PositionSide, Side
from btb.core.fill import Fill

ZERO = Decimal(0)
# Enum members as module constants: reading them off the enum class is several times slower
# (no attribute cache for classes in CPython 3.11), and these are read for every fill.
_BUY, _SPOT = Side.BUY, MarketType.SPOT


@dataclass(slots=True)
class Position:
    """Net position in one symbol (one-way mode)."""

    symbol: str
    market_type: MarketType = MarketType.LINEAR
    leverage: Decimal = Decimal(1)
    quantity: Decimal = ZERO
    avg_entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO
    opened_at: datetime | None = None
    fills: list[Fill] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.leverage <= 0:
            raise ValueError(f"position {self.symbol}: leverage must be > 0")
        if self.market_type is MarketType.SPOT and self.leverage != 1:
            raise ValueError(f"position {self.symbol}: spot positions cannot use leverage")

    @property
    def side(self) -> PositionSide:
        if self.quantity > 0:
            return PositionSide.LONG
        if self.quantity < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    def apply(self, fill: Fill) -> Decimal:
        """Apply one fill; return the gross PnL it realised (0 when it only adds)."""
        if fill.symbol != self.symbol:
            raise ValueError(f"fill for {fill.symbol} applied to position {self.symbol}")
        # Locals and module constants: a backtest applies two fills per round trip, twice.
        qty, fill_qty, price = self.quantity, fill.quantity, fill.price
        delta = fill_qty if fill.side is _BUY else -fill_qty  # Fill.signed_quantity
        if self.market_type is _SPOT and qty + delta < 0:
            raise ValueError(f"spot position {self.symbol} cannot go short")
        realized = ZERO
        held = abs(qty)
        if qty == 0 or (qty > 0) == (delta > 0):
            self.avg_entry_price = (held * self.avg_entry_price + fill_qty * price) / (
                held + fill_qty
            )
            if qty == 0:
                self.opened_at = fill.ts
        else:
            closed = min(fill_qty, held)
            direction = 1 if qty > 0 else -1
            realized = (price - self.avg_entry_price) * closed * direction
            if fill_qty > held:  # flips: the rest opens at the fill price
                self.avg_entry_price = price
                self.opened_at = fill.ts
            elif fill_qty == held:
                self.avg_entry_price = ZERO
                self.opened_at = None
        self.quantity = qty + delta
        self.realized_pnl += realized
        self.fees_paid += fill.fee
        self.fills.append(fill)
        return realized

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return self.quantity * (Decimal(mark) - self.avg_entry_price)

    def notional(self, mark: Decimal) -> Decimal:
        return abs(self.quantity) * Decimal(mark)

    @property
    def margin(self) -> Decimal:
        """Initial margin held (isolated): entry notional / leverage; spot holds the full cost."""
        return abs(self.quantity) * self.avg_entry_price / self.leverage

    def liquidation_price(self, maintenance_margin_rate: Decimal) -> Decimal | None:
        """Isolated-margin liquidation price of a linear futures position (None if flat or spot).

        The position is liquidated when its loss eats the initial margin down to the
        maintenance margin: long ``entry * (1 - 1/leverage + mmr)``,
        short ``entry * (1 + 1/leverage - mmr)`` (fees and funding ignored).
        """
        if self.is_flat or self.market_type is MarketType.SPOT:
            return None
        inverse = 1 / self.leverage
        if self.quantity > 0:
            return max(ZERO, self.avg_entry_price * (1 - inverse + maintenance_margin_rate))
        return self.avg_entry_price * (1 + inverse - maintenance_margin_rate)
