"""BinanceExchange: Binance USDⓈ-M perpetual futures through ccxt's async client.

``testnet: true`` trades on Binance's demo-trading environment; ``base_url`` points the client
at another host (``btb sim``). Conditional orders (stop-market, take-profit-market) go through
Binance's algo-order API. Binance cannot attach a stop-loss or take-profit to an entry, so
:meth:`BinanceExchange.place_order` places them as reduce-only conditional orders right after
the entry; if they cannot be placed after a market entry filled, the position is closed again
and the error raised (a position never stays open without its stop).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from btb.core.bar import Bar
from btb.core.enums import OrderType
from btb.core.instrument import Instrument
from btb.errors import ExchangeError
from btb.exchange.ccxt_base import CcxtExchange
from btb.exchange.errors import OrderNotFoundError
from btb.exchange.order_ids import derived_client_order_id
from btb.exchange.order_intent import OrderIntent
from btb.exchange.parsing.binance import (
    algo_order_snapshot,
    parse_binance_algo_orders,
    parse_binance_instrument,
    parse_binance_order,
    parse_binance_orders,
    parse_binance_ticker,
)
from btb.exchange.parsing.binance_account import parse_binance_account, parse_binance_positions
from btb.exchange.parsing.binance_stream import parse_binance_ws_kline
from btb.exchange.parsing.values import OrderSnapshot, PositionSnapshot, Ticker, WalletSnapshot
from btb.exchange.precision import format_decimal
from btb.exchange.streams import websocket_klines, ws_url_for

MAINNET_WS_HOST = "wss://fstream.binance.com"
DEMO_WS_HOST = "wss://fstream.binancefuture.com"  # Binance's demo-trading streams (as ccxt)


class BinanceExchange(CcxtExchange):
    """Binance USDⓈ-M futures (one-way mode) via ccxt's ``binanceusdm``."""

    name: ClassVar[str] = "binance"
    ccxt_id: ClassVar[str] = "binanceusdm"
    exception_table: ClassVar[str] = "linear"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.ws_url = str(
            config.get("ws_url") or market_ws_url(config.get("base_url"), self.testnet)
        )

    def _ccxt_options(self) -> dict[str, Any]:
        # Currencies come from the spot wallet API (sapi), which futures-only keys may not reach.
        return {"defaultType": "swap", "fetchCurrencies": False}

    async def _fetch_instruments(self) -> list[Instrument]:
        return [parse_binance_instrument(m["info"]) for m in await self._linear_markets()]

    async def _fetch_ticker(self, symbol: str) -> Ticker:
        payload = await self._call(lambda: self.client.fapiPublicGetTicker24hr({"symbol": symbol}))
        return parse_binance_ticker(payload)

    async def _fetch_balance(self) -> WalletSnapshot:
        balance = await self._call(lambda: self.client.fetch_balance())
        return parse_binance_account(balance["info"])

    async def _fetch_positions(self, symbols: list[str] | None) -> list[PositionSnapshot]:
        request = {"symbol": symbols[0]} if symbols and len(symbols) == 1 else {}
        payload = await self._call(lambda: self.client.fapiPrivateV3GetPositionRisk(request))
        return parse_binance_positions(payload)

    async def _set_leverage(self, symbol: str, leverage: Decimal) -> None:
        market = await self.ccxt_symbol(symbol)
        await self._call(lambda: self.client.set_leverage(int(leverage), market))

    async def _place(self, intent: OrderIntent) -> OrderSnapshot:
        """Entry first, then its stop-loss / take-profit as reduce-only conditional orders."""
        entry = await self._submit_idempotent(
            dataclasses.replace(intent, stop_loss=None, take_profit=None)
        )
        if intent.stop_loss is None and intent.take_profit is None:
            return entry
        try:
            for kind, trigger in (
                (OrderType.STOP_MARKET, intent.stop_loss),
                (OrderType.TAKE_PROFIT_MARKET, intent.take_profit),
            ):
                if trigger is not None:
                    await self._submit_idempotent(_exit_intent(intent, kind, trigger))
        except ExchangeError:
            await self._unwind(intent, entry)
            raise
        return dataclasses.replace(
            entry, stop_loss=intent.stop_loss, take_profit=intent.take_profit
        )

    async def _unwind(self, intent: OrderIntent, entry: OrderSnapshot) -> None:
        """A protective order could not be placed: leave no position without its stop. The
        entry is cancelled if still open (it must not fill later, unprotected), and what did
        fill is closed with a reduce-only market order."""
        self.log.error("%s: protective order failed, unwinding entry %s", intent.symbol,
                       entry.client_order_id)  # fmt: skip
        filled = entry.filled_qty
        if entry.status.is_open:
            filled = (await self.cancel_order(intent.symbol, entry.exchange_order_id)).filled_qty
        if filled > 0:
            flatten = _exit_intent(intent, OrderType.MARKET, None)
            await self._submit_idempotent(dataclasses.replace(flatten, quantity=filled))

    async def _submit_order(self, intent: OrderIntent) -> OrderSnapshot:
        params = self._order_params(intent)
        if intent.trigger_price is not None:  # ccxt sends these to the algo-order API
            stop = intent.order_type is OrderType.STOP_MARKET
            params["stopLossPrice" if stop else "takeProfitPrice"] = format_decimal(
                intent.trigger_price
            )
        created = await self._create_order(intent, params)
        info = created["info"]
        if "algoId" in info:
            return algo_order_snapshot(info, f"Binance algo order {info['algoId']}")
        return parse_binance_order(info)

    async def _find_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot | None:
        regular = {"symbol": symbol}
        regular.update(
            {"orderId": order_id} if order_id else {"origClientOrderId": str(client_order_id)}
        )
        try:
            return parse_binance_order(
                await self._call(lambda: self.client.fapiPrivateGetOrder(regular))
            )
        except OrderNotFoundError:
            pass
        algo = {"algoId": order_id} if order_id else {"clientAlgoId": str(client_order_id)}
        try:
            info = await self._call(lambda: self.client.fapiPrivateGetAlgoOrder(algo))
        except (OrderNotFoundError, ExchangeError) as exc:
            if isinstance(exc, OrderNotFoundError) or str(exc.code) in ("-2013", "-2011"):
                return None
            raise
        return algo_order_snapshot(info, f"Binance algo order {info.get('algoId')}")

    async def _cancel_order(
        self, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> OrderSnapshot:
        found = await self._find_order(symbol, order_id, client_order_id)
        if found is None:
            raise OrderNotFoundError(f"{symbol}: no order {order_id or client_order_id}")
        if found.order_type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):  # algo API
            request = {"algoId": found.exchange_order_id}
            await self._call(lambda: self.client.fapiPrivateDeleteAlgoOrder(request))
        else:
            request = {"symbol": symbol, "orderId": found.exchange_order_id}
            await self._call(lambda: self.client.fapiPrivateDeleteOrder(request))
        after = await self._find_order(symbol, found.exchange_order_id, None)
        return after or found

    async def _fetch_open_orders(self, symbol: str | None) -> list[OrderSnapshot]:
        request = {"symbol": symbol} if symbol else {}
        regular = await self._call(lambda: self.client.fapiPrivateGetOpenOrders(request))
        algos = await self._call(lambda: self.client.fapiPrivateGetOpenAlgoOrders(request))
        return parse_binance_orders(regular) + parse_binance_algo_orders(algos)

    def _ws_klines(self, symbol: str, timeframe: str) -> AsyncIterator[tuple[Bar, bool]] | None:
        return binance_kline_stream(self.ws_url, symbol, timeframe)


def market_ws_url(base_url: Any, testnet: bool) -> str:
    """The raw market-stream endpoint (``.../market/ws``, Binance's routing for klines, as
    ccxt uses it) that goes with ``base_url``, or Binance's own."""
    host = str(base_url or (DEMO_WS_HOST if testnet else MAINNET_WS_HOST))
    return ws_url_for(host, "/market/ws")


def binance_kline_stream(
    ws_url: str, symbol: str, timeframe: str
) -> AsyncIterator[tuple[Bar, bool]]:
    """The USDⓈ-M ``<symbol>@kline_<interval>`` raw stream as (bar, closed) pairs."""
    stream = f"{symbol.lower()}@kline_{timeframe}"

    def parse(message: Mapping[str, Any]) -> list[tuple[Bar, bool]]:
        if message.get("e") != "kline" and "data" not in message:
            return []  # subscription answers ({"result": null, "id": 1}) carry no candle
        bar, closed = parse_binance_ws_kline(message)
        return [(bar, closed)] if bar.symbol == symbol else []

    return websocket_klines(f"{ws_url}/{stream}", parse, name=f"Binance kline stream {stream}")


def _exit_intent(entry: OrderIntent, kind: OrderType, trigger: Decimal | None) -> OrderIntent:
    """The reduce-only order closing ``entry``'s position: its stop, take-profit or a flatten."""
    suffix = {OrderType.STOP_MARKET: "sl", OrderType.TAKE_PROFIT_MARKET: "tp"}.get(kind, "fx")
    return OrderIntent(
        symbol=entry.symbol,
        side=entry.side.opposite,
        order_type=kind,
        quantity=entry.quantity,
        client_order_id=derived_client_order_id(entry.client_order_id, suffix),
        trigger_price=None if trigger is None else Decimal(trigger),
        reduce_only=True,
    )
