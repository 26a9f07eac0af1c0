"""Where orders go: the :class:`Venue` protocol and :class:`SimulatedVenue` for backtests.

The engine talks to every venue through :class:`Venue` (submit, cancel) and hears back
through :class:`VenueListener` (order events with fills, liquidations, funding). The backtest
venue below is one implementation; the live shell implements the same protocol against an
exchange. Fill decisions come only from :mod:`btb.core.matching`.

:class:`SimulatedVenue` is a small exchange: it keeps its own ledger (a
:class:`~btb.engine.portfolio.Portfolio`), expires orders it cannot pay for when they would
fill, honours reduce-only, liquidates isolated linear positions, charges funding when enabled,
and is driven candle by candle with :meth:`SimulatedVenue.process_bar`. Fills are stamped with
the open time of the candle they happen in.

Paying for entries: an entry is checked when it would fill, at the fill price: it needs
margin (the whole notional on spot) plus the entry fee at the higher of the taker and maker
rates, out of free cash; otherwise it expires (logged at INFO once per symbol until an entry
of that symbol fills again, then at DEBUG). The engine sizes entries so that this holds for
an ordinary next open: it caps an entry at free cash over the decision price times
``1 + slippage + ENTRY_GAP_ALLOWANCE`` (0.2 %), see :mod:`btb.engine.sizing`; only a larger
gap against the entry gets it refused.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from btb.core import matching as m
from btb.core.enums import LiquiditySide, MarketType, OrderType, Side
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.core.matching import BORN_BEFORE, NO_FILL, fill_phase, is_live, priority
from btb.core.order import (
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from btb.engine.futures import FuturesRules, is_funding_time
from btb.engine.portfolio import Portfolio, to_decimal
from btb.errors import StateError

log = logging.getLogger(__name__)

_KINDS = {
    OrderType.MARKET: m.KIND_MARKET,
    OrderType.LIMIT: m.KIND_LIMIT,
    OrderType.STOP_MARKET: m.KIND_STOP,
    OrderType.TAKE_PROFIT_MARKET: m.KIND_TAKE_PROFIT,
}
_MAX_FILLS_PER_BAR = 10_000  # a guard against a listener that keeps re-submitting
_SIGN = {Side.BUY: 1, Side.SELL: -1}  # Side.sign as a lookup (read for every order)
#: m.fires_downward as a lookup by (kind, sign)
_DOWNWARD = {(k, s): m.fires_downward(k, s) for k in _KINDS.values() for s in (1, -1)}
# Enum members as module constants: reading them off the enum class is several times slower
# (no attribute cache for classes in CPython 3.11), and these are read for every fill.
_LIMIT, _MAKER, _TAKER = OrderType.LIMIT, LiquiditySide.MAKER, LiquiditySide.TAKER


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _as_datetime(ts: datetime | int) -> datetime:
    """A candle time given as datetime or epoch nanoseconds, as an aware UTC datetime."""
    if isinstance(ts, datetime):
        return ts
    return _EPOCH + _MICROSECOND * (int(ts) // 1000)  # exact, and cheaper than timedelta()


class VenueListener(Protocol):
    """The engine's side: what a venue reports."""

    def on_order_event(self, client_order_id: str, event: OrderEvent) -> None: ...

    def on_liquidation(self, fill: Fill) -> None: ...

    def on_funding(self, symbol: str, ts: datetime, amount: Decimal) -> None: ...


class Venue(Protocol):
    """What the engine needs from a venue. Events come back through the bound listener."""

    def bind(self, listener: VenueListener) -> None: ...

    def submit(self, order: Order) -> None: ...

    def cancel(self, client_order_id: str) -> None: ...


@dataclass(slots=True, eq=False)  # identity: list.remove() must not compare field by field
class _Working:
    coid: str
    symbol: str
    side: Side
    kind: int
    qty: Decimal
    level: float
    reduce_only: bool
    seq: int
    born: int
    ref: float  # first price the order sees in the bar it was born in
    created: datetime
    sign: int  # +1 buy, -1 sell (cached: read in every bar's loop)
    down: bool  # m.fires_downward(kind, sign), cached for the quiet bounds


class SimulatedVenue(FuturesRules):
    """A deterministic exchange for backtests (rules: :mod:`btb.core.matching`)."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        *,
        initial_cash: Decimal,
        market_type: MarketType = MarketType.SPOT,
        leverage: Decimal = Decimal(1),
        taker_fee: Decimal = Decimal("0.001"),
        maker_fee: Decimal = Decimal("0.001"),
        slippage_bps: float = 0.0,
        funding_rate: Decimal | None = None,
        funding_hours: tuple[int, ...] = (0, 8, 16),
    ) -> None:
        self.instruments = dict(instruments)
        self.account = Portfolio(
            Decimal(initial_cash), market_type, Decimal(leverage), track_trades=False
        )
        self.taker_fee, self.maker_fee = Decimal(taker_fee), Decimal(maker_fee)
        self._max_fee = max(self.taker_fee, self.maker_fee)  # what an entry must set aside
        self._linear = market_type is MarketType.LINEAR  # isolated positions can liquidate
        self.slippage_bps = float(slippage_bps)
        self.funding_rate = funding_rate
        self.funding_hours = funding_hours
        self.now: datetime | None = None
        self._listener: VenueListener | None = None
        # the listener's on_order_event, once bound
        self._on_event: Callable[[str, OrderEvent], None] = _unbound
        self._working: dict[str, list[_Working]] = {}
        self._by_id: dict[str, _Working] = {}
        self._seq = 0
        self._liq_n = 0
        self._refused: set[str] = set()  # symbols whose last entry expired unpaid
        #: symbols with working orders or an open position; a driver may skip the others
        self.active: set[str] = set()
        #: symbol -> (down, up): a candle with ``low > down`` and ``high < up`` fills nothing
        #: (entries are dropped whenever orders or positions change; read-only for drivers)
        self.quiet: dict[str, tuple[float, float]] = {}
        # While a bar is processed: when new orders are born and what price they first see.
        self._born = m.BORN_BEFORE
        self._ref = math.nan

    # ---- Venue protocol ---------------------------------------------------------------

    def bind(self, listener: VenueListener) -> None:
        self._listener = listener
        self._on_event = listener.on_order_event

    def unbind(self) -> None:
        """Forget the listener (it refers back to this venue: a cycle to cut when done)."""
        self._listener = None
        self._on_event = _unbound

    def submit(self, order: Order) -> None:
        """Accept ``order`` (or reject it: unknown symbol, spot short, bad quantity)."""
        ts = order.created_at or self.now
        assert ts is not None, "submit before any bar and without created_at"
        symbol, order_type = order.symbol, order.order_type
        kind = _KINDS.get(order_type)
        if kind is None or symbol not in self.instruments:
            reason = (
                f"unknown symbol {symbol}"
                if symbol not in self.instruments
                else f"unsupported order type {order_type}"
            )
            self._emit(order.client_order_id, OrderRejected(ts, reason))
            return
        self._seq = seq = self._seq + 1
        side = order.side
        sign = _SIGN[side]
        level = order.price if order_type is _LIMIT else order.trigger_price
        coid = order.client_order_id
        w = _Working(
            coid,
            symbol,
            side,
            kind,
            order.quantity - order.filled_qty,  # Order.remaining_qty, without the call
            float(level) if level is not None else math.nan,
            order.reduce_only,
            seq,
            self._born,
            self._ref,
            ts,
            sign,
            _DOWNWARD[kind, sign],
        )
        working = self._working.get(symbol)
        if working is None:
            working = self._working[symbol] = []
        working.append(w)
        self._by_id[coid] = w
        self.quiet.pop(symbol, None)  # what _changed() does for a symbol with orders
        self.active.add(symbol)
        self._on_event(coid, OrderAccepted(ts, f"sim-{seq}"))

    def cancel(self, client_order_id: str) -> None:
        """Cancel a working order; unknown or already finished ids are ignored."""
        w = self._by_id.pop(client_order_id, None)
        if w is None:
            return
        self._working[w.symbol].remove(w)
        self._changed(w.symbol)
        self._on_event(w.coid, OrderCanceled(self.now or w.created))

    # ---- driving ------------------------------------------------------------------------

    def working_orders(self, symbol: str) -> int:
        return len(self._working.get(symbol, ()))

    def process_bar(
        self, symbol: str, ts: datetime | int, open_: float, high: float, low: float
    ) -> None:
        """Let candle ``ts`` of ``symbol`` trade against the working orders (rules 1-8).

        ``ts`` is the candle's open time, as a datetime or as epoch nanoseconds (converted
        only when something happens, which keeps long backtests fast).
        """
        working = self._working.get(symbol)
        pos = self.account.positions.get(symbol)
        has_pos = pos is not None and pos.quantity != 0
        if not working and not has_pos:
            return
        if has_pos and self.funding_rate is not None and is_funding_time(ts, self.funding_hours):
            self.now = _as_datetime(ts)
            self._charge_funding(symbol, self.now, open_)
        if not working and not (has_pos and self._linear):
            return
        bounds = self.quiet.get(symbol) or self.bounds(symbol)
        if low > bounds[0] and high < bounds[1]:
            return  # no level inside this candle: nothing can fill
        self.now = now = _as_datetime(ts)
        self._born, self._ref = BORN_BEFORE, open_
        try:
            for _ in range(_MAX_FILLS_PER_BAR):
                if not self._fill_next(symbol, now, open_, high, low):
                    return
            raise StateError(f"{symbol} {ts}: more than {_MAX_FILLS_PER_BAR} fills in one bar")
        finally:
            self._born, self._ref = BORN_BEFORE, math.nan
            for w in self._working.get(symbol, ()):
                w.born = BORN_BEFORE  # from the next candle on, every order is fully live

    def bounds(self, symbol: str) -> tuple[float, float]:
        """(down, up) of ``symbol``: a candle with ``low > down and high < up`` fills nothing
        (computed when orders or the position changed, then kept in :attr:`quiet`)."""
        bounds = self.quiet.get(symbol)
        if bounds is None:
            bounds = self.quiet[symbol] = self._compute_bounds(symbol)
        return bounds

    def _compute_bounds(self, symbol: str) -> tuple[float, float]:
        """(highest level that fires on a fall, lowest that fires on a rise); a candle with
        ``low`` above the first and ``high`` below the second cannot fill anything."""
        down, up = -math.inf, math.inf
        for w in self._working.get(symbol, ()):
            if w.kind == m.KIND_MARKET:
                return math.inf, -math.inf
            if w.down:
                if w.level > down:
                    down = w.level
            elif w.level < up:
                up = w.level
        if self._linear:
            down, up = self._with_liquidation(symbol, down, up)
        return down, up

    def settle(self, symbol: str, ts: datetime, price: float) -> None:
        """Fill every working market order of ``symbol`` at ``price`` (end of data, rule 9)."""
        self.now = ts
        for w in [w for w in self._working.get(symbol, ()) if w.kind == m.KIND_MARKET]:
            self._execute(w, ts, price, LiquiditySide.TAKER)

    # ---- internals ----------------------------------------------------------------------

    def _fill_next(self, symbol: str, ts: datetime, open_: float, high: float, low: float) -> bool:
        best: tuple[int, float, int] | None = None
        pick: _Working | None = None
        pick_phase = NO_FILL
        for w in self._working.get(symbol, ()):
            if w.born == BORN_BEFORE:  # live: is_live() only restricts orders born in this bar
                phase = fill_phase(w.kind, w.sign, w.level, open_, high, low)
            elif is_live(w.kind, w.born):
                phase = fill_phase(w.kind, w.sign, w.level, w.ref, high, low)
            else:
                continue
            if phase == NO_FILL:
                continue
            if pick is None:  # the sort key is needed only against a second candidate
                pick, pick_phase = w, phase
                continue
            if best is None:
                best = priority(pick_phase, pick.kind, pick.sign, pick.level, pick.seq)
            key = priority(phase, w.kind, w.sign, w.level, w.seq)
            if key < best:
                best, pick, pick_phase = key, w, phase
        if self._linear:
            liq = self._liquidation_candidate(symbol, open_, high, low)
            if pick is not None and best is None:
                best = priority(pick_phase, pick.kind, pick.sign, pick.level, pick.seq)
            if liq is not None and (best is None or liq[0] < best):
                self._liquidate(symbol, ts, liq[1], liq[2])
                return True
        if pick is None:
            return False
        ref = open_ if pick.born == BORN_BEFORE else pick.ref
        price = m.fill_price(pick.kind, pick.sign, pick.level, ref, pick_phase, self.slippage_bps)
        liquidity = _MAKER if pick.kind == m.KIND_LIMIT else _TAKER
        self._born = m.BORN_AT_OPEN if pick_phase == m.PHASE_OPEN else m.BORN_INTRABAR
        self._ref = price
        self._execute(pick, ts, price, liquidity)
        return True

    def _execute(self, w: _Working, ts: datetime, price: float, liquidity: LiquiditySide) -> None:
        qty = w.qty
        dprice = to_decimal(price)
        reason = None
        if w.reduce_only:
            held = self.account.position(w.symbol).quantity
            if held == 0 or (held > 0) == (w.sign > 0):
                self._drop(w)
                self._on_event(w.coid, OrderCanceled(ts))  # nothing left to reduce
                return
            qty = min(qty, abs(held))
        else:
            reason = self._cannot_afford(w, qty, price, dprice)
        if reason is not None:
            # Accepted earlier, it cannot be paid for now: exchanges expire such market orders.
            # A strategy may re-send the refused entry bar after bar: say it once per symbol
            # until an entry of that symbol fills again.
            if w.symbol in self._refused:
                log.debug("%s expired: %s", w.coid, reason)
            else:
                self._refused.add(w.symbol)
                log.info(
                    "%s expired: %s (repeats for %s logged at debug)", w.coid, reason, w.symbol
                )
            self._drop(w)
            self._on_event(w.coid, OrderExpired(ts))
            return
        rate = self.maker_fee if liquidity is _MAKER else self.taker_fee
        # positional (keywords cost a fifth of the construction): the fields in their order
        fill = Fill(
            w.coid,
            w.symbol,
            w.side,
            qty,
            dprice,
            qty * dprice * rate,  # fee
            ts,
            liquidity,
            "",  # trade_id
            f"sim-{w.seq}",  # exchange_order_id
        )
        self.account.apply_fill(fill)
        if not w.reduce_only:
            self._refused.discard(w.symbol)
        self._drop(w)  # refreshes active/quiet for the new position too
        self._on_event(w.coid, OrderFilled(fill))

    def _cannot_afford(
        self, w: _Working, qty: Decimal, price: float, dprice: Decimal
    ) -> str | None:
        acct = self.account
        pos = acct.position(w.symbol)
        spot = not self._linear
        if spot and w.sign < 0:
            if qty > pos.quantity:
                return f"spot {w.symbol}: cannot sell {qty}, holding {pos.quantity}"
            return None
        if pos.quantity != 0 and (pos.quantity > 0) != (w.sign > 0):
            return None  # reduces (or flips) an existing position: no new money needed
        notional = qty * dprice
        need = notional / acct.leverage + notional * self._max_fee
        free = acct.cash if spot else acct.free_cash({w.symbol: price})  # as free_cash does
        if need > free:
            return f"insufficient funds: {w.symbol} needs {need:.2f}, free {free:.2f}"
        return None

    def _changed(self, symbol: str) -> None:
        """Orders or the position of ``symbol`` changed: refresh ``active`` and ``quiet``."""
        self.quiet.pop(symbol, None)
        if self._working.get(symbol):
            self.active.add(symbol)
            return
        pos = self.account.positions.get(symbol)
        if pos is not None and pos.quantity != 0:
            self.active.add(symbol)
        else:
            self.active.discard(symbol)

    def _drop(self, w: _Working) -> None:
        self._by_id.pop(w.coid, None)
        self._working[w.symbol].remove(w)
        self._changed(w.symbol)

    def _emit(self, coid: str, event: OrderEvent) -> None:
        self._on_event(coid, event)


def _unbound(coid: str, event: OrderEvent) -> None:
    raise AssertionError("venue not bound to a listener")
