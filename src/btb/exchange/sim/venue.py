"""The simulated venue: order entry, cancels, leverage and position stops, per account.

Protocol-neutral: the Bybit and Binance route modules translate requests into
:class:`OrderRequest` and :class:`VenueError` reasons into each exchange's own error codes.
Matching against replayed candles lives in :mod:`btb.exchange.sim.matching`.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btb.core.enums import OrderType, Side, TimeInForce
from btb.core.instrument import Instrument
from btb.core.order import Order, OrderAccepted, OrderCanceled, OrderSubmitted
from btb.exchange.sim.accounts import SimAccount, SimOrder, StopKind, Trigger
from btb.exchange.sim.clock import SimClock
from btb.exchange.sim.instruments import make_instrument
from btb.exchange.sim.market import MarketReplay
from btb.exchange.sim.matching import Matcher, ms_to_dt

ZERO = Decimal(0)


class Reject(enum.StrEnum):
    """Why the venue refused a request; routes map each to the exchange's own code."""

    UNKNOWN_SYMBOL = "unknown_symbol"
    BAD_QTY = "bad_qty"
    QTY_TOO_SMALL = "qty_too_small"
    QTY_TOO_LARGE = "qty_too_large"
    BAD_PRICE = "bad_price"
    MIN_NOTIONAL = "min_notional"
    INSUFFICIENT = "insufficient"
    DUPLICATE = "duplicate"
    NOT_FOUND = "not_found"
    REDUCE_ONLY = "reduce_only"
    WOULD_TRIGGER_RISE = "would_trigger_rise"
    WOULD_TRIGGER_FALL = "would_trigger_fall"
    NO_PRICE = "no_price"
    LEVERAGE_UNCHANGED = "leverage_unchanged"
    BAD_LEVERAGE = "bad_leverage"
    BAD_TPSL = "bad_tpsl"
    INJECTED = "injected"


class VenueError(Exception):
    """A request the venue refuses; ``reason`` says why in protocol-neutral terms."""

    def __init__(self, reason: Reject, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as either protocol describes it, already parsed to Decimal."""

    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger: Trigger = Trigger.NONE
    link_id: str = ""
    reduce_only: bool = False
    close_position: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    stop_kind: StopKind = StopKind.NONE
    algo: bool = False


class SimVenue:
    """Accounts, instruments and orders of one simulated exchange, driven by ``clock``."""

    def __init__(
        self,
        replay: MarketReplay,
        clock: SimClock | None = None,
        *,
        instruments: Mapping[str, Instrument] | None = None,
        slippage_bps: float = 0.0,
    ) -> None:
        self.replay = replay
        self.clock = clock or SimClock(replay.start_ms + replay.base_ms)
        self.instruments: dict[str, Instrument] = dict(instruments or {})
        for symbol in replay.symbols:
            if symbol not in self.instruments:
                ref = replay.current_price(symbol, replay.start_ms)
                self.instruments[symbol] = make_instrument(symbol, reference_price=ref)
        self.accounts: dict[str, SimAccount] = {}
        self.refusals: Counter[Reject] = Counter()  # order entries refused, by reason
        self._next_id = 0
        self.matcher = Matcher(self, slippage_bps=slippage_bps)

    # ----------------------------------------------------------------- accounts & market
    def add_account(
        self, api_key: str, api_secret: str, balances: Mapping[str, Any] | None = None
    ) -> SimAccount:
        """Register an API key with its secret and starting balances (default 10 000 USDT)."""
        wallet = {k: Decimal(str(v)) for k, v in (balances or {"USDT": "10000"}).items()}
        account = SimAccount(api_key=api_key, api_secret=api_secret, wallet=wallet)
        self.accounts[api_key] = account
        return account

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise VenueError(Reject.UNKNOWN_SYMBOL, f"symbol {symbol!r} is not listed") from None

    def price(self, symbol: str) -> Decimal | None:
        """The current price (open of the forming candle) on the tick grid."""
        raw = self.replay.current_price(symbol, self.now_ms())
        return None if raw is None else self.to_price(symbol, raw)

    def to_price(self, symbol: str, value: float) -> Decimal:
        return self.instrument(symbol).round_price(Decimal(repr(value)))

    def marks(self) -> dict[str, Decimal]:
        out = {}
        for symbol in self.replay.symbols:
            px = self.price(symbol)
            if px is not None:
                out[symbol] = px
        return out

    def subscribe(self, listener: Callable[[str, SimAccount | None, Any], None]) -> None:
        """``listener(kind, account, obj)`` for order/execution/position/kline events."""
        self.matcher.listeners.append(listener)

    def sync(self) -> int:
        """Match open orders against every candle that closed since the last call."""
        return self.matcher.sync()

    def step(self, candles: int = 1) -> int:
        """Stepped clock: advance ``candles`` base candles and match; return candles processed."""
        self.clock.advance(candles * self.replay.base_ms)
        return self.sync()

    # ----------------------------------------------------------------------- orders
    def place_order(self, account: SimAccount, req: OrderRequest) -> SimOrder:
        """Validate ``req`` like the exchange does, book it, and fill it if it is marketable."""
        try:
            return self._place(account, req)
        except VenueError as exc:
            self.refusals[exc.reason] += 1
            raise

    def _place(self, account: SimAccount, req: OrderRequest) -> SimOrder:
        self.sync()
        inst = self.instrument(req.symbol)
        if req.link_id and req.link_id in account.by_link_id:
            raise VenueError(Reject.DUPLICATE, f"client order id {req.link_id} already used")
        self._check_quantity(inst, req)
        px = self.price(req.symbol)
        if px is None:
            raise VenueError(Reject.NO_PRICE, f"no price for {req.symbol} at this time")
        for what, value in (("price", req.price), ("trigger price", req.trigger_price)):
            if value is not None and (value <= 0 or value % inst.tick_size):
                raise VenueError(
                    Reject.BAD_PRICE, f"{what} {value} is not a multiple of {inst.tick_size}"
                )
        ref = req.price or req.trigger_price or px
        if not (req.reduce_only or req.close_position) and req.quantity * ref < inst.min_notional:
            raise VenueError(
                Reject.MIN_NOTIONAL,
                f"order value {req.quantity * ref} is below the minimum {inst.min_notional}",
            )
        trigger = self._check_trigger(req, px)
        self._check_tpsl(req, px)
        position = account.position(req.symbol)
        reducing = (req.reduce_only or req.close_position) and trigger is Trigger.NONE
        if reducing and position.quantity * req.side.sign >= 0:
            raise VenueError(Reject.REDUCE_ONLY, f"no {req.side.opposite} position to reduce")
        self._check_margin(account, inst, req, ref)
        so = self.book_order(account, req, trigger, px)
        if req.order_type is OrderType.MARKET:
            self.matcher.fill(account, so, self.matcher.market_price(req.symbol, req.side), False)
        elif req.order_type is OrderType.LIMIT and req.price is not None:
            fill_at = self.matcher.marketable_price(so, px)
            if fill_at is not None:
                self.matcher.fill(account, so, fill_at, True)
            elif req.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                self._cancel(account, so, "CancelByUser")
        return so

    def _check_quantity(self, inst: Instrument, req: OrderRequest) -> None:
        if req.close_position and req.quantity == 0:
            return
        q = req.quantity
        if q <= 0 or q % inst.lot_step:
            raise VenueError(Reject.BAD_QTY, f"quantity {q} is not a multiple of {inst.lot_step}")
        if q < inst.min_qty:
            raise VenueError(Reject.QTY_TOO_SMALL, f"quantity {q} is below {inst.min_qty}")
        if inst.max_qty is not None and q > inst.max_qty:
            raise VenueError(Reject.QTY_TOO_LARGE, f"quantity {q} is above {inst.max_qty}")

    @staticmethod
    def _check_trigger(req: OrderRequest, px: Decimal) -> Trigger:
        if req.trigger_price is None:
            return Trigger.NONE
        trigger = req.trigger
        if trigger is Trigger.NONE:  # Binance semantics: direction follows type and side
            stop = req.order_type is OrderType.STOP_MARKET
            buy = req.side is Side.BUY
            trigger = Trigger.RISE if stop == buy else Trigger.FALL
        if trigger is Trigger.RISE and req.trigger_price <= px:
            raise VenueError(
                Reject.WOULD_TRIGGER_RISE,
                f"expect Rising, but trigger_price[{req.trigger_price}] <= current[{px}]",
            )
        if trigger is Trigger.FALL and req.trigger_price >= px:
            raise VenueError(
                Reject.WOULD_TRIGGER_FALL,
                f"expect Falling, but trigger_price[{req.trigger_price}] >= current[{px}]",
            )
        return trigger

    @staticmethod
    def _check_tpsl(req: OrderRequest, px: Decimal) -> None:
        ref = req.price if req.order_type is OrderType.LIMIT and req.price else px
        sign = req.side.sign
        if req.stop_loss is not None and (ref - req.stop_loss) * sign <= 0:
            raise VenueError(
                Reject.BAD_TPSL,
                f"StopLoss:{req.stop_loss} set for {req.side.value} position should be "
                f"{'lower' if sign > 0 else 'higher'} than base_price:{ref}",
            )
        if req.take_profit is not None and (req.take_profit - ref) * sign <= 0:
            raise VenueError(
                Reject.BAD_TPSL,
                f"TakeProfit:{req.take_profit} set for {req.side.value} position should be "
                f"{'higher' if sign > 0 else 'lower'} than base_price:{ref}",
            )

    def _check_margin(
        self, account: SimAccount, inst: Instrument, req: OrderRequest, ref: Decimal
    ) -> None:
        if req.reduce_only or req.close_position:
            return
        pos = account.position(req.symbol).quantity
        closing = min(abs(pos), req.quantity) if pos * req.side.sign < 0 else ZERO
        opening = req.quantity - closing
        lev = account.leverage_of(req.symbol)
        need = opening * ref / lev + req.quantity * ref * inst.taker_fee
        available = account.available(self.marks())
        if need > available:
            raise VenueError(
                Reject.INSUFFICIENT,
                f"order needs {need:.4f} {account.settle_coin}, available {available:.4f}",
            )

    def book_order(
        self, account: SimAccount, req: OrderRequest, trigger: Trigger, px: Decimal
    ) -> SimOrder:
        oid = str(8_000_000_000 + self.next_id())  # fits every client's integer type
        now = self.now_ms()
        order = Order(
            client_order_id=req.link_id or oid,
            symbol=req.symbol,
            side=req.side,
            order_type=req.order_type,
            quantity=req.quantity if req.quantity > 0 else self._close_qty(account, req),
            price=req.price,
            trigger_price=req.trigger_price,
            reduce_only=req.reduce_only or req.close_position,
            time_in_force=req.time_in_force,
            created_at=ms_to_dt(now),
            stop_loss=req.stop_loss,
            take_profit=req.take_profit,
        )
        order.apply(OrderSubmitted(ms_to_dt(now)))
        order.apply(OrderAccepted(ms_to_dt(now), oid))
        stop_kind = req.stop_kind
        if trigger is not Trigger.NONE and stop_kind is StopKind.NONE:
            stop_kind = StopKind.STOP
        so = SimOrder(
            order=order,
            order_id=oid,
            link_id=req.link_id,
            created_ms=now,
            updated_ms=now,
            price_on_created=px,
            trigger=trigger,
            stop_kind=stop_kind,
            close_position=req.close_position,
            algo=req.algo,
            leverage=account.leverage_of(req.symbol),
        )
        account.add_order(so)
        self.matcher.emit("order", account, so)
        return so

    def _close_qty(self, account: SimAccount, req: OrderRequest) -> Decimal:
        """A closePosition order's size until it triggers: the position now, or one lot."""
        pos = abs(account.position(req.symbol).quantity)
        return pos if pos > 0 else self.instrument(req.symbol).lot_step

    def cancel_order(
        self, account: SimAccount, symbol: str, order_id: str | None, link_id: str | None
    ) -> SimOrder:
        """Cancel one open order named by venue id or client id."""
        self.sync()
        self.instrument(symbol)
        so = account.find(order_id, link_id)
        if so is None or so.symbol != symbol or not so.is_open:
            raise VenueError(Reject.NOT_FOUND, "order not exists or too late to cancel")
        self._cancel(account, so, "CancelByUser")
        return so

    def cancel_all(self, account: SimAccount, symbol: str | None) -> list[SimOrder]:
        self.sync()
        done = []
        for so in account.open_orders(symbol):
            self._cancel(account, so, "CancelByUser")
            done.append(so)
        return done

    def _cancel(self, account: SimAccount, so: SimOrder, cancel_type: str) -> None:
        held = account.margin_held(so)
        so.order.apply(OrderCanceled(ms_to_dt(self.now_ms())))
        account.changed(so, held)
        so.cancel_type = cancel_type
        so.updated_ms = self.now_ms()
        self.matcher.emit("order", account, so)

    def set_leverage(self, account: SimAccount, symbol: str, leverage: Decimal) -> None:
        """Change the leverage of ``symbol``; refuses an unchanged value like Bybit does."""
        self.sync()
        inst = self.instrument(symbol)
        if leverage < 1 or leverage > inst.max_leverage or leverage != leverage.to_integral():
            raise VenueError(
                Reject.BAD_LEVERAGE,
                f"leverage {leverage} is not valid for {symbol} (1..{inst.max_leverage})",
            )
        if account.leverage_of(symbol) == leverage:
            raise VenueError(Reject.LEVERAGE_UNCHANGED, "leverage not modified")
        account.leverage[symbol] = leverage
        account.position(symbol).leverage = leverage
        self.matcher.emit("position", account, symbol)

    def set_trading_stop(
        self,
        account: SimAccount,
        symbol: str,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
    ) -> None:
        """Set (value > 0) or clear (0) the position's stop-loss and take-profit."""
        self.sync()
        self.instrument(symbol)
        pos = account.position(symbol)
        if pos.is_flat:
            raise VenueError(Reject.REDUCE_ONLY, "can not set tp/sl/ts for zero position")
        px = self.price(symbol) or pos.avg_entry_price
        side = Side.BUY if pos.quantity > 0 else Side.SELL
        sl = stop_loss if stop_loss else None
        tp = take_profit if take_profit else None
        self._check_tpsl(
            OrderRequest(
                symbol, side, OrderType.MARKET, abs(pos.quantity), stop_loss=sl, take_profit=tp
            ),
            px,
        )
        for book, value in ((account.stop_loss, stop_loss), (account.take_profit, take_profit)):
            if value is None:
                continue
            if value:
                book[symbol] = value
            else:
                book.pop(symbol, None)
        self.matcher.emit("position", account, symbol)
