"""ByBitDirectClient: Bybit V5 REST without ccxt (seed 003's API, plus what the trader needs).

Public data (markets, tickers, klines; :mod:`btb.exchange.bybit_direct.public`) is unsigned;
account calls are signed with HMAC-SHA256. Reads are retried on NetworkError/RateLimitError.
Order submission is idempotent by its ``orderLinkId``: after a timeout the client looks the
order up by that id before it sends it again, and a "duplicate orderLinkId" answer (retCode
110072) is resolved by fetching the order that already exists, so a retried submission can
never open a second order.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from btb.core.enums import Side, TimeInForce
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.errors import ExchangeError
from btb.exchange.bybit_direct.orders import (
    add_order_options,
    add_trigger,
    order_body,
    order_kind,
    parse_side,
    submit_order,
    trigger_text,
)
from btb.exchange.bybit_direct.public import BybitPublicClient
from btb.exchange.order_ids import validate_client_order_id
from btb.exchange.parsing.bybit import parse_bybit_fee_rates
from btb.exchange.parsing.bybit_account import (
    parse_bybit_executions,
    parse_bybit_order_ack,
    parse_bybit_orders,
    parse_bybit_positions,
    parse_bybit_wallet,
)
from btb.exchange.parsing.values import FeeRate, OrderSnapshot, PositionSnapshot
from btb.exchange.precision import Number, as_decimal, format_decimal, round_quantity

log = logging.getLogger("btb.exchange.bybit_direct")


class ByBitDirectClient(BybitPublicClient):
    """Async Bybit V5 client for one market type ("linear" USDT perpetuals or "spot").

    ``ByBitDirectClient(api_key, api_secret, testnet=True, market_type="linear")``, as in
    seed 003: ``testnet=True`` uses Bybit's demo-trading host (api-demo.bybit.com);
    ``base_url`` overrides the host (the local simulator); ``recv_window`` (ms, default
    10000), ``timeout`` (s), ``retry_policy`` and ``account_type`` are keyword-only. Secrets
    never appear in repr, logs or errors.
    """

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
        trigger_price: Number | None = None,
        trigger_direction: str | int | None = None,
        trigger_by: str | None = None,
    ) -> dict[str, Any]:
        """Place an order, rounded and checked first (InvalidOrderError names the broken
        limit; nothing is sent). A deterministic ``order_link_id`` (``make_client_order_id``)
        makes repeating the decision safe. ``trigger_price`` + ``trigger_direction`` make it
        conditional (:func:`~btb.exchange.bybit_direct.orders.add_trigger`); market orders
        meet min notional at ``reference_price`` (default: trigger, else last price).
        Returns id, client_order_id, amount, price, status, recovered."""
        direction = parse_side(symbol, side)
        kind = order_kind(symbol, order_type, price)
        instrument = self._instrument(symbol)
        if kind == "market" and not reduce_only:
            reference_price = await self._reference_price(
                instrument, amount, reference_price or trigger_price
            )
        body = order_body(
            self.market_type, instrument, symbol, direction, kind, amount, price,
            reference_price, reduce_only=reduce_only,
        )  # fmt: skip
        body["orderLinkId"] = validate_client_order_id(
            order_link_id or f"btb-{uuid.uuid4().hex[:32]}"
        )
        add_order_options(body, instrument, time_in_force, reduce_only, stop_loss, take_profit)
        add_trigger(body, instrument, trigger_price, trigger_direction, trigger_by)
        result = await submit_order(self._http, symbol, body, self._find_by_link)
        self._counts["orders_recovered" if result["recovered"] else "orders_created"] += 1
        return result

    async def _reference_price(
        self, instrument: Instrument | None, amount: Number, given: Number | None
    ) -> Number | None:
        """The price a market order's min notional is checked at: ``given``, else the last
        price (fetched only when the market is loaded and has a min notional)."""
        if given is not None or instrument is None or not instrument.min_notional:
            return given
        round_quantity(instrument, amount)  # refuse a too-small size before any request
        last: float = (await self.fetch_ticker(instrument.symbol))["last"]
        return last

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
        self._counts["orders_canceled"] += 1
        return {"id": ack.exchange_order_id, "client_order_id": ack.client_order_id,
                "symbol": symbol, "status": "pending_cancel"}  # fmt: skip

    # -- statistics --------------------------------------------------------------------------

    def get_statistics(self) -> dict[str, Any]:
        """Counters since construction: requests, errors, retries, timeouts, rate limits,
        orders created/recovered/canceled, average latency (ms), last error, base URL."""
        stats = dict(self._http.stats)
        stats.update(
            orders_created=self._counts["orders_created"],
            orders_recovered=self._counts["orders_recovered"],
            orders_canceled=self._counts["orders_canceled"],
            average_latency_ms=round(self._http.average_latency_ms, 3),
            base_url=self.base_url,
            market_type=self.market_type,
            markets_loaded=len(self.markets),
            connected=self._http.is_open,
        )
        return stats


__all__ = ["ByBitDirectClient"]
