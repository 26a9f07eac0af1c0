"""Linear futures rules of :class:`btb.engine.venue.SimulatedVenue`: liquidation, funding.

An isolated linear position is liquidated when the price reaches its liquidation level
(:func:`btb.core.matching.liquidation_level`: from the average entry, the leverage and the
instrument's maintenance margin rate), filled by the matching rules like a stop, with the
taker fee; its reduce-only orders are cancelled. Funding, when enabled, is charged at the
top of each funding hour (UTC) on the position's notional at the candle's open.

:class:`FuturesRules` is a base class of the simulated venue, kept here so that each module
stays small; it works on the venue's ledger and order book.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from btb.core import matching as m
from btb.core.enums import Side
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.core.order import OrderCanceled, OrderEvent
from btb.engine.portfolio import Portfolio, to_decimal

if TYPE_CHECKING:
    from btb.engine.venue import VenueListener, _Working

_NS_PER_HOUR = 3_600_000_000_000


def is_funding_time(ts: datetime | int, hours: tuple[int, ...]) -> bool:
    """True at the top of a funding hour (UTC)."""
    if isinstance(ts, datetime):
        return ts.minute == 0 and ts.second == 0 and ts.hour in hours
    return int(ts) % _NS_PER_HOUR == 0 and (int(ts) // _NS_PER_HOUR) % 24 in hours


class FuturesRules:
    """Liquidation and funding for the simulated venue (linear futures only)."""

    account: Portfolio
    instruments: dict[str, Instrument]
    taker_fee: Decimal
    slippage_bps: float
    funding_rate: Decimal | None
    _linear: bool
    _liq_n: int
    _born: int
    _ref: float
    _listener: VenueListener | None
    _working: dict[str, list[_Working]]

    if TYPE_CHECKING:  # provided by the venue

        def _changed(self, symbol: str) -> None: ...

        def _drop(self, w: _Working) -> None: ...

        def _emit(self, coid: str, event: OrderEvent) -> None: ...

    def _with_liquidation(self, symbol: str, down: float, up: float) -> tuple[float, float]:
        """The quiet bounds ``(down, up)`` narrowed by the liquidation level of a position."""
        pos = self.account.positions.get(symbol)
        if pos is None or pos.quantity == 0:
            return down, up
        pos_sign = 1 if pos.quantity > 0 else -1
        level = m.liquidation_level(
            float(pos.avg_entry_price),
            pos_sign,
            float(pos.leverage),
            float(self.instruments[symbol].maintenance_margin_rate),
        )
        if pos_sign > 0:
            return max(down, level), up
        return down, min(up, level)

    def _liquidation_candidate(
        self, symbol: str, open_: float, high: float, low: float
    ) -> tuple[tuple[int, float, int], float, int] | None:
        """(priority, fill price, order sign) of a liquidation in this bar, if it triggers."""
        if not self._linear:
            return None
        pos = self.account.positions.get(symbol)
        if pos is None or pos.quantity == 0:
            return None
        pos_sign = 1 if pos.quantity > 0 else -1
        level = m.liquidation_level(
            float(pos.avg_entry_price),
            pos_sign,
            float(pos.leverage),
            float(self.instruments[symbol].maintenance_margin_rate),
        )
        sign = -pos_sign
        ref = open_ if self._born == m.BORN_BEFORE else self._ref
        phase = m.fill_phase(m.KIND_LIQUIDATION, sign, level, ref, high, low)
        if phase == m.NO_FILL:
            return None
        price = m.fill_price(m.KIND_LIQUIDATION, sign, level, ref, phase, self.slippage_bps)
        return m.priority(phase, m.KIND_LIQUIDATION, sign, level, m.LIQUIDATION_SEQ), price, sign

    def _liquidate(self, symbol: str, ts: datetime, price: float, sign: int) -> None:
        pos = self.account.position(symbol)
        qty = abs(pos.quantity)
        self._liq_n += 1
        dprice = to_decimal(price)
        side = Side.BUY if sign > 0 else Side.SELL
        fill = Fill(
            f"liq-{symbol}-{self._liq_n}",
            symbol,
            side,
            qty,
            dprice,
            qty * dprice * self.taker_fee,
            ts,
        )
        self.account.apply_fill(fill)
        self._changed(fill.symbol)
        self._born, self._ref = m.BORN_INTRABAR, price
        for w in [w for w in self._working.get(symbol, ()) if w.reduce_only]:
            self._drop(w)
            self._emit(w.coid, OrderCanceled(ts))
        assert self._listener is not None
        self._listener.on_liquidation(fill)

    def _charge_funding(self, symbol: str, ts: datetime, mark: float) -> None:
        assert self.funding_rate is not None
        pos = self.account.position(symbol)
        amount = pos.quantity * to_decimal(mark) * self.funding_rate
        self.account.apply_funding(symbol, ts, amount)
        assert self._listener is not None
        self._listener.on_funding(symbol, ts, amount)
