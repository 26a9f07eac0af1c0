"""Position sizing: how many units to buy or sell for an entry. Decimal in, Decimal out.

Three rules, each returning a quantity in base units (``BTC`` for ``BTCUSDT``):

* :func:`fixed_notional`: spend the same quote amount on every entry, ``qty = notional / price``.
* :func:`equity_fraction`: spend a fraction of equity, ``qty = equity * fraction / price``.
* :func:`risk_per_trade`: lose at most ``risk`` of the balance if the stop is hit,
  ``qty = balance * risk / (price * stop_distance_pct)`` (seed 002's formula).

When an :class:`~btb.core.Instrument` is given the quantity is floored to the lot step (never
more than asked for), capped at ``max_qty``, and returned as ``0`` when it falls below the
instrument's minimum quantity or minimum notional at ``price``: the caller then skips the entry
rather than sending an order the exchange would reject. Without an instrument the raw quotient
is returned. Non-positive or non-finite inputs raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from btb.core import Instrument

__all__ = ["apply_instrument_limits", "equity_fraction", "fixed_notional", "risk_per_trade"]

ZERO = Decimal(0)
Number = Decimal | int | float | str


def to_decimal(value: Number, name: str) -> Decimal:
    """``value`` as a finite Decimal (floats go through ``str`` so 0.1 stays 0.1)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _positive(value: Number, name: str) -> Decimal:
    result = to_decimal(value, name)
    if result <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return result


def _non_negative(value: Number, name: str) -> Decimal:
    result = to_decimal(value, name)
    if result < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return result


def apply_instrument_limits(qty: Decimal, price: Decimal, instrument: Instrument | None) -> Decimal:
    """Floor ``qty`` to the lot step and cap it at ``max_qty``; 0 if below the minimums.

    Without an instrument ``qty`` is returned unchanged (negative quantities become 0).
    """
    if qty <= 0:
        return ZERO
    if instrument is None:
        return qty
    if instrument.max_qty is not None and qty > instrument.max_qty:
        qty = instrument.max_qty
    floored = instrument.round_qty(qty)
    if floored <= 0 or floored < instrument.min_qty_for(price):
        return ZERO
    return floored


def fixed_notional(
    notional: Number, price: Number, instrument: Instrument | None = None
) -> Decimal:
    """Quantity worth ``notional`` quote units at ``price``: ``notional / price``."""
    amount = _non_negative(notional, "notional")
    px = _positive(price, "price")
    return apply_instrument_limits(amount / px, px, instrument)


def equity_fraction(
    equity: Number, fraction: Number, price: Number, instrument: Instrument | None = None
) -> Decimal:
    """Quantity worth ``fraction`` of ``equity`` at ``price``: ``equity * fraction / price``.

    ``fraction`` must be in (0, 1]; a negative equity (an account in deficit) sizes to 0.
    """
    eq = to_decimal(equity, "equity")
    frac = _positive(fraction, "fraction")
    if frac > 1:
        raise ValueError(f"fraction must be <= 1, got {fraction!r}")
    px = _positive(price, "price")
    if eq <= 0:
        return ZERO
    return apply_instrument_limits(eq * frac / px, px, instrument)


def risk_per_trade(
    balance: Number,
    risk: Number,
    price: Number,
    stop_distance_pct: Number,
    instrument: Instrument | None = None,
) -> Decimal:
    """Quantity that loses ``balance * risk`` when price moves ``stop_distance_pct`` against it.

    ``qty = balance * risk / (price * stop_distance_pct)``. Example: balance 10,000, risk 1 %,
    price 50,000, stop 2 % away: 100 / 1,000 = 0.1 units. ``risk`` and ``stop_distance_pct``
    are fractions (0.01 = 1 %); ``risk`` must be in (0, 1], the stop distance in (0, 1).
    """
    bal = to_decimal(balance, "balance")
    r = _positive(risk, "risk")
    if r > 1:
        raise ValueError(f"risk must be <= 1 (a fraction, 0.01 = 1 %), got {risk!r}")
    px = _positive(price, "price")
    stop = _positive(stop_distance_pct, "stop_distance_pct")
    if stop >= 1:
        raise ValueError(f"stop_distance_pct must be < 1 (a fraction), got {stop_distance_pct!r}")
    if bal <= 0:
        return ZERO
    return apply_instrument_limits(bal * r / (px * stop), px, instrument)
