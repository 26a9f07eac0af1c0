"""The unsigned half of the direct Bybit V5 client: session, host, markets, candles.

:class:`BybitPublicClient` holds the HTTP session and serves Bybit's public market data
(instruments, tickers, klines, server time); :class:`~btb.exchange.bybit_direct.client.
ByBitDirectClient` adds the signed account and order calls on top of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

from btb.core.bar import Bar
from btb.core.instrument import Instrument
from btb.errors import ConfigError, InvalidOrderError
from btb.exchange.bybit_direct.transport import BybitHttp
from btb.exchange.parsing.bybit import (
    BYBIT_INTERVALS,
    parse_bybit_instruments,
    parse_bybit_klines,
    parse_bybit_ticker,
)
from btb.exchange.parsing.values import ms_to_datetime
from btb.exchange.retry import RetryPolicy

MAINNET_URL = "https://api.bybit.com"
DEMO_URL = "https://api-demo.bybit.com"


class BybitPublicClient:
    """Session and public market data of one market type ("linear" or "spot").

    ``testnet=True`` uses Bybit's demo-trading host (api-demo.bybit.com); ``base_url``
    overrides the host (the local simulator). The key and secret are kept for the signed
    calls of :class:`~btb.exchange.bybit_direct.client.ByBitDirectClient`; they never appear
    in repr, logs or errors.
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
        self._counts: Counter[str] = Counter()  # orders created / recovered / canceled

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._http.base_url!r}, "
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

    async def __aenter__(self) -> Self:
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

    def _instrument(self, symbol: str) -> Instrument | None:
        """The loaded market for ``symbol``; None when markets were not loaded."""
        if not self.markets:
            return None
        instrument = self.markets.get(symbol)
        if instrument is None:
            raise InvalidOrderError(f"unknown symbol {symbol!r} for Bybit {self.market_type}")
        return instrument


__all__ = ["DEMO_URL", "MAINNET_URL", "BybitPublicClient"]
