"""Matching glue: replays each closed candle against every account's orders and stops.

The fill rules themselves are the backtest venue's, shared: :mod:`btb.core.matching` decides
whether and at what price an order fills in a candle and in which order fills happen inside it
(open-phase fills, then adverse stops and liquidation, then take-profits and limits - so a
stop-loss beats a take-profit in the same candle). This module picks the candidates (open
orders, Bybit's position stop-loss / take-profit, the liquidation level), turns the prices
into fills, and keeps balances and positions.

Within one candle the venue's price is the candle's open (the only price of the forming
candle it knows), so an order placed while a candle forms counts as born at its open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from btb.core import matching as m
from btb.core.bar import Bar
from btb.core.enums import LiquiditySide, OrderType, Side
from btb.core.fill import Fill
from btb.core.order import OrderCanceled, OrderExpired, OrderFilled
from btb.exchange.sim.accounts import Execution, SimAccount, SimOrder, StopKind, Trigger

if TYPE_CHECKING:
    from btb.exchange.sim.venue import SimVenue

ZERO = Decimal(0)
Listener = Callable[[str, SimAccount | None, Any], None]
_POSITION_STOP_SEQ = -1  # position TP/SL were set before any resting order in the bar
#: (priority key, fill-rule kind, phase, level, the order or the position stop it is)
_Candidate = tuple[tuple[int, float, int], int, int, float, "SimOrder | StopKind"]


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def order_kind(so: SimOrder) -> int:
    """The shared fill rules' kind of a venue order."""
    if so.order.order_type is OrderType.LIMIT:
        return m.KIND_LIMIT
    if not so.is_conditional:
        return m.KIND_MARKET
    # A stop sells on a fall / buys on a rise; the opposite pairing is a take-profit.
    falls = so.trigger is Trigger.FALL
    return m.KIND_STOP if falls == (so.order.side is Side.SELL) else m.KIND_TAKE_PROFIT


class Matcher:
    """Fills orders of one venue against its replayed candles."""

    def __init__(self, venue: SimVenue, *, slippage_bps: float = 0.0) -> None:
        self.venue = venue
        self.slippage_bps = slippage_bps
        self.listeners: list[Listener] = []
        self.processed_ms = venue.clock.now_ms()
        self._seq = 0

    def emit(self, kind: str, account: SimAccount | None, obj: Any) -> None:
        for listener in list(self.listeners):
            listener(kind, account, obj)

    def market_price(self, symbol: str, side: Side) -> Decimal:
        """Where a market order placed now fills: the forming candle's open plus slippage."""
        px = self.venue.replay.current_price(symbol, self.venue.now_ms())
        assert px is not None  # callers checked venue.price() first
        price = m.fill_price(
            m.KIND_MARKET, side.sign, math.nan, px, m.PHASE_OPEN, self.slippage_bps
        )
        return self.venue.to_price(symbol, price)

    def marketable_price(self, so: SimOrder, px: Decimal) -> Decimal | None:
        """Fill price of a limit order placed at current price ``px``, if it fills at once."""
        assert so.order.price is not None
        sign, level, now = so.order.side.sign, float(so.order.price), float(px)
        phase = m.fill_phase(m.KIND_LIMIT, sign, level, now, now, now)
        if phase == m.NO_FILL:
            return None
        return self.venue.to_price(
            so.symbol, m.fill_price(m.KIND_LIMIT, sign, level, now, phase, 0.0)
        )

    # ------------------------------------------------------------------------ candles
    def sync(self) -> int:
        """Process every base candle that closed in (last processed, now]; return how many."""
        now = self.venue.now_ms()
        if now <= self.processed_ms:
            return 0
        bars: list[Bar] = []
        for symbol in self.venue.replay.symbols:
            bars.extend(self.venue.replay.closed_between(symbol, self.processed_ms, now))
        bars.sort(key=lambda b: (b.open_time, b.symbol))
        self.processed_ms = now
        for bar in bars:
            close_ms = int(bar.close_time.timestamp() * 1000)
            for account in self.venue.accounts.values():
                self._on_bar(account, bar, close_ms)
            self.emit("kline", None, bar)
        return len(bars)

    def _on_bar(self, account: SimAccount, bar: Bar, close_ms: int) -> None:
        """Fill whatever ``bar`` reaches, in the order the shared rules give (rule 6)."""
        for _, kind, phase, level, what in sorted(
            self._candidates(account, bar, close_ms), key=lambda c: c[0]
        ):
            slip = 0.0 if kind in (m.KIND_LIMIT, m.KIND_LIQUIDATION) else self.slippage_bps
            if isinstance(what, SimOrder):
                if not what.is_open:
                    continue  # an earlier fill in this candle closed it (reduce-only, OCO-like)
                price = m.fill_price(kind, what.order.side.sign, level, bar.open, phase, slip)
                what.triggered_ms = close_ms if what.is_conditional else 0
                price_dec = self.venue.to_price(bar.symbol, price)
                self.fill(account, what, price_dec, kind == m.KIND_LIMIT, close_ms)
                continue
            pos = account.positions[bar.symbol]
            if pos.is_flat:
                continue  # an earlier exit in this candle closed it
            sign = -1 if pos.quantity > 0 else 1
            price = m.fill_price(kind, sign, level, bar.open, phase, slip)
            self._close_by_stop(account, bar.symbol, what, Decimal(repr(level)), price, close_ms)

    def _candidates(self, account: SimAccount, bar: Bar, close_ms: int) -> list[_Candidate]:
        """(priority, kind, phase, level, order or position stop) of everything ``bar`` fills."""
        open_ms = int(bar.open_time.timestamp() * 1000)
        out: list[_Candidate] = []
        for kind, sign, level, stop in self._position_stops(account, bar.symbol):
            phase = m.fill_phase(kind, sign, level, bar.open, bar.high, bar.low)
            if phase != m.NO_FILL:
                seq = m.LIQUIDATION_SEQ if kind == m.KIND_LIQUIDATION else _POSITION_STOP_SEQ
                out.append((m.priority(phase, kind, sign, level, seq), kind, phase, level, stop))
        for so in account.open_orders(bar.symbol):
            kind, sign = order_kind(so), so.order.side.sign
            born = m.BORN_BEFORE if so.created_ms <= open_ms else m.BORN_AT_OPEN
            if so.created_ms >= close_ms or not m.is_live(kind, born):
                continue
            level_dec = so.order.trigger_price or so.order.price
            level = math.nan if level_dec is None else float(level_dec)
            phase = m.fill_phase(kind, sign, level, bar.open, bar.high, bar.low)
            if phase != m.NO_FILL:
                key = m.priority(phase, kind, sign, level, int(so.order_id))
                out.append((key, kind, phase, level, so))
        return out

    def _position_stops(
        self, account: SimAccount, symbol: str
    ) -> list[tuple[int, int, float, StopKind]]:
        """(kind, closing sign, level, what) of the position's stop-loss, TP and liquidation."""
        pos = account.positions.get(symbol)
        if pos is None or pos.is_flat:
            return []
        sign = -1 if pos.quantity > 0 else 1
        inst = self.venue.instrument(symbol)
        out = []
        sl, tp = account.stop_loss.get(symbol), account.take_profit.get(symbol)
        if sl is not None:
            out.append((m.KIND_STOP, sign, float(sl), StopKind.STOP_LOSS))
        if tp is not None:
            out.append((m.KIND_TAKE_PROFIT, sign, float(tp), StopKind.TAKE_PROFIT))
        liq = m.liquidation_level(
            float(pos.avg_entry_price),
            -sign,
            float(pos.leverage),
            float(inst.maintenance_margin_rate),
        )
        out.append((m.KIND_LIQUIDATION, sign, liq, StopKind.LIQUIDATION))
        return out

    def _close_by_stop(
        self,
        account: SimAccount,
        symbol: str,
        kind: StopKind,
        trigger_price: Decimal,
        px: float,
        close_ms: int,
    ) -> None:
        from btb.exchange.sim.venue import OrderRequest  # circular at import time only

        pos = account.positions[symbol]
        side = Side.SELL if pos.quantity > 0 else Side.BUY
        req = OrderRequest(
            symbol=symbol,
            side=side,
            order_type=OrderType.MARKET,
            quantity=abs(pos.quantity),
            trigger_price=self.venue.to_price(symbol, float(trigger_price)),
            trigger=Trigger.FALL if side is Side.SELL else Trigger.RISE,
            reduce_only=True,
            stop_kind=kind,
        )
        price = self.venue.to_price(symbol, px)
        so = self.venue.book_order(account, req, req.trigger, price)
        so.triggered_ms = close_ms
        self.fill(account, so, price, False, close_ms)

    # -------------------------------------------------------------------------- fills
    def fill(
        self,
        account: SimAccount,
        so: SimOrder,
        price: Decimal,
        is_maker: bool,
        ts_ms: int | None = None,
    ) -> None:
        """Fill the rest of ``so`` at ``price``; reduce-only orders shrink to the position."""
        ts = self.venue.now_ms() if ts_ms is None else ts_ms
        held = account.margin_held(so)
        qty = self._fill_quantity(account, so, held, ts)
        if qty is None:
            return
        inst = self.venue.instrument(so.symbol)
        rate = inst.maker_fee if is_maker else inst.taker_fee
        fill = self._new_fill(account, so, qty, price, qty * price * rate, ts, is_maker)
        closed, realized = self._book(account, so, fill, held)
        execution = Execution(
            exec_id=fill.trade_id, order=so, fill=fill, ts_ms=ts, fee_rate=rate,
            is_maker=is_maker, closed_size=closed, realized_pnl=realized, seq=self._seq,
        )  # fmt: skip
        account.executions.append(execution)
        self.emit("order", account, so)
        self.emit("execution", account, execution)
        self.emit("position", account, so.symbol)

    def _new_fill(
        self,
        account: SimAccount,
        so: SimOrder,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        ts: int,
        is_maker: bool,
    ) -> Fill:
        """The next fill of ``so`` with a venue-unique trade id (UUID-shaped, like Bybit's)."""
        self._seq += 1
        return Fill(
            client_order_id=so.order.client_order_id,
            symbol=so.symbol,
            side=so.order.side,
            quantity=qty,
            price=price,
            fee=fee,
            ts=ms_to_dt(ts),
            liquidity=LiquiditySide.MAKER if is_maker else LiquiditySide.TAKER,
            trade_id=f"{self._seq:08d}-0000-4000-8000-{self.venue.next_id():012d}",
            exchange_order_id=so.order_id,
            fee_currency=account.settle_coin,
        )

    def _fill_quantity(
        self, account: SimAccount, so: SimOrder, held: Decimal, ts: int
    ) -> Decimal | None:
        """How much of ``so`` fills: reduce-only orders shrink to the position, or are
        cancelled (Binance algo orders: expired) when there is nothing left to reduce."""
        qty = so.order.remaining_qty
        if not so.order.reduce_only:
            return qty
        pos = account.position(so.symbol)
        reducible = abs(pos.quantity) if pos.quantity * so.order.side.sign < 0 else ZERO
        if reducible == 0:
            when = ms_to_dt(ts)
            so.order.apply(OrderExpired(when) if so.algo else OrderCanceled(when))
            account.changed(so, held)
            so.cancel_type = "CancelByReduceOnly"
            so.updated_ms = ts
            self.emit("order", account, so)
            return None
        if so.close_position or reducible < qty:
            so.order.quantity = so.order.filled_qty + reducible
            qty = reducible
        return qty

    def _book(
        self, account: SimAccount, so: SimOrder, fill: Fill, held: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Apply ``fill`` to the order, the position and the wallet; (closed size, PnL)."""
        symbol, ts = so.symbol, int(fill.ts.timestamp() * 1000)
        pos = account.position(symbol)
        was_flat = pos.is_flat
        if was_flat:
            pos.leverage = account.leverage_of(symbol)
            account.position_created_ms[symbol] = ts
        closing = pos.quantity * fill.side.sign < 0
        closed = min(fill.quantity, abs(pos.quantity)) if closing else ZERO
        realized = pos.apply(fill)
        so.order.apply(OrderFilled(fill))
        account.changed(so, held)
        so.fee += fill.fee
        so.updated_ms = ts
        coin = account.settle_coin
        account.wallet[coin] = account.wallet.get(coin, ZERO) + realized - fill.fee
        account.cum_realised[symbol] = account.cum_realised.get(symbol, ZERO) + realized - fill.fee
        account.position_updated_ms[symbol] = ts
        self._after_fill(account, so, pos.is_flat)
        return closed, realized

    def _after_fill(self, account: SimAccount, so: SimOrder, now_flat: bool) -> None:
        symbol = so.symbol
        if now_flat:
            # A closed position takes its TP/SL and close-position orders with it.
            account.stop_loss.pop(symbol, None)
            account.take_profit.pop(symbol, None)
            for other in account.open_orders(symbol):
                if other.close_position:
                    other.order.apply(OrderExpired(ms_to_dt(so.updated_ms)))
                    account.changed(other, ZERO)  # close-position orders hold no margin
                    other.updated_ms = so.updated_ms
                    self.emit("order", account, other)
            return
        if so.order.stop_loss is not None:
            account.stop_loss[symbol] = so.order.stop_loss
        if so.order.take_profit is not None:
            account.take_profit[symbol] = so.order.take_profit
