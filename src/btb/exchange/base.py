"""BaseExchange: the async interface every venue adapter implements (seed 000 names).

The public methods are the same for every venue; each adapter implements the small
``_``-prefixed primitives. This class adds what must not differ between venues:

* instruments are loaded once and every order is rounded and checked against them *before*
  it is sent (a quantity or notional below the minimum raises InvalidOrderError; reduce-only
  orders are exempt from min notional, as at the venues);
* idempotent reads are retried on NetworkError/RateLimitError (:mod:`btb.exchange.retry`);
* an order carries a client order id (the caller's deterministic one, or a fresh one) and is
  resubmitted with the *same* id after a timeout or 5xx; when the venue answers "duplicate
  client order id", the order it already has is fetched and returned, so a retried submission
  never opens a second order and never loses the first (each retry is logged at WARNING);
* cancelling an order that is no longer open returns its final state (a repeated cancel
  is not an error);
* candles come back closed only, as a UTC-indexed float64 frame, or as a stream
  (:meth:`BaseExchange.stream_candles`).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from btb.core.bar import Bar, timeframe_seconds
from btb.core.enums import OrderType
from btb.core.instrument import Instrument
from btb.errors import ConfigError, InvalidOrderError, NetworkError
from btb.exchange.errors import DuplicateOrderError, OrderNotFoundError
from btb.exchange.order_intent import (
    OrderIntent,
    build_intent,
    check_prices,
    order_params,
    order_type_of,
    side_of,
)
from btb.exchange.parsing.values import OrderSnapshot, PositionSnapshot, Ticker, WalletSnapshot
from btb.exchange.precision import Number, as_decimal, prepare_order, round_quantity
from btb.exchange.retry import RetryPolicy, call_with_retry

if TYPE_CHECKING:
    from btb.exchange.streams import CandleStream

OHLCV_COLUMNS = ["open", "high", "low", "close", "volume"]


def config_secret(config: Mapping[str, Any], key: str) -> str | None:
    """A credential from config (plain str or pydantic SecretStr), never logged."""
    value = config.get(key)
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value)


class BaseExchange(abc.ABC):
    """Async exchange adapter: market data, account, orders and a closed-candle stream."""

    name: ClassVar[str] = "base"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.testnet = bool(config.get("testnet", False))
        retry = config.get("retry") or {}
        self.retry_policy = retry if isinstance(retry, RetryPolicy) else RetryPolicy(**retry)
        self.log = logging.getLogger(f"btb.exchange.{self.name}")
        self._instruments: dict[str, Instrument] = {}

    def __repr__(self) -> str:  # no credentials, ever
        return f"{type(self).__name__}(testnet={self.testnet})"

    # ----------------------------------------------------------------- lifecycle
    async def connect(self) -> None:
        """Open connections and load instruments."""
        await self.load_instruments()

    async def close(self) -> None:  # noqa: B027  (optional hook: adapters without sessions)
        """Release connections (idempotent)."""

    async def __aenter__(self) -> BaseExchange:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _retry(self, operation: str, func: Any) -> Any:
        return await call_with_retry(operation, func, self.retry_policy, self.log)

    # --------------------------------------------------------------- market data
    async def load_instruments(self, reload: bool = False) -> dict[str, Instrument]:
        """Tradable instruments by symbol (``"BTCUSDT"``) with tick, lot and minimums."""
        if reload or not self._instruments:
            found = await self._retry("load_instruments", self._fetch_instruments)
            self._instruments = {i.symbol: i for i in found}
        return dict(self._instruments)

    async def instrument(self, symbol: str) -> Instrument:
        """The rules of ``symbol``; InvalidOrderError naming it if the venue does not list it."""
        instruments = await self.load_instruments()
        key = normalize_symbol(symbol)
        if key not in instruments:
            known = ", ".join(sorted(instruments)[:10])
            raise InvalidOrderError(
                f"unknown symbol {symbol!r} on {self.name} (listed: {known}, ...)"
            )
        return instruments[key]

    async def server_time(self) -> datetime:
        """The venue's clock (the simulator's replay time when pointed at ``btb sim``)."""
        ms = await self._retry("server_time", self._fetch_server_time_ms)
        return datetime.fromtimestamp(ms / 1000, tz=UTC)

    async def get_market_data(
        self, symbol: str, timeframe: str, since: int | None = None, limit: int = 100
    ) -> pd.DataFrame:
        """Closed candles (``open high low close volume`` float64, UTC index by open time).

        ``since`` is epoch ms; without it the newest ``limit`` closed candles are returned. The
        candle still forming at the venue's current time is never included.
        """
        inst = await self.instrument(symbol)
        step = timeframe_seconds(timeframe) * 1000
        bars, now_ms = await self._retry(
            f"get_market_data {inst.symbol} {timeframe}",
            lambda: self._klines_with_time(inst.symbol, timeframe, since, limit + 1),
        )
        closed = [b for b in bars if int(b.open_time.timestamp() * 1000) + step <= now_ms]
        closed = closed[:limit] if since is not None else closed[-limit:]
        index = pd.DatetimeIndex([b.open_time for b in closed], name="timestamp").as_unit("ms")
        rows = [[b.open, b.high, b.low, b.close, b.volume] for b in closed]
        return pd.DataFrame(rows, index=index, columns=OHLCV_COLUMNS, dtype="float64")

    async def _klines_with_time(
        self, symbol: str, timeframe: str, since: int | None, limit: int
    ) -> tuple[list[Bar], int]:
        bars = await self._fetch_klines(symbol, timeframe, since, limit)
        return bars, await self._fetch_server_time_ms()

    async def get_ticker(self, symbol: str) -> Ticker:
        inst = await self.instrument(symbol)
        return await self._retry(
            f"get_ticker {inst.symbol}", lambda: self._fetch_ticker(inst.symbol)
        )

    def stream_candles(
        self, symbol: str, timeframe: str, *, poll_interval: float | None = None
    ) -> AsyncIterator[Bar]:
        """Closed candles as they close, in order, without gaps or repeats.

        Uses the venue's websocket when the adapter has one and falls back to REST polling
        while it is down (reconnecting with backoff); see :mod:`btb.exchange.streams`.
        """
        return self.candle_stream(symbol, timeframe, poll_interval=poll_interval).run()

    def candle_stream(
        self, symbol: str, timeframe: str, *, poll_interval: float | None = None
    ) -> CandleStream:
        """The :class:`CandleStream` behind :meth:`stream_candles` (polling every
        ``poll_interval`` seconds, default ``exchange.poll_interval_s``, while the websocket
        is down)."""
        from btb.exchange.streams import CandleStream

        interval = (
            poll_interval if poll_interval is not None else self.config.get("poll_interval_s")
        )
        return CandleStream(self, symbol, timeframe, poll_interval=interval)

    def _ws_klines(self, symbol: str, timeframe: str) -> AsyncIterator[tuple[Bar, bool]] | None:
        """The venue's kline websocket as (bar, closed) pairs, or None without one."""
        return None

    # ------------------------------------------------------------------ account
    async def get_balance(self) -> WalletSnapshot:
        return await self._retry("get_balance", self._fetch_balance)

    async def get_positions(self, symbols: Sequence[str] | None = None) -> list[PositionSnapshot]:
        """Open positions (all, or those of ``symbols``)."""
        names = [(await self.instrument(s)).symbol for s in symbols] if symbols else None
        found = await self._retry("get_positions", lambda: self._fetch_positions(names))
        return [p for p in found if p.quantity != 0 and (names is None or p.symbol in names)]

    async def set_leverage(self, symbol: str, leverage: Number) -> None:
        """Set the leverage of ``symbol``; setting the value it already has is not an error."""
        inst = await self.instrument(symbol)
        value = as_decimal(leverage, f"{inst.symbol} leverage")
        if value < 1 or value > inst.max_leverage:
            raise InvalidOrderError(
                f"{inst.symbol}: leverage {value} outside 1..{inst.max_leverage}"
            )
        await self._retry(
            f"set_leverage {inst.symbol}", lambda: self._set_leverage(inst.symbol, value)
        )

    # ------------------------------------------------------------------- orders
    async def place_order(
        self,
        symbol: str,
        order_type: str,
        side: str,
        amount: Number,
        price: Number | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> OrderSnapshot:
        """Place an order; returns the venue's view of it after submission.

        ``order_type``: market, limit, stop_market or take_profit_market; ``params``:
        client_order_id, reduce_only, trigger_price, stop_loss, take_profit, time_in_force
        (ccxt spellings such as ``clientOrderId`` are accepted too).
        """
        intent = await self.prepare(symbol, order_type, side, amount, price, params)
        return await self._place(intent)

    async def _place(self, intent: OrderIntent) -> OrderSnapshot:
        """Everything placing ``intent`` takes at this venue (default: one idempotent order)."""
        return await self._submit_idempotent(intent)

    async def prepare(
        self,
        symbol: str,
        order_type: str,
        side: str,
        amount: Number,
        price: Number | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> OrderIntent:
        """Validate and round an order against the instrument without sending anything.

        A market order on an instrument with a min notional is checked at its trigger price,
        or at the last price (one ticker request), so it too is refused before it is sent.
        """
        inst = await self.instrument(symbol)
        kind, direction = order_type_of(inst.symbol, order_type), side_of(inst.symbol, side)
        opts = order_params(inst.symbol, params or {})
        trigger = opts.get("trigger_price")
        check_prices(inst.symbol, kind, price, trigger)
        reduce_only = bool(opts.get("reduce_only", False))
        reference = None
        if kind is not OrderType.LIMIT and not reduce_only and inst.min_notional > 0:
            round_quantity(inst, amount)  # a too-small size fails before the ticker request
            last = trigger if trigger is not None else (await self.get_ticker(inst.symbol)).last
            reference = as_decimal(last, f"{inst.symbol} reference price")
        prepared = prepare_order(
            inst, direction, amount, price if kind is OrderType.LIMIT else None,
            reference_price=reference, trigger_price=trigger, reduce_only=reduce_only,
        )  # fmt: skip
        return build_intent(inst, kind, prepared, opts, reference)

    async def _submit_idempotent(self, intent: OrderIntent) -> OrderSnapshot:
        """Submit under the retry policy; a duplicate-id answer returns the existing order."""

        async def attempt() -> OrderSnapshot:
            try:
                return await self._submit_order(intent)
            except DuplicateOrderError:
                existing = await self._find_order(intent.symbol, None, intent.client_order_id)
                # The venue may have shrunk a reduce-only order to the position it closes.
                same_size = existing is not None and (
                    existing.quantity == intent.quantity
                    or (intent.reduce_only and existing.quantity <= intent.quantity)
                )
                if existing is None or existing.side is not intent.side or not same_size:
                    raise
                self.log.warning(
                    "place_order %s: the venue already has this order (an earlier attempt's "
                    "answer was lost); using order %s",
                    intent.client_order_id,
                    existing.exchange_order_id,
                )
                return existing

        return await self._retry(f"place_order {intent.client_order_id}", attempt)

    async def cancel_order(
        self, symbol: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> OrderSnapshot:
        """Cancel one open order by venue id or client id; returns its final state.

        An order that is no longer open (cancelled by an earlier attempt whose answer was
        lost, or filled meanwhile) is returned as it is, not reported as an error; only an
        order the venue does not know raises OrderNotFoundError.
        """
        inst = await self.instrument(symbol)
        if not order_id and not client_order_id:
            raise InvalidOrderError(
                f"{inst.symbol}: cancel_order needs order_id or client_order_id"
            )
        what = order_id or client_order_id
        try:
            return await self._retry(
                f"cancel_order {what}",
                lambda: self._cancel_order(inst.symbol, order_id, client_order_id),
            )
        except OrderNotFoundError:
            found = await self._retry(
                f"get_order {what}",
                lambda: self._find_order(inst.symbol, order_id, client_order_id),
            )
            if found is None or found.status.is_open:
                raise
            self.log.info("cancel_order %s: already %s", what, found.status.value)
            return found

    async def get_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        name = (await self.instrument(symbol)).symbol if symbol else None
        return await self._retry("get_open_orders", lambda: self._fetch_open_orders(name))

    async def get_order(
        self, symbol: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> OrderSnapshot:
        """One order by venue id or client id (open or recently closed)."""
        inst = await self.instrument(symbol)
        found = await self._retry(
            f"get_order {order_id or client_order_id}",
            lambda: self._find_order(inst.symbol, order_id, client_order_id),
        )
        if found is None:
            raise OrderNotFoundError(f"{inst.symbol}: no order {order_id or client_order_id}")
        return found

    async def _found(self, symbol: str, order_id: str, what: str) -> OrderSnapshot:
        """Order ``order_id`` just accepted (or cancelled) by the venue. Not listed yet is a
        NetworkError: retrying resolves it by the order's client id, never by resending."""
        found = await self._find_order(symbol, order_id, None)
        if found is None:
            raise NetworkError(f"{symbol}: order {order_id} {what} but not found yet")
        return found

    # ------------------------------------------------------- venue primitives
    @abc.abstractmethod
    async def _fetch_instruments(self) -> list[Instrument]: ...

    @abc.abstractmethod
    async def _fetch_server_time_ms(self) -> int: ...

    @abc.abstractmethod
    async def _fetch_klines(
        self, symbol: str, timeframe: str, since: int | None, limit: int
    ) -> list[Bar]:
        """Candles oldest first; the last may still be forming."""

    @abc.abstractmethod
    async def _fetch_ticker(self, symbol: str) -> Ticker: ...

    @abc.abstractmethod
    async def _fetch_balance(self) -> WalletSnapshot: ...

    @abc.abstractmethod
    async def _fetch_positions(self, symbols: list[str] | None) -> list[PositionSnapshot]: ...

    @abc.abstractmethod
    async def _set_leverage(self, symbol: str, leverage: Decimal) -> None: ...

    @abc.abstractmethod
    async def _submit_order(self, intent: OrderIntent) -> OrderSnapshot:
        """Send one order; raise DuplicateOrderError if the venue knows its client id."""

    @abc.abstractmethod
    async def _find_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot | None: ...

    @abc.abstractmethod
    async def _cancel_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot: ...

    @abc.abstractmethod
    async def _fetch_open_orders(self, symbol: str | None) -> list[OrderSnapshot]: ...


def normalize_symbol(symbol: str) -> str:
    """``"BTC/USDT:USDT"``, ``"BTC/USDT"``, ``"btcusdt"`` -> ``"BTCUSDT"``."""
    return symbol.split(":", 1)[0].replace("/", "").replace("_", "").replace("-", "").upper()


def require_credentials(config: Mapping[str, Any], venue: str) -> tuple[str, str]:
    """API key and secret from config, or ConfigError naming what is missing."""
    key, secret = config_secret(config, "api_key"), config_secret(config, "api_secret")
    if not key or not secret:
        raise ConfigError(
            f"{venue} needs api_key and api_secret (set BTB_API_KEY / BTB_API_SECRET)",
            key_path="exchange.api_key" if not key else "exchange.api_secret",
        )
    return key, secret
