"""What the ccxt-backed adapters (Bybit, Binance USDⓈ-M) share.

ccxt is imported only when a client is built, so ``import btb`` never loads it. Every ccxt
exception is translated in one place (:func:`btb.exchange.errors.translate_ccxt_error`, which
also turns the venues' "duplicate client order id" codes into DuplicateOrderError so that
retried submissions can be resolved). Payloads are converted
with the same parsers the direct client uses (:mod:`btb.exchange.parsing`), on the raw venue
records ccxt keeps in ``info``, so every client reports orders and positions identically.
Besides ccxt's own request throttle, the venues' rate-limit headers hold the next request
back while an allowance is used up (:class:`~btb.exchange.retry.RateLimitPacer`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from btb.core.bar import Bar
from btb.core.enums import OrderType, TimeInForce
from btb.errors import ConfigError, InvalidOrderError
from btb.exchange.base import BaseExchange, config_secret
from btb.exchange.errors import translate_ccxt_error
from btb.exchange.order_intent import OrderIntent
from btb.exchange.retry import RateLimitPacer

T = TypeVar("T")
#: ccxt's unified timeInForce values
CCXT_TIME_IN_FORCE = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PO",
}


class CcxtExchange(BaseExchange):
    """A BaseExchange over one ccxt async client (``ccxt_id``), linear USDT perpetuals."""

    ccxt_id: ClassVar[str] = ""
    #: key of ccxt's per-market-type exception table for this adapter ("" for none)
    exception_table: ClassVar[str] = ""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        market_type = config.get("market_type", "linear")
        if market_type != "linear":
            raise ConfigError(
                f"{self.name} via ccxt trades linear perpetuals only, not {market_type!r}",
                key_path="exchange.market_type",
            )
        self._api_key = config_secret(config, "api_key")
        self._api_secret = config_secret(config, "api_secret")
        self._client: Any = None
        self.pacer = RateLimitPacer(self.retry_policy, logger=self.log)

    @property
    def client(self) -> Any:
        """The ccxt async client (built on first use)."""
        if self._client is None:
            self._client = self._init_client()
        return self._client

    def _init_client(self) -> Any:
        """Build the ccxt client (seed 000's name): keys, timeouts, environment, host."""
        import ccxt.async_support as ccxt_async  # heavy: only when an adapter is used

        options: dict[str, Any] = {"recvWindow": int(self.config.get("recv_window_ms", 10_000))}
        options.update(self._ccxt_options())
        settings: dict[str, Any] = {
            "enableRateLimit": bool(self.config.get("rate_limit", True)),
            "timeout": int(float(self.config.get("timeout_s", 10.0)) * 1000),
            "options": options,
        }
        if self._api_key and self._api_secret:
            settings.update(apiKey=self._api_key, secret=self._api_secret)
        client = getattr(ccxt_async, self.ccxt_id)(settings)
        base_url = self.config.get("base_url")
        if base_url:
            client.urls["api"] = repoint_urls(client.urls["api"], str(base_url))
        elif self.testnet:
            client.enable_demo_trading(True)
        return client

    def _ccxt_options(self) -> dict[str, Any]:
        """Venue-specific ccxt options."""
        return {}

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _call(self, func: Callable[[], Awaitable[T]]) -> T:
        """Await a ccxt call, translating its exceptions to btb errors (the one place)."""
        import ccxt  # the exception classes

        await self.pacer.wait()
        try:
            return await func()
        except ccxt.BaseError as exc:
            headers = getattr(self._client, "last_response_headers", None)
            secrets = [s for s in (self._api_key, self._api_secret) if s]
            tables = getattr(self._client, "exceptions", None) or {}
            exact = (tables.get(self.exception_table) or {}).get("exact")
            raise translate_ccxt_error(exc, headers=headers, secrets=secrets, exact=exact) from exc
        finally:
            # the venue's rate-limit headers of the answer (ccxt keeps the last one's)
            client = self._client
            if client is not None:
                url = getattr(client, "last_request_url", None) or ""
                self.pacer.note(urlsplit(url).path, getattr(client, "last_response_headers", None))

    def _order_params(self, intent: OrderIntent) -> dict[str, Any]:
        """ccxt params every order carries: its client id, reduce-only, time in force."""
        params: dict[str, Any] = {"clientOrderId": intent.client_order_id}
        if intent.reduce_only:
            params["reduceOnly"] = True
        if intent.time_in_force is not TimeInForce.GTC:
            params["timeInForce"] = CCXT_TIME_IN_FORCE[intent.time_in_force]
        return params

    async def _create_order(self, intent: OrderIntent, params: dict[str, Any]) -> Any:
        """``client.create_order`` for ``intent`` (a conditional order is a market order with
        a trigger in ``params``); the raw ccxt order."""
        market = await self.ccxt_symbol(intent.symbol)
        kind = "limit" if intent.order_type is OrderType.LIMIT else "market"
        price = None if intent.price is None else float(intent.price)
        side, amount = intent.side.value, float(intent.quantity)
        return await self._call(
            lambda: self.client.create_order(market, kind, side, amount, price, params)
        )

    async def ccxt_symbol(self, symbol: str) -> str:
        """``"BTCUSDT"`` -> the ccxt symbol of its linear perpetual (``"BTC/USDT:USDT"``)."""
        await self.load_instruments()
        for market in self.client.markets_by_id.get(symbol, []):
            if market.get("linear") and market.get("swap"):
                return str(market["symbol"])
        raise InvalidOrderError(f"unknown symbol {symbol!r} on {self.name}")

    async def _linear_markets(self) -> list[dict[str, Any]]:
        markets = await self._call(lambda: self.client.load_markets(True))
        return [
            m
            for m in markets.values()
            if m.get("linear") and m.get("swap") and m.get("active", True)
        ]

    async def _fetch_server_time_ms(self) -> int:
        return int(await self._call(lambda: self.client.fetch_time()))

    async def _fetch_klines(
        self, symbol: str, timeframe: str, since: int | None, limit: int
    ) -> list[Bar]:
        market = await self.ccxt_symbol(symbol)
        rows = await self._call(lambda: self.client.fetch_ohlcv(market, timeframe, since, limit))
        return [
            Bar(
                symbol=symbol,
                timeframe=timeframe,
                open_time=datetime.fromtimestamp(int(r[0]) / 1000, tz=UTC),
                open=float(r[1]),
                high=float(r[2]),
                low=float(r[3]),
                close=float(r[4]),
                volume=float(r[5] or 0.0),
            )
            for r in rows
        ]


def repoint_urls(urls: Any, base_url: str) -> Any:
    """ccxt's ``urls['api']`` with every host replaced by ``base_url`` (paths kept)."""
    base = base_url.rstrip("/")
    if isinstance(urls, str):
        parts = urlsplit(urls)
        return base + parts.path
    if isinstance(urls, Mapping):
        return {key: repoint_urls(value, base) for key, value in urls.items()}
    return urls
