"""Position sizing rules (float in, lots out), shared by the engine and the fast path.

Pure functions in numba's ``nopython`` subset that do not call each other:
:mod:`btb.backtest.fast` compiles these same functions, so both paths size identically.
(When :mod:`btb.risk.sizing` lands, the formulas move there and this module keeps only the
glue.)

Three rules, chosen by ``backtest.sizing``:

* ``fixed_notional``: ``qty = notional / price``.
* ``equity_fraction``: ``qty = equity * fraction * leverage / price`` (the fraction is the
  margin put up; on spot leverage is 1).
* ``risk_per_trade`` (seed 002): ``qty = balance * risk_per_trade / (price * stop_loss_pct)``,
  so that hitting the stop loses ``risk_per_trade`` of the balance (here: equity).

Then, in this order: the quantity is capped to what free cash can pay for,
``cash / (price * (1/leverage + fee_rate))`` (margin plus the entry fee), floored to the lot
step, and set to zero when it is below the instrument's minimum quantity or notional (seed
002's "min-qty zero rule": too small a trade is not made at all).
"""

from __future__ import annotations

import math

SIZING_FIXED_NOTIONAL = 0
SIZING_EQUITY_FRACTION = 1
SIZING_RISK_PER_TRADE = 2

SIZING_MODES: dict[str, int] = {
    "fixed_notional": SIZING_FIXED_NOTIONAL,
    "equity_fraction": SIZING_EQUITY_FRACTION,
    "risk_per_trade": SIZING_RISK_PER_TRADE,
}


def raw_quantity(
    mode: int,
    equity: float,
    price: float,
    stop_fraction: float,
    fixed_notional: float,
    equity_fraction: float,
    risk_per_trade: float,
    leverage: float,
) -> float:
    """Unrounded quantity by the sizing rule ``mode`` (0 when it cannot be computed)."""
    if price <= 0.0:
        return 0.0
    if mode == SIZING_FIXED_NOTIONAL:
        return fixed_notional / price
    if mode == SIZING_EQUITY_FRACTION:
        return max(equity, 0.0) * equity_fraction * leverage / price
    if stop_fraction <= 0.0 or math.isnan(stop_fraction):
        return 0.0
    return max(equity, 0.0) * risk_per_trade / (price * stop_fraction)


def entry_lots(
    qty: float,
    free_cash: float,
    price: float,
    leverage: float,
    fee_rate: float,
    lot_step: float,
    min_qty: float,
    min_notional: float,
) -> float:
    """Whole number of lots for an entry of ``qty`` (from :func:`raw_quantity`) at ``price``.

    Caps to what ``free_cash`` can pay for, floors to the lot step, applies the minimums.
    0.0 means no trade. Returned as a float holding an integer so the caller can form the
    exact quantity (``Decimal(lots) * lot_step`` in the ledger, ``lots * lot_step`` in the
    fast path).
    """
    if price <= 0.0 or math.isnan(qty):
        return 0.0
    affordable = max(free_cash, 0.0) / (price * (1.0 / leverage + max(fee_rate, 0.0)))
    qty = min(qty, affordable)
    # The 1e-9 absorbs binary noise (10 / 0.001 = 9999.999999999998 must be 10000 lots).
    lots = math.floor(qty / lot_step + 1e-9)
    if lots <= 0:
        return 0.0
    final = lots * lot_step
    if final < min_qty or final * price < min_notional:
        return 0.0
    return float(lots)
