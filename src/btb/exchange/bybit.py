"""BybitExchange (seed 000): Bybit V5 USDT perpetuals through ccxt's async client.

``testnet: true`` trades on Bybit's demo-trading environment (api-demo.bybit.com, real
prices, paper money); ``base_url`` points the client at another host, e.g. ``btb sim``.
Stop-loss and take-profit travel with the entry order (Bybit attaches them to the position).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from btb.core.bar import Bar
from btb.core.instrument import Instrument
from btb.errors import ExchangeError
from btb.exchange.ccxt_base import CcxtExchange
from btb.exchange.order_intent import OrderIntent
from btb.exchange.parsing.bybit import (
    BYBIT_INTERVALS,
    parse_bybit_instrument,
    parse_bybit_ticker,
    parse_bybit_ws_kline,
)
from btb.exchange.parsing.bybit_account import (
    parse_bybit_order,
    parse_bybit_orders,
    parse_bybit_position,
    parse_bybit_wallet,
)
from btb.exchange.parsing.values import OrderSnapshot, PositionSnapshot, Ticker, WalletSnapshot
from btb.exchange.precision import format_decimal
from btb.exchange.streams import websocket_klines, ws_url_for

#: Bybit's public streams. Demo trading (``testnet: true``) has private streams only; its
#: market data, like its REST market data, is mainnet's, so demo uses this host too.
PUBLIC_WS_HOST = "wss://stream.bybit.com"
LEVERAGE_NOT_MODIFIED = "110043"


class BybitExchange(CcxtExchange):
    """Bybit V5 (linear USDT perpetuals) via ccxt."""

    name: ClassVar[str] = "bybit"
    ccxt_id: ClassVar[str] = "bybit"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.ws_url = str(config.get("ws_url") or public_ws_url(config.get("base_url")))

    def _ccxt_options(self) -> dict[str, Any]:
        return {"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}}

    async def _fetch_instruments(self) -> list[Instrument]:
        return [parse_bybit_instrument(m["info"], "linear") for m in await self._linear_markets()]

    async def _fetch_ticker(self, symbol: str) -> Ticker:
        request = {"category": "linear", "symbol": symbol}
        return parse_bybit_ticker(
            await self._call(lambda: self.client.publicGetV5MarketTickers(request))
        )

    async def _fetch_balance(self) -> WalletSnapshot:
        balance = await self._call(lambda: self.client.fetch_balance())
        return parse_bybit_wallet(balance["info"])

    async def _fetch_positions(self, symbols: list[str] | None) -> list[PositionSnapshot]:
        markets = [await self.ccxt_symbol(s) for s in symbols] if symbols else None
        rows = await self._call(lambda: self.client.fetch_positions(markets))
        return [parse_bybit_position(p["info"]) for p in rows]

    async def _set_leverage(self, symbol: str, leverage: Decimal) -> None:
        market = await self.ccxt_symbol(symbol)
        try:
            await self._call(lambda: self.client.set_leverage(float(leverage), market))
        except ExchangeError as exc:
            if str(exc.code) != LEVERAGE_NOT_MODIFIED:  # already at that leverage: done
                raise

    async def _submit_order(self, intent: OrderIntent) -> OrderSnapshot:
        params = self._order_params(intent)
        if intent.stop_loss is not None:
            params["stopLoss"] = format_decimal(intent.stop_loss)
        if intent.take_profit is not None:
            params["takeProfit"] = format_decimal(intent.take_profit)
        if intent.trigger_price is not None:
            params["triggerPrice"] = format_decimal(intent.trigger_price)
            params["triggerDirection"] = "ascending" if intent.trigger_rises else "descending"
        created = await self._create_order(intent, params)
        return await self._found(intent.symbol, str(created["id"]), "accepted")

    async def _find_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot | None:
        request: dict[str, Any] = {"category": "linear", "symbol": symbol}
        if order_id:
            request["orderId"] = order_id
        else:
            request["orderLinkId"] = client_order_id
        for endpoint in (
            self.client.privateGetV5OrderRealtime,
            self.client.privateGetV5OrderHistory,
        ):
            orders = parse_bybit_orders(await self._call(functools.partial(endpoint, request)))
            if orders:
                return orders[0]
        return None

    async def _cancel_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot:
        market = await self.ccxt_symbol(symbol)
        params = {} if order_id else {"orderLinkId": client_order_id}
        canceled = await self._call(lambda: self.client.cancel_order(order_id, market, params))
        return await self._found(symbol, str(canceled["id"]), "cancelled")

    async def _fetch_open_orders(self, symbol: str | None) -> list[OrderSnapshot]:
        market = await self.ccxt_symbol(symbol) if symbol else None
        params = {} if market else {"settleCoin": "USDT"}
        orders = await self._call(lambda: self.client.fetch_open_orders(market, None, None, params))
        return [parse_bybit_order(o["info"]) for o in orders]

    def _ws_klines(self, symbol: str, timeframe: str) -> AsyncIterator[tuple[Bar, bool]] | None:
        return bybit_kline_stream(self.ws_url, symbol, timeframe)


def public_ws_url(base_url: Any, category: str = "linear") -> str:
    """The public stream of ``category`` ("linear" or "spot") on the host of ``base_url``
    (http(s) -> ws(s)), or Bybit's (for live and demo trading alike)."""
    return ws_url_for(str(base_url or PUBLIC_WS_HOST), f"/v5/public/{category}")


def bybit_kline_stream(ws_url: str, symbol: str, timeframe: str) -> AsyncIterator[tuple[Bar, bool]]:
    """Bybit's public ``kline.<interval>.<symbol>`` topic as (bar, closed) pairs."""
    topic = f"kline.{BYBIT_INTERVALS[timeframe]}.{symbol}"

    def parse(message: Mapping[str, Any]) -> list[tuple[Bar, bool]]:
        if message.get("op") == "subscribe" and not message.get("success", False):
            raise ExchangeError(f"Bybit refused subscription {topic}: {message.get('ret_msg')}")
        return parse_bybit_ws_kline(message) if message.get("topic") == topic else []

    subscribe = {"op": "subscribe", "args": [topic], "req_id": "btb-kline"}
    return websocket_klines(ws_url, parse, name=f"Bybit kline stream {topic}", subscribe=subscribe)
