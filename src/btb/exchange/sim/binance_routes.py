"""The Binance USDⓈ-M futures REST subset a trading bot uses, served by the simulator.

Public: ping, time, exchangeInfo, klines, ticker/24hr, ticker/price, premiumIndex. Signed:
balance and account (v2/v3), order (POST/GET/DELETE), openOrders, allOrders, allOpenOrders,
algoOrder (POST/GET/DELETE; conditional STOP_MARKET / TAKE_PROFIT_MARKET orders, which
Binance moved off ``/fapi/v1/order`` in December 2025), openAlgoOrders, allAlgoOrders,
positionRisk (v2/v3), leverage, userTrades, commissionRate, positionSide/dual,
multiAssetsMargin; listenKey (API key only). Errors are Binance's ``{"code", "msg"}``.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from btb.core.enums import OrderType, TimeInForce
from btb.exchange.sim import binance_format as fmt
from btb.exchange.sim.accounts import SimOrder, StopKind
from btb.exchange.sim.binance_market import (
    account,
    balance,
    coins,
    commission_rate,
    exchange_info,
    klines,
    leverage,
    leverage_bracket,
    listen_key,
    param_bool,
    param_decimal,
    param_side,
    param_symbol,
    ping,
    position_risk,
    premium_index,
    server_time,
    ticker_24hr,
    ticker_price,
    user_trades,
)
from btb.exchange.sim.dispatch import BadRequest, Call, endpoint, query_params
from btb.exchange.sim.faults import FaultRule
from btb.exchange.sim.limits import binance_allowance
from btb.exchange.sim.venue import OrderRequest, Reject, VenueError

if TYPE_CHECKING:
    from btb.exchange.sim.server import SimExchange

_REJECT: dict[Reject, tuple[int, str | None]] = {
    Reject.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    Reject.BAD_QTY: (-1111, "Precision is over the maximum defined for this asset."),
    Reject.QTY_TOO_SMALL: (-1013, "Filter failure: LOT_SIZE"),
    Reject.QTY_TOO_LARGE: (-4005, "Quantity greater than max quantity."),
    Reject.BAD_PRICE: (-4014, "Price not increased by tick size."),
    Reject.MIN_NOTIONAL: (
        -4164,
        "Order's notional must be no smaller than 5 (unless you choose reduce only).",
    ),
    Reject.INSUFFICIENT: (-2019, "Margin is insufficient."),
    Reject.DUPLICATE: (-4116, "ClientOrderId is duplicated."),
    Reject.NOT_FOUND: (-2011, "Unknown order sent."),
    Reject.REDUCE_ONLY: (-2022, "ReduceOnly Order is rejected."),
    Reject.WOULD_TRIGGER_RISE: (-2021, "Order would immediately trigger."),
    Reject.WOULD_TRIGGER_FALL: (-2021, "Order would immediately trigger."),
    Reject.NO_PRICE: (-1013, None),
    Reject.LEVERAGE_UNCHANGED: (-4028, None),
    Reject.BAD_LEVERAGE: (-4028, None),
    Reject.BAD_TPSL: (-1102, None),
    Reject.INJECTED: (-2019, "Margin is insufficient."),
}
_TYPES = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT}
_ALGO_TYPES = {
    "STOP_MARKET": (OrderType.STOP_MARKET, StopKind.STOP_LOSS),
    "TAKE_PROFIT_MARKET": (OrderType.TAKE_PROFIT_MARKET, StopKind.TAKE_PROFIT),
}
_TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
}


class BinanceWire:
    """Binance's bare JSON answers, ``{"code", "msg"}`` errors and HTTP statuses."""

    def parse(self, method: str, query: str, body: str) -> dict[str, Any]:
        params = query_params(query)
        params.update(query_params(body))
        return params

    def authenticate(self, sim: SimExchange, request: web.Request, query: str, body: str) -> Any:
        return sim.auth.binance(request.headers, query, body)

    def ok(self, sim: SimExchange, result: Any) -> web.Response:
        return web.Response(text=json.dumps(result), content_type="application/json")

    def error(self, sim: SimExchange, code: int, message: str, http_status: int) -> web.Response:
        status = http_status if http_status >= 400 else 400
        return web.Response(
            status=status,
            text=json.dumps({"code": code, "msg": message}),
            content_type="application/json",
        )

    def bad_request(self, sim: SimExchange, exc: BadRequest) -> web.Response:
        return self.error(sim, exc.code or -1102, str(exc), 400)

    def refused(self, sim: SimExchange, exc: VenueError) -> web.Response:
        code, message = _REJECT[exc.reason]
        return self.error(sim, code, message or str(exc), 400)

    def rate_limited(self, sim: SimExchange) -> web.Response:
        response = self.error(
            sim,
            -1003,
            "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. "
            "Please use the websocket for live updates to avoid polling the API.",
            429,
        )
        response.headers["Retry-After"] = str(max(1, math.ceil(sim.rate_limit_reset_ms / 1000)))
        return response

    def injected_reject(self, sim: SimExchange, rule: FaultRule) -> web.Response:
        return self.error(sim, rule.code or -2019, rule.message or "Margin is insufficient.", 400)

    def allowance_headers(self, sim: SimExchange, request: web.Request) -> dict[str, str]:
        allowance = sim.allowances.get("binance")
        return {} if allowance is None else binance_allowance(allowance)


# --------------------------------------------------------------------------- orders
def _kind(call: Call, *, algo: bool) -> tuple[OrderType, StopKind, Decimal | None]:
    """Order type, stop kind and trigger of a new order on ``/order`` or ``/algoOrder``."""
    kind = str(call.need("type"))
    if algo:
        if call.get("algoType", "CONDITIONAL") != "CONDITIONAL":
            raise BadRequest("Invalid algoType.", -1116)
        if kind not in _ALGO_TYPES:
            raise BadRequest(
                "The simulator's algo orders are STOP_MARKET, TAKE_PROFIT_MARKET.", -1116
            )
        order_type, stop_kind = _ALGO_TYPES[kind]
        return order_type, stop_kind, param_decimal(call, "triggerPrice", required=True)
    if kind in _ALGO_TYPES or kind in ("STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET"):
        raise BadRequest(
            "Order type not supported for this endpoint. "
            "Please use the Algo Order API endpoints instead.",
            -4120,
        )
    if kind not in _TYPES:
        raise BadRequest("Invalid orderType.", -1116)
    return _TYPES[kind], StopKind.NONE, None


def _request(call: Call, *, algo: bool) -> OrderRequest:
    symbol, side = param_symbol(call), param_side(call)
    order_type, stop_kind, trigger = _kind(call, algo=algo)
    close_position = param_bool(call.get("closePosition"))
    limit = order_type is OrderType.LIMIT
    tif = str(call.get("timeInForce", "GTC"))
    if tif not in _TIF:
        raise BadRequest("Invalid timeInForce.", -1115)
    link = str(call.get("clientAlgoId" if algo else "newClientOrderId", "") or "")
    return OrderRequest(
        symbol=symbol,
        side=side,
        order_type=order_type,
        quantity=param_decimal(call, "quantity", required=not close_position) or Decimal(0),
        price=param_decimal(call, "price", required=True) if limit else None,
        trigger_price=trigger,
        link_id=link or f"sim-{call.sim.venue.next_id()}",
        reduce_only=param_bool(call.get("reduceOnly")),
        close_position=close_position,
        time_in_force=_TIF[tif],
        stop_kind=stop_kind,
        algo=algo,
    )


def new_order(call: Call) -> Any:
    return fmt.order(call.sim.venue.place_order(call.require_account(), _request(call, algo=False)))


def new_algo_order(call: Call) -> Any:
    return fmt.algo_order(
        call.sim.venue.place_order(call.require_account(), _request(call, algo=True))
    )


def _find(call: Call, *, algo: bool, cancel: bool) -> SimOrder:
    acct = call.require_account()
    id_key, link_key = ("algoId", "clientAlgoId") if algo else ("orderId", "origClientOrderId")
    oid, link = call.get(id_key), call.get(link_key)
    if oid is None and link is None:
        raise BadRequest(
            f"Param '{id_key}' or '{link_key}' must be sent, but both were empty/null!", -1102
        )
    so = acct.find(str(oid) if oid is not None else None, link)
    if so is None or so.algo != algo or (not algo and so.symbol != call.get("symbol")):
        if cancel:
            raise VenueError(Reject.NOT_FOUND, "Unknown order sent.")
        raise BadRequest("Order does not exist.", -2013)
    return so


def get_order(call: Call) -> Any:
    param_symbol(call)
    return fmt.order(_find(call, algo=False, cancel=False))


def get_algo_order(call: Call) -> Any:
    return fmt.algo_order(_find(call, algo=True, cancel=False))


def cancel_order(call: Call) -> Any:
    so = _find(call, algo=False, cancel=True)
    call.sim.venue.cancel_order(call.require_account(), so.symbol, so.order_id, None)
    return fmt.order(so)


def cancel_algo_order(call: Call) -> Any:
    so = _find(call, algo=True, cancel=True)
    call.sim.venue.cancel_order(call.require_account(), so.symbol, so.order_id, None)
    return {"algoId": int(so.order_id), "clientAlgoId": so.link_id, "code": "200", "msg": "success"}


def cancel_all(call: Call) -> Any:
    symbol = param_symbol(call)
    for so in call.require_account().open_orders(symbol):
        call.sim.venue.cancel_order(call.require_account(), symbol, so.order_id, None)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def _orders(call: Call, *, algo: bool, open_only: bool) -> list[SimOrder]:
    acct = call.require_account()
    symbol = call.get("symbol")
    if symbol is not None:
        param_symbol(call)
    pool = acct.open_orders(symbol) if open_only else list(acct.orders.values())
    return [o for o in pool if o.algo == algo and symbol in (None, o.symbol)]


def open_orders(call: Call) -> Any:
    return [fmt.order(o) for o in _orders(call, algo=False, open_only=True)]


def all_orders(call: Call) -> Any:
    param_symbol(call)
    return [fmt.order(o) for o in _orders(call, algo=False, open_only=False)]


def open_algo_orders(call: Call) -> Any:
    return [fmt.algo_order(o) for o in _orders(call, algo=True, open_only=True)]


def all_algo_orders(call: Call) -> Any:
    return [fmt.algo_order(o) for o in _orders(call, algo=True, open_only=False)]


PUBLIC = {
    "/fapi/v1/ping": ping,
    "/fapi/v1/time": server_time,
    "/fapi/v1/exchangeInfo": exchange_info,
    "/fapi/v1/klines": klines,
    "/fapi/v1/ticker/24hr": ticker_24hr,
    "/fapi/v1/ticker/price": ticker_price,
    "/fapi/v2/ticker/price": ticker_price,
    "/fapi/v1/premiumIndex": premium_index,
}
SIGNED: list[tuple[str, str, Any]] = [
    ("GET", "/fapi/v2/balance", balance),
    ("GET", "/fapi/v3/balance", balance),
    ("GET", "/fapi/v2/account", account),
    ("GET", "/fapi/v3/account", account),
    ("GET", "/fapi/v2/positionRisk", position_risk),
    ("GET", "/fapi/v3/positionRisk", position_risk),
    ("POST", "/fapi/v1/leverage", leverage),
    ("GET", "/fapi/v1/commissionRate", commission_rate),
    ("GET", "/fapi/v1/userTrades", user_trades),
    ("POST", "/fapi/v1/order", new_order),
    ("GET", "/fapi/v1/order", get_order),
    ("DELETE", "/fapi/v1/order", cancel_order),
    ("GET", "/fapi/v1/openOrders", open_orders),
    ("GET", "/fapi/v1/allOrders", all_orders),
    ("DELETE", "/fapi/v1/allOpenOrders", cancel_all),
    ("POST", "/fapi/v1/algoOrder", new_algo_order),
    ("GET", "/fapi/v1/algoOrder", get_algo_order),
    ("DELETE", "/fapi/v1/algoOrder", cancel_algo_order),
    ("GET", "/fapi/v1/openAlgoOrders", open_algo_orders),
    ("GET", "/fapi/v1/allAlgoOrders", all_algo_orders),
    ("GET", "/fapi/v1/positionSide/dual", lambda c: {"dualSidePosition": False}),
    ("GET", "/fapi/v1/multiAssetsMargin", lambda c: {"multiAssetsMargin": False}),
    ("GET", "/fapi/v1/leverageBracket", leverage_bracket),
    ("GET", "/sapi/v1/capital/config/getall", coins),
    ("GET", "/sapi/v1/margin/allPairs", lambda c: []),  # no spot margin at the simulator
]


class _KeyOnlyWire(BinanceWire):
    """USER_STREAM endpoints: API key header, no signature."""

    def authenticate(self, sim: SimExchange, request: web.Request, query: str, body: str) -> Any:
        return sim.auth.binance_key(request.headers)


def add_routes(app: web.Application, sim: SimExchange) -> None:
    """Register every Binance USDⓈ-M endpoint on ``app``."""
    wire = BinanceWire()
    for path, handler in PUBLIC.items():
        app.router.add_get(path, endpoint(sim, wire, handler, signed=False))
    for method, path, handler in SIGNED:
        entry = method == "POST" and path in ("/fapi/v1/order", "/fapi/v1/algoOrder")
        app.router.add_route(
            method, path, endpoint(sim, wire, handler, signed=True, order_entry=entry)
        )
    for method in ("POST", "PUT", "DELETE"):
        app.router.add_route(
            method, "/fapi/v1/listenKey", endpoint(sim, _KeyOnlyWire(), listen_key, signed=True)
        )
