"""Tradable instruments and their exchange rules (tick, lot step, minimums)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal

from btb.core.enums import MarketType
from btb.errors import InvalidOrderError


def _round_to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """Round ``value`` to a multiple of ``step`` and keep the step's number of decimals."""
    units = (value / step).to_integral_value(rounding=rounding)
    return (units * step).quantize(step)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A market with the rules every order must satisfy before it is sent."""

    symbol: str
    base: str
    quote: str
    market_type: MarketType
    tick_size: Decimal
    lot_step: Decimal
    min_qty: Decimal
    min_notional: Decimal = Decimal(0)
    max_qty: Decimal | None = None
    max_leverage: int = 1
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    maintenance_margin_rate: Decimal = Decimal("0.005")

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_step"):
            if getattr(self, name) <= 0:
                raise ValueError(f"instrument {self.symbol}: {name} must be > 0")

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        """``price`` on the tick grid (nearest by default; pass ROUND_DOWN/ROUND_UP to choose)."""
        return _round_to_step(Decimal(price), self.tick_size, rounding)

    def round_qty(self, qty: Decimal) -> Decimal:
        """``qty`` floored to the lot step: rounding never buys more than was asked for."""
        return _round_to_step(Decimal(qty), self.lot_step, ROUND_DOWN)

    def min_qty_for(self, price: Decimal) -> Decimal:
        """Smallest lot-grid quantity meeting both min_qty and min_notional at ``price``."""
        by_notional = _round_to_step(self.min_notional / Decimal(price), self.lot_step, ROUND_UP)
        return max(self.min_qty, by_notional)

    def check_order(self, qty: Decimal, price: Decimal | None) -> None:
        """Raise InvalidOrderError naming the broken limit; ``price=None`` skips price checks."""
        where = f"{self.symbol}: quantity {qty}"
        if qty <= 0:
            raise InvalidOrderError(f"{where} must be > 0")
        if qty % self.lot_step != 0:
            raise InvalidOrderError(f"{where} is not a multiple of lot step {self.lot_step}")
        if qty < self.min_qty:
            raise InvalidOrderError(f"{where} is below min_qty {self.min_qty}")
        if self.max_qty is not None and qty > self.max_qty:
            raise InvalidOrderError(f"{where} is above max_qty {self.max_qty}")
        if price is not None:
            if price % self.tick_size != 0:
                raise InvalidOrderError(
                    f"{self.symbol}: price {price} is not a multiple of tick size {self.tick_size}"
                )
            notional = qty * price
            if notional < self.min_notional:
                raise InvalidOrderError(
                    f"{where} at {price} is notional {notional}, below min_notional "
                    f"{self.min_notional}"
                )
