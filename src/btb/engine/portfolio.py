"""The ledger: cash, positions built from fills, and round trips (trades). Decimal throughout.

Cash model:

* spot: ``cash`` is quote currency; a buy pays ``qty * price + fee``, a sell receives
  ``qty * price - fee``. Equity = cash + sum of ``qty * mark``.
* linear futures: ``cash`` is the wallet balance; fills change it by realised PnL minus fee,
  funding by the funding amount. Equity = wallet + unrealised PnL; free cash = equity - the
  initial margin of open positions (isolated, entry notional / leverage).

Both reduce to one identity used for equity curves (see :mod:`btb.backtest.results`):
``equity = initial + sum(-signed_qty * price - fee) - funding + sum(qty * mark)``.

A round trip starts when a position leaves flat and ends when it returns to flat (a fill that
flips the position ends one and starts the next, with the fee split pro rata). Each end emits
a :class:`btb.core.Trade` with the reason of the closing fill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from btb.core.enums import ExitReason, MarketType, PositionSide, Side
from btb.core.fill import Fill
from btb.core.position import Position
from btb.core.trade import Trade, round_trip_id

ZERO = Decimal(0)
# Enum members as module constants: reading them off the enum class is several times slower
# (no attribute cache for classes in CPython 3.11), and the ledger reads them for every fill.
_BUY, _SPOT, _LINEAR = Side.BUY, MarketType.SPOT, MarketType.LINEAR
_LONG, _SHORT = PositionSide.LONG, PositionSide.SHORT


def to_decimal(value: float) -> Decimal:
    """Market data (float) as a ledger Decimal: the shortest decimal that reads back as the
    same float (``float(to_decimal(x)) == x``), e.g. 42354.99, not the 40-odd digits of the
    binary value. Keeps ledger arithmetic short, exact and fast."""
    return Decimal(repr(float(value)))


@dataclass(slots=True)
class _RoundTrip:
    side: PositionSide
    entry_time: datetime
    qty_in: Decimal = ZERO
    notional_in: Decimal = ZERO
    qty_out: Decimal = ZERO
    notional_out: Decimal = ZERO
    gross: Decimal = ZERO
    fees: Decimal = ZERO


@dataclass(slots=True)
class FundingEvent:
    """A funding payment: ``amount`` > 0 is paid by us, < 0 received."""

    symbol: str
    ts: datetime
    amount: Decimal


@dataclass(slots=True)
class Portfolio:
    """Cash, positions and trades of one account in one quote currency."""

    initial_cash: Decimal
    market_type: MarketType = MarketType.SPOT
    leverage: Decimal = Decimal(1)
    cash: Decimal = ZERO
    positions: dict[str, Position] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    funding: list[FundingEvent] = field(default_factory=list)
    fees_paid: Decimal = ZERO
    #: False for a venue's own ledger: positions and cash only, no fills or round trips kept
    track_trades: bool = True
    _trips: dict[str, _RoundTrip] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.initial_cash = Decimal(self.initial_cash)
        self.cash = self.initial_cash
        if self.market_type is MarketType.SPOT:
            self.leverage = Decimal(1)

    def position(self, symbol: str) -> Position:
        """The position in ``symbol`` (a flat one is created on first use)."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = Position(symbol, market_type=self.market_type, leverage=self.leverage)
            self.positions[symbol] = pos
        return pos

    def open_symbols(self) -> list[str]:
        return [s for s, p in self.positions.items() if p.quantity != 0]

    # ---- updates ------------------------------------------------------------------------

    def apply_fill(self, fill: Fill, reason: ExitReason = ExitReason.SIGNAL) -> Trade | None:
        """Book one fill; return the Trade it completes, if any. ``reason`` labels exits."""
        pos = self.positions.get(fill.symbol) or self.position(fill.symbol)
        before = pos.quantity
        realized = pos.apply(fill)
        qty, fee = fill.quantity, fill.fee
        delta = qty if fill.side is _BUY else -qty
        if self.market_type is _SPOT:
            self.cash -= delta * fill.price + fee
        else:
            self.cash += realized - fee
        self.fees_paid += fee
        if not self.track_trades:
            return None
        self.fills.append(fill)
        return self._book_trip(fill, delta, before, realized, reason)

    def apply_funding(self, symbol: str, ts: datetime, amount: Decimal) -> None:
        """Pay (``amount`` > 0) or receive funding on the position in ``symbol``."""
        self.cash -= amount
        self.funding.append(FundingEvent(symbol, ts, amount))

    def _book_trip(
        self, fill: Fill, delta: Decimal, before: Decimal, realized: Decimal, reason: ExitReason
    ) -> Trade | None:
        trip = self._trips.get(fill.symbol)
        qty, price, fee = fill.quantity, fill.price, fill.fee
        if before == 0 or (before > 0) == (delta > 0):
            if trip is None:
                trip = self._start(fill, delta)
            trip.qty_in += qty
            trip.notional_in += qty * price  # Fill.notional
            trip.fees += fee
            return None
        assert trip is not None, f"{fill.symbol}: reducing a position without a round trip"
        held = abs(before)
        closed = min(qty, held)
        close_fee = fee if closed == qty else fee * closed / qty
        trip.qty_out += closed
        trip.notional_out += closed * price
        trip.gross += realized
        trip.fees += close_fee
        if held > closed:
            return None
        trade = self._finish(fill, trip, reason)
        rest = qty - closed
        if rest > 0:  # flipped: the remainder opens a new round trip at the fill price
            new = self._start(fill, delta)
            new.qty_in, new.notional_in, new.fees = rest, rest * price, fee - close_fee
        return trade

    def _start(self, fill: Fill, delta: Decimal) -> _RoundTrip:
        side = _LONG if delta > 0 else _SHORT
        trip = _RoundTrip(side, fill.ts)
        self._trips[fill.symbol] = trip
        return trip

    def _finish(self, fill: Fill, trip: _RoundTrip, reason: ExitReason) -> Trade:
        del self._trips[fill.symbol]
        entry_price = trip.notional_in / trip.qty_in
        trade = Trade(
            trade_id=round_trip_id(
                fill.symbol, trip.side, trip.entry_time, trip.qty_in, entry_price
            ),
            symbol=fill.symbol,
            side=trip.side,
            quantity=trip.qty_in,
            entry_time=trip.entry_time,
            entry_price=entry_price,
            exit_time=fill.ts,
            exit_price=trip.notional_out / trip.qty_out,
            gross_pnl=trip.gross,
            fees=trip.fees,
            exit_reason=reason,
        )
        self.trades.append(trade)
        return trade

    # ---- views --------------------------------------------------------------------------

    def unrealized(self, marks: Mapping[str, float]) -> Decimal:
        total = ZERO
        for symbol, pos in self.positions.items():
            if pos.quantity != 0:
                mark = marks.get(symbol)
                if mark is not None:
                    total += pos.quantity * (to_decimal(mark) - pos.avg_entry_price)
        return total

    def equity(self, marks: Mapping[str, float]) -> Decimal:
        """Cash plus positions marked at ``marks`` (last closes); unmarked ones at entry."""
        if self.market_type is _LINEAR:
            return self.cash + self.unrealized(marks)
        total = self.cash
        for symbol, pos in self.positions.items():
            if pos.quantity != 0:
                mark = marks.get(symbol)
                price = to_decimal(mark) if mark is not None else pos.avg_entry_price
                total += pos.quantity * price
        return total

    def used_margin(self) -> Decimal:
        if self.market_type is _SPOT:
            return ZERO
        return sum((p.margin for p in self.positions.values() if p.quantity != 0), ZERO)

    def free_cash(self, marks: Mapping[str, float]) -> Decimal:
        """What a new entry may use: spot cash, or futures equity minus used margin."""
        if self.market_type is _SPOT:
            return self.cash
        return self.equity(marks) - self.used_margin()
