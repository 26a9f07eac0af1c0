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

Then, in this order: the quantity is capped to what free cash can pay for at the expected
fill, floored to the lot step, and set to zero when it is below the instrument's minimum
quantity or notional (seed 002's "min-qty zero rule": too small a trade is not made at all).

The cash cap. An entry is decided at a bar's close but fills later (a market order at the
next open, plus slippage), and the venue refuses (expires) an entry it cannot pay for at the
fill. So the cap prices the entry at a buffered fill price::

    fill_bound = price * (1 + slippage + ENTRY_GAP_ALLOWANCE)
    qty <= free_cash / (fill_bound * (1/leverage + fee_rate))

(margin, the whole notional on spot, plus the entry fee at the higher of the taker and maker
rates, as the venue charges it). :data:`ENTRY_GAP_ALLOWANCE` covers an ordinary move between
the decision close and the next open; an entry whose fill moves further than that against it
can still be refused by the venue. The engine reserves the same buffered amount for a pending
entry, so several entries decided on one bar fit in the cash together.
"""

from __future__ import annotations

import math

SIZING_FIXED_NOTIONAL = 0
SIZING_EQUITY_FRACTION = 1
SIZING_RISK_PER_TRADE = 2

#: How far (a fraction, 0.2 %) the fill may move against an entry from the price it was sized
#: at, before the cash cap stops covering it (see the module docstring).
ENTRY_GAP_ALLOWANCE = 0.002

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
    slippage: float,
    lot_step: float,
    min_qty: float,
    min_notional: float,
) -> float:
    """Whole number of lots for an entry of ``qty`` (from :func:`raw_quantity`) at ``price``.

    Caps to what ``free_cash`` can pay for at the buffered fill price (``slippage`` is a
    fraction, e.g. 5 bps = 0.0005; see the module docstring), floors to the lot step, applies
    the minimums. 0.0 means no trade. Returned as a float holding an integer so the caller can
    form the exact quantity (``Decimal(lots) * lot_step`` in the ledger, ``lots * lot_step``
    in the fast path).
    """
    if price <= 0.0 or math.isnan(qty):
        return 0.0
    bound = price * (1.0 + max(slippage, 0.0) + ENTRY_GAP_ALLOWANCE)
    affordable = max(free_cash, 0.0) / (bound * (1.0 / leverage + max(fee_rate, 0.0)))
    qty = min(qty, affordable)
    # The 1e-9 absorbs binary noise (10 / 0.001 = 9999.999999999998 must be 10000 lots).
    lots = math.floor(qty / lot_step + 1e-9)
    if lots <= 0:
        return 0.0
    final = lots * lot_step
    if final < min_qty or final * price < min_notional:
        return 0.0
    return float(lots)
