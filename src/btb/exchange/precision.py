"""Order quantities and prices put on the instrument's grid, and refused before sending.

Everything here is Decimal arithmetic on :class:`btb.core.instrument.Instrument` rules:
quantities are floored to the lot step (rounding never trades more than was asked for), limit
prices go to the tick on the passive side (a buy never pays more, a sell never receives less),
trigger prices go to the nearest tick. An order that breaks min quantity, max quantity or min
notional after rounding raises :class:`btb.errors.InvalidOrderError` naming the limit, so no
request is ever sent for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation

from btb.core.enums import Side
from btb.core.instrument import Instrument
from btb.errors import InvalidOrderError

Number = Decimal | int | float | str


@dataclass(frozen=True, slots=True)
class PreparedOrder:
    """Quantity and prices on the grid, already checked against the instrument's limits."""

    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None


def as_decimal(value: Number, what: str) -> Decimal:
    """``value`` as Decimal; floats go through str() so 0.1 stays 0.1, not its binary neighbour."""
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise InvalidOrderError(f"{what}: {value!r} is not a number") from None
    if not result.is_finite():
        raise InvalidOrderError(f"{what}: {value!r} is not a finite number")
    return result


def format_decimal(value: Decimal) -> str:
    """Plain decimal text for an API field: no exponent, no trailing zeros ("0.001", "25000")."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def round_limit_price(instrument: Instrument, price: Number, side: Side) -> Decimal:
    """A limit price on the tick grid, rounded passively: buys down, sells up."""
    value = as_decimal(price, f"{instrument.symbol} price")
    if value <= 0:
        raise InvalidOrderError(f"{instrument.symbol}: price {value} must be > 0")
    return instrument.round_price(value, ROUND_DOWN if side is Side.BUY else ROUND_UP)


def round_trigger_price(instrument: Instrument, price: Number) -> Decimal:
    """A trigger (stop-loss / take-profit) price on the nearest tick."""
    value = as_decimal(price, f"{instrument.symbol} trigger price")
    if value <= 0:
        raise InvalidOrderError(f"{instrument.symbol}: trigger price {value} must be > 0")
    return instrument.round_price(value, ROUND_HALF_EVEN)


def round_quantity(instrument: Instrument, quantity: Number) -> Decimal:
    """``quantity`` floored to the lot step; InvalidOrderError below min_qty or above max_qty."""
    asked = as_decimal(quantity, f"{instrument.symbol} quantity")
    qty = instrument.round_qty(asked)
    where = f"{instrument.symbol}: quantity {asked}"
    if asked <= 0:
        raise InvalidOrderError(f"{where} must be > 0")
    if qty < instrument.min_qty or qty <= 0:
        raise InvalidOrderError(
            f"{where} (rounded to lot step {instrument.lot_step}: {qty}) is below min_qty "
            f"{instrument.min_qty}"
        )
    if instrument.max_qty is not None and qty > instrument.max_qty:
        raise InvalidOrderError(f"{where} is above max_qty {instrument.max_qty}")
    return qty


def check_notional(instrument: Instrument, quantity: Decimal, price: Decimal | None) -> None:
    """InvalidOrderError if ``quantity * price`` is below min_notional (skipped without a price)."""
    if price is None or instrument.min_notional <= 0:
        return
    notional = quantity * price
    if notional < instrument.min_notional:
        raise InvalidOrderError(
            f"{instrument.symbol}: quantity {quantity} at {price} is notional {notional}, below "
            f"min_notional {instrument.min_notional}"
        )


def prepare_order(
    instrument: Instrument,
    side: Side,
    quantity: Number,
    price: Number | None = None,
    *,
    reference_price: Number | None = None,
    trigger_price: Number | None = None,
    reduce_only: bool = False,
) -> PreparedOrder:
    """Round and check one order. ``price`` None means a market order; its notional is
    checked at ``reference_price`` (e.g. the last trade, or a stop's trigger price) when one
    is given. Reduce-only orders are exempt from min notional, as at both venues: the rest of
    a position must always be closable."""
    qty = round_quantity(instrument, quantity)
    limit = None if price is None else round_limit_price(instrument, price, side)
    if limit is not None and not reduce_only:
        instrument.check_order(qty, limit)  # the core rules: step, min/max qty, tick, notional
    reference = limit
    if reference is None and reference_price is not None:
        reference = as_decimal(reference_price, f"{instrument.symbol} reference price")
    if not reduce_only:
        check_notional(instrument, qty, reference)
    trigger = None if trigger_price is None else round_trigger_price(instrument, trigger_price)
    return PreparedOrder(instrument.symbol, side, qty, limit, trigger)


__all__ = [
    "PreparedOrder",
    "as_decimal",
    "check_notional",
    "format_decimal",
    "prepare_order",
    "round_limit_price",
    "round_quantity",
    "round_trigger_price",
]
