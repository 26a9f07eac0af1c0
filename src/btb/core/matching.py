"""Fill rules: how an order meets a candle. One implementation for every simulated venue.

The backtest venue (:mod:`btb.engine.venue`), the compiled fast path (:mod:`btb.backtest.fast`,
which compiles these very functions with numba) and the local exchange simulator all decide
fills here. Everything is float64 in, float64 out, no objects, no I/O: keep it that way
(numba ``nopython`` must compile every function in this module).

No function here calls another one (numba compiles each on its own, as a plain function).

Conventions: ``sign`` is the ORDER's direction, +1 buy / -1 sell; ``pos_sign`` a position's,
+1 long / -1 short. A candle is ``open_, high, low``. "Gapped" means the open is already at or
beyond an order's price. Prices are not rounded to a tick here: levels are exact distances.

The rules (pinned by ``tests/unit/engine/test_fill_rules.py``):

1. A decision on closed bar t acts at bar t+1: a market order fills at t+1's open,
   moved against the trader by ``slippage_bps`` (buy higher, sell lower).
2. Stop-loss (a stop-market order) triggers when the bar trades at or beyond its trigger
   (sell stop: ``low <= trigger``; buy stop: ``high >= trigger``). It fills at the trigger,
   or at the open when the open already gapped through it; then slippage.
3. Take-profit (a take-profit-market order) triggers at or beyond its level (sell:
   ``high >= level``; buy: ``low <= level``) and fills at the level, or at the open when the
   open gapped beyond it; then slippage. (This is also how backtesting.py treats a TP.)
4. A limit order fills only when price trades THROUGH it (buy: ``low < limit``; sell:
   ``high > limit``), at the limit, or at the open when the open is already better; no
   slippage (maker).
5. Liquidation (linear futures) triggers like a stop at :func:`liquidation_level` and fills at
   that level (or the open when gapped), without slippage.
6. Order of events inside one bar (:func:`fill_phase`, :func:`priority`): first everything
   that fills at the open (market orders, gapped stops/take-profits/limits) in submission
   order, so an exit signal filled at the open comes before that bar's intrabar stops; then
   adverse stops and liquidation, nearest-to-open first (a long's higher stop before its lower
   liquidation); then take-profits and limits. So when stop-loss and take-profit both lie
   inside one bar's range, the stop-loss counts first (the pessimistic reading).
7. Orders born inside a bar (protection placed after an entry fill) see the rest of that bar
   starting from the fill price. After a fill at the open they are fully live; after an
   intrabar fill only adverse stops/liquidation may trigger in that bar (we cannot know
   whether the bar's favourable extreme came before or after the fill).
8. Stop-loss and take-profit fractions are distances from the entry fill
   (:func:`stop_loss_level`, :func:`take_profit_level`).
9. At the end of data open positions close at the last close, without slippage (the engine
   marks them ``end_of_data``). Fees: market/stop/take-profit/liquidation pay taker,
   limits pay maker, always ``notional * rate``. An entry the account cannot pay for at its
   fill price (margin plus fee) does not fill: the venue expires it.
"""

from __future__ import annotations

import math

#: order kinds (ints so that numba-compiled callers can use them)
KIND_MARKET = 0
KIND_LIMIT = 1
KIND_STOP = 2
KIND_TAKE_PROFIT = 3
KIND_LIQUIDATION = 4

#: fill phases within one bar (rule 6); NO_FILL when the order does not trigger
PHASE_OPEN = 0
PHASE_ADVERSE = 1
PHASE_FAVOURABLE = 2
NO_FILL = 9

#: liquidation's sequence number in :func:`priority`: after every resting order, so that at
#: equal phase and level a stop-loss closes the position before the exchange liquidates it
LIQUIDATION_SEQ = 1 << 62

#: when an order was created, relative to the bar being processed (rule 7)
BORN_BEFORE = 0
BORN_AT_OPEN = 1
BORN_INTRABAR = 2


def with_slippage(price: float, sign: int, slippage_bps: float) -> float:
    """``price`` moved against an order of direction ``sign`` by ``slippage_bps``."""
    return price * (1.0 + sign * slippage_bps * 1e-4)


def stop_loss_level(entry: float, pos_sign: int, fraction: float) -> float:
    """Stop price ``fraction`` away from ``entry``, on the losing side of the position."""
    return entry * (1.0 - pos_sign * fraction)


def take_profit_level(entry: float, pos_sign: int, fraction: float) -> float:
    """Take-profit price ``fraction`` away from ``entry``, on the winning side."""
    return entry * (1.0 + pos_sign * fraction)


def liquidation_level(entry: float, pos_sign: int, leverage: float, mmr: float) -> float:
    """Isolated-margin liquidation price (linear futures; fees and funding ignored).

    Long ``entry * (1 - 1/leverage + mmr)``, short ``entry * (1 + 1/leverage - mmr)``:
    the loss has eaten the initial margin down to the maintenance margin rate ``mmr``.
    Same formula as :meth:`btb.core.position.Position.liquidation_price`.
    """
    if pos_sign > 0:
        return max(0.0, entry * (1.0 - 1.0 / leverage + mmr))
    return entry * (1.0 + 1.0 / leverage - mmr)


def fires_downward(kind: int, sign: int) -> bool:
    """True when the order triggers as price FALLS to its level (sell stop, buy limit/TP,
    a long's liquidation, which is a sell)."""
    if kind in (KIND_STOP, KIND_LIQUIDATION):
        return sign < 0
    return sign > 0


def fill_phase(kind: int, sign: int, level: float, open_: float, high: float, low: float) -> int:
    """When in the bar the order fills (rule 6), or :data:`NO_FILL`.

    ``open_`` is the first price the order sees: the bar's open, or the fill price that
    created it inside the bar (rule 7). ``level`` is the trigger/limit (ignored for market).
    """
    if kind == KIND_MARKET:
        return PHASE_OPEN
    # Same test as fires_downward (inlined: numba compiles each function on its own).
    down = sign < 0 if kind in (KIND_STOP, KIND_LIQUIDATION) else sign > 0
    if kind == KIND_LIMIT:  # must trade through (strict), rule 4
        if (down and open_ < level) or (not down and open_ > level):
            return PHASE_OPEN
        if (down and low < level) or (not down and high > level):
            return PHASE_FAVOURABLE
        return NO_FILL
    if (down and open_ <= level) or (not down and open_ >= level):
        return PHASE_OPEN
    if (down and low <= level) or (not down and high >= level):
        if kind == KIND_TAKE_PROFIT:
            return PHASE_FAVOURABLE
        return PHASE_ADVERSE
    return NO_FILL


def is_live(kind: int, born: int) -> bool:
    """May an order born at ``born`` (BORN_*) fill in the bar it was born in (rule 7)?"""
    if born != BORN_INTRABAR:
        return True
    return kind in (KIND_STOP, KIND_LIQUIDATION)


def fill_price(
    kind: int, sign: int, level: float, open_: float, phase: int, slippage_bps: float
) -> float:
    """Execution price of an order that fills in ``phase`` (rules 1-5)."""
    base = open_ if kind == KIND_MARKET or phase == PHASE_OPEN else level
    if kind in (KIND_LIMIT, KIND_LIQUIDATION):
        return base
    return base * (1.0 + sign * slippage_bps * 1e-4)  # as with_slippage (inlined for numba)


def priority(phase: int, kind: int, sign: int, level: float, seq: int) -> tuple[int, float, int]:
    """Sort key: the order with the smallest key fills first within a bar (rule 6).

    Open-phase fills keep submission order (``seq``); adverse stops go nearest-to-open first
    (a falling price meets the highest sell stop first); favourable fills keep submission
    order.
    """
    if phase == PHASE_ADVERSE:
        return (phase, sign * level, seq)
    return (phase, 0.0, seq)


def fee(notional: float, rate: float) -> float:
    """Fee of a fill: ``|notional| * rate`` (negative rates are rebates)."""
    return abs(notional) * rate


def is_nan(x: float) -> bool:
    """``math.isnan`` under a name numba and mypy both accept."""
    return math.isnan(x)
