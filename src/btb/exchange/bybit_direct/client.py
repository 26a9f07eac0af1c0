"""ByBitDirectClient: Bybit V5 REST without ccxt (seed 003's API, plus what the trader needs).

Public data (markets, tickers, klines) is unsigned; account calls are signed with HMAC-SHA256.
Reads are retried on NetworkError/RateLimitError. Order submission is idempotent by its
``orderLinkId``: after a timeout the client looks the order up by that id before it sends it
again, and a "duplicate orderLinkId" answer (retCode 110072) is resolved by fetching the order
that already exists, so a retried submission can never open a second order.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from btb.core.bar import Bar
from btb.core.enums import Side, TimeInForce
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.errors import ConfigError, ExchangeError, InvalidOrderError
from btb.exchange.bybit_direct.orders import (
    add_order_options,
    order_body,
    order_kind,
    parse_side,
    submit_order,
    trigger_text,
)
from btb.exchange.bybit_direct.transport import BybitHttp
from btb.exchange.order_ids import validate_client_order_id
from btb.exchange.parsing.bybit import (
    BYBIT_INTERVALS,
    parse_bybit_fee_rates,
    parse_bybit_instruments,
    parse_bybit_klines,
    parse_bybit_ticker,
)
from btb.exchange.parsing.bybit_account import (
    parse_bybit_executions,
    parse_bybit_order_ack,
    parse_bybit_orders,
    parse_bybit_positions,
    parse_bybit_wallet,
)
from btb.exchange.parsing.values import FeeRate, OrderSnapshot, PositionSnapshot, ms_to_datetime
from btb.exchange.precision import Number, as_decimal, format_decimal, round_quantity
from btb.exchange.retry import RetryPolicy

log = logging.getLogger("btb.exchange.bybit_direct")

MAINNET_URL = "https://api.bybit.com"
DEMO_URL = "https://api-demo.bybit.com"


class ByBitDirectClient:
    """Async Bybit V5 client for one market type ("linear" USDT perpetuals or "spot").

    ``testnet=True`` uses Bybit's demo-trading host (api-demo.bybit.com); ``base_url``
    overrides the host (the local simulator). Secrets never appear in repr, logs or errors.
    """

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        testnet: bool = True,
        market_type: str = "linear",
        *,
        base_url: str | None = None,
        recv_window: int = 10000,
        timeout: float = 10.0,
        retry_policy: RetryPolicy | None = None,
        account_type: str = "UNIFIED",
    ) -> None:
        if market_type not in ("linear", "spot"):
            raise ConfigError(
                f"must be 'linear' or 'spot', got {market_type!r}", key_path="exchange.market_type"
            )
        self.testnet = testnet
        self.market_type = market_type
        self.account_type = account_type
        self._http = BybitHttp(
            api_key=api_key,
            api_secret=api_secret,
            base_url=base_url or (DEMO_URL if testnet else MAINNET_URL),
            recv_window=recv_window,
            timeout=timeout,
            policy=retry_policy or RetryPolicy(),
        )
        self.markets: dict[str, Instrument] = {}
        self._orders_created = 0
        self._orders_recovered = 0
        self._orders_canceled = 0

    def __repr__(self) -> str:
        return (
            f"ByBitDirectClient(base_url={self._http.base_url!r}, "
            f"market_type={self.market_type!r}, api_key=***)"
        )

    @property
    def base_url(self) -> str:
        """The REST host this client talks to."""
        return self._http.base_url

    # -- lifecycle ---------------------------------------------------------------------------

    async def initialize(self, load_markets: bool = True) -> None:
        """Open the HTTP session and (by default) load the markets used for pre-send checks."""
        await self._http.open()
        if load_markets:
            await self.fetch_markets()

    async def close(self) -> None:
        """Close the HTTP session (the client can be initialized again)."""
        await self._http.close()

    async def __aenter__(self) -> ByBitDirectClient:
        await self.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _get(
        self, path: str, params: Mapping[str, Any], *, signed: bool
    ) -> Mapping[str, Any]:
        return await self._http.request("GET", path, params, signed=signed)

    async def _post(
        self, path: str, body: Mapping[str, Any], *, retry: bool = True
    ) -> Mapping[str, Any]:
        return await self._http.request("POST", path, body, signed=True, retry=retry)

    # -- market data -------------------------------------------------------------------------

    async def fetch_markets(self) -> dict[str, Instrument]:
        """All trading instruments of this market type, by symbol (follows page cursors)."""
        markets: dict[str, Instrument] = {}
        cursor: str | None = None
        while True:
            params = {"category": self.market_type, "limit": 1000, "cursor": cursor}
            payload = await self._get("/v5/market/instruments-info", params, signed=False)
            for instrument in parse_bybit_instruments(payload, self.market_type):
                markets[instrument.symbol] = instrument
            cursor = (payload.get("result") or {}).get("nextPageCursor") or None
            if not cursor:
                break
        self.markets = markets
        return markets

    async def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        """Latest prices: symbol, last, bid, ask, mark, index, high, low, volume, timestamp.

        With markets loaded an unknown symbol raises InvalidOrderError naming it, unsent."""
        self._instrument(symbol)
        payload = await self._get(
            "/v5/market/tickers", {"category": self.market_type, "symbol": symbol}, signed=False
        )
        t = parse_bybit_ticker(payload)
        return {
            "symbol": t.symbol, "last": t.last, "bid": t.bid, "ask": t.ask, "mark": t.mark,
            "index": t.index, "high": t.high_24h, "low": t.low_24h, "volume": t.volume_24h,
            "timestamp": t.ts,
        }  # fmt: skip

    async def fetch_klines(
        self,
        symbol: str,
        interval: str = "1m",
        limit: int = 200,
        *,
        start: int | None = None,
        end: int | None = None,
    ) -> list[Bar]:
        """Candles oldest first; ``interval`` is a btb timeframe ("1m", "1h", "1d") or a
        Bybit interval ("1", "60", "D"); ``start``/``end`` are epoch ms."""
        timeframe = interval if interval in BYBIT_INTERVALS else None
        if timeframe is None:
            timeframe = {v: k for k, v in BYBIT_INTERVALS.items()}.get(interval)
        if timeframe is None:
            known = ", ".join(BYBIT_INTERVALS)
            raise ValueError(f"unknown kline interval {interval!r}; use one of {known}")
        params = {
            "category": self.market_type, "symbol": symbol, "interval": BYBIT_INTERVALS[timeframe],
            "limit": limit, "start": start, "end": end,
        }  # fmt: skip
        payload = await self._get("/v5/market/kline", params, signed=False)
        return parse_bybit_klines(payload, timeframe, symbol)

    async def fetch_server_time(self) -> datetime:
        """Bybit's clock (to check drift against ``recv_window``)."""
        payload = await self._get("/v5/market/time", {}, signed=False)
        return ms_to_datetime(payload.get("time"), "Bybit server time")

    # -- account -----------------------------------------------------------------------------

    async def fetch_balance(self) -> dict[str, Any]:
        """ccxt-shaped balances: ``{"USDT": {"free", "used", "total"}, ..., "free": {...},
        "used": {...}, "total": {...}, "account": AccountSnapshot | None, "timestamp"}``."""
        payload = await self._get(
            "/v5/account/wallet-balance", {"accountType": self.account_type}, signed=True
        )
        wallet = parse_bybit_wallet(payload)
        out: dict[str, Any] = {"free": {}, "used": {}, "total": {}}
        for asset, b in wallet.assets.items():
            out[asset] = {"free": b.free, "used": b.used, "total": b.total}
            out["free"][asset], out["used"][asset], out["total"][asset] = b.free, b.used, b.total
        out["account"] = wallet.account
        out["timestamp"] = wallet.ts
        return out

    async def fetch_fee_rates(self, symbol: str | None = None) -> dict[str, FeeRate]:
        """The account's maker/taker fee rates by symbol (all symbols when None)."""
        params = {"category": self.market_type, "symbol": symbol}
        return parse_bybit_fee_rates(await self._get("/v5/account/fee-rate", params, signed=True))

    async def fetch_positions(self, symbol: str | None = None) -> list[PositionSnapshot]:
        """Open (and flat) positions of ``symbol``, or of every USDT-settled symbol."""
        params = {"category": self.market_type, "symbol": symbol}
        if symbol is None:
            params["settleCoin"] = "USDT"  # Bybit needs a symbol or a settle coin
        return parse_bybit_positions(await self._get("/v5/position/list", params, signed=True))

    async def fetch_executions(
        self, symbol: str | None = None, *, order_id: str | None = None, limit: int | None = None
    ) -> list[Fill]:
        """Recent fills (trades, liquidations, ADL); funding and settlement are left out."""
        params = {
            "category": self.market_type,
            "symbol": symbol,
            "orderId": order_id,
            "limit": limit,
        }
        return parse_bybit_executions(await self._get("/v5/execution/list", params, signed=True))

    async def set_leverage(self, symbol: str, leverage: Number) -> None:
        """Set buy and sell leverage; "not modified" (retCode 110043) counts as success."""
        value = format_decimal(as_decimal(leverage, f"{symbol} leverage"))
        body = {"category": self.market_type, "symbol": symbol, "buyLeverage": value,
                "sellLeverage": value}  # fmt: skip
        try:
            await self._post("/v5/position/set-leverage", body)
        except ExchangeError as error:
            if error.code != 110043:
                raise

    async def set_trading_stop(
        self, symbol: str, *, stop_loss: Number | None = None, take_profit: Number | None = None
    ) -> None:
        """Attach (or move) the position's stop-loss / take-profit on the exchange."""
        body: dict[str, Any] = {"category": self.market_type, "symbol": symbol,
                                "tpslMode": "Full", "positionIdx": 0}  # fmt: skip
        instrument = self.markets.get(symbol)
        for key, value in (("stopLoss", stop_loss), ("takeProfit", take_profit)):
            if value is not None:
                body[key] = trigger_text(instrument, symbol, value)
        await self._post("/v5/position/trading-stop", body)

    # -- orders ------------------------------------------------------------------------------

    async def fetch_open_orders(self, symbol: str | None = None) -> list[OrderSnapshot]:
        """Working orders of ``symbol`` (all USDT-settled linear symbols when None)."""
        params = {"category": self.market_type, "symbol": symbol}
        if symbol is None and self.market_type == "linear":
            params["settleCoin"] = "USDT"
        return parse_bybit_orders(await self._get("/v5/order/realtime", params, signed=True))

    async def fetch_order(
        self, symbol: str, order_id: str | None = None, *, order_link_id: str | None = None
    ) -> OrderSnapshot | None:
        """One order by exchange id or client id (open/recent first, then history), or None."""
        if (order_id is None) == (order_link_id is None):
            raise ValueError("pass exactly one of order_id and order_link_id")
        params = {"category": self.market_type, "symbol": symbol, "orderId": order_id,
                  "orderLinkId": order_link_id}  # fmt: skip
        for path in ("/v5/order/realtime", "/v5/order/history"):
            orders = parse_bybit_orders(await self._get(path, params, signed=True))
            if orders:
                return orders[0]
        return None

    async def create_limit_order(
        self, symbol: str, side: str | Side, amount: Number, price: Number, **options: Any
    ) -> dict[str, Any]:
        """A limit order; ``options`` as for :meth:`create_order`."""
        return await self.create_order(symbol, side, "limit", amount, price, **options)

    async def create_market_order(
        self, symbol: str, side: str | Side, amount: Number, **options: Any
    ) -> dict[str, Any]:
        """A market order; ``options`` as for :meth:`create_order`."""
        return await self.create_order(symbol, side, "market", amount, None, **options)

    async def create_order(
        self,
        symbol: str,
        side: str | Side,
        order_type: str,
        amount: Number,
        price: Number | None = None,
        *,
        reduce_only: bool = False,
        stop_loss: Number | None = None,
        take_profit: Number | None = None,
        order_link_id: str | None = None,
        time_in_force: TimeInForce | None = None,
        reference_price: Number | None = None,
    ) -> dict[str, Any]:
        """Place an order; quantities/prices are rounded and checked first (InvalidOrderError
        names the broken limit and nothing is sent). Pass a deterministic ``order_link_id``
        (:func:`btb.exchange.order_ids.make_client_order_id`) so that repeating the decision
        cannot open a second order; without one a random id still protects this call's retries.
        Market orders are checked against min notional at ``reference_price`` (default: the
        last price, fetched). Returns id, client_order_id, amount, price, status, recovered.
        """
        direction = parse_side(symbol, side)
        kind = order_kind(symbol, order_type, price)
        instrument = self._instrument(symbol)
        if instrument and kind == "market" and reference_price is None and instrument.min_notional:
            round_quantity(instrument, amount)  # refuse a too-small size before any request
            reference_price = (await self.fetch_ticker(symbol))["last"]
        body = order_body(
            self.market_type, instrument, symbol, direction, kind, amount, price, reference_price
        )
        body["orderLinkId"] = validate_client_order_id(
            order_link_id or f"btb-{uuid.uuid4().hex[:32]}"
        )
        add_order_options(body, instrument, time_in_force, reduce_only, stop_loss, take_profit)
        result = await submit_order(self._http, symbol, body, self._find_by_link)
        if result["recovered"]:
            self._orders_recovered += 1
        else:
            self._orders_created += 1
        return result

    def _instrument(self, symbol: str) -> Instrument | None:
        """The loaded market for ``symbol``; None when markets were not loaded."""
        if not self.markets:
            return None
        instrument = self.markets.get(symbol)
        if instrument is None:
            raise InvalidOrderError(f"unknown symbol {symbol!r} for Bybit {self.market_type}")
        return instrument

    async def _find_by_link(self, symbol: str, order_link_id: str) -> OrderSnapshot | None:
        return await self.fetch_order(symbol, order_link_id=order_link_id)

    async def cancel_order(
        self, order_id: str | None, symbol: str, *, order_link_id: str | None = None
    ) -> dict[str, Any]:
        """Cancel by exchange id (or ``order_link_id``); unknown/finished -> OrderNotFoundError
        or InvalidOrderError from the venue's answer."""
        body = {"category": self.market_type, "symbol": symbol}
        if order_id is not None:
            body["orderId"] = order_id
        elif order_link_id is not None:
            body["orderLinkId"] = order_link_id
        else:
            raise ValueError("pass order_id or order_link_id")
        ack = parse_bybit_order_ack(await self._post("/v5/order/cancel", body))
        self._orders_canceled += 1
        return {"id": ack.exchange_order_id, "client_order_id": ack.client_order_id,
                "symbol": symbol, "status": "pending_cancel"}  # fmt: skip

    # -- statistics --------------------------------------------------------------------------

    def get_statistics(self) -> dict[str, Any]:
        """Counters since construction: requests, errors, retries, timeouts, rate limits,
        orders created/recovered/canceled, average latency (ms), last error, base URL."""
        stats = dict(self._http.stats)
        stats.update(
            orders_created=self._orders_created,
            orders_recovered=self._orders_recovered,
            orders_canceled=self._orders_canceled,
            average_latency_ms=round(self._http.average_latency_ms, 3),
            base_url=self.base_url,
            market_type=self.market_type,
            markets_loaded=len(self.markets),
            connected=self._http.is_open,
        )
        return stats


__all__ = ["DEMO_URL", "MAINNET_URL", "ByBitDirectClient"]
