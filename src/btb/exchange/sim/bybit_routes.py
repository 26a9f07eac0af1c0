"""The Bybit V5 REST subset a trading bot uses, served by the simulator.

Public: market/time, market/instruments-info, market/kline, market/tickers. Private (signed):
account/wallet-balance, account/info, account/fee-rate, user/query-api, asset/coin/query-info,
order/create (incl. stopLoss/takeProfit and conditional orders), order/cancel,
order/cancel-all, order/realtime, order/history, position/list, position/set-leverage,
position/trading-stop, execution/list. Answers use Bybit's envelope
``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` and its own error codes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from btb.core.enums import OrderType, Side, TimeInForce
from btb.exchange.sim import bybit_format as fmt
from btb.exchange.sim.accounts import SimOrder, Trigger
from btb.exchange.sim.auth import wall_ms
from btb.exchange.sim.bybit_market import (
    account_info,
    coin_info,
    fee_rate,
    instruments_info,
    kline,
    market_time,
    param_bool,
    param_decimal,
    param_limit,
    query_api,
    require_linear,
    tickers,
    wallet_balance,
)
from btb.exchange.sim.dispatch import BadRequest, Call, endpoint, json_params, query_params
from btb.exchange.sim.faults import FaultRule
from btb.exchange.sim.limits import bybit_allowance
from btb.exchange.sim.venue import OrderRequest, Reject, VenueError

if TYPE_CHECKING:
    from btb.exchange.sim.server import SimExchange

_REJECT_CODES: dict[Reject, tuple[int, str | None]] = {
    Reject.UNKNOWN_SYMBOL: (10001, "params error: symbol invalid"),
    Reject.BAD_QTY: (10001, None),
    Reject.QTY_TOO_SMALL: (10001, "The number of contracts exceeds minimum limit allowed"),
    Reject.QTY_TOO_LARGE: (10001, "The number of contracts exceeds maximum limit allowed"),
    Reject.BAD_PRICE: (10001, None),
    Reject.MIN_NOTIONAL: (110094, "Order does not meet minimum order value"),
    Reject.INSUFFICIENT: (110007, "ab not enough for new order"),
    Reject.DUPLICATE: (110072, "OrderLinkedID is duplicate"),
    Reject.NOT_FOUND: (110001, "order not exists or too late to cancel"),
    Reject.REDUCE_ONLY: (110017, "current position is zero, cannot fix reduce-only order qty"),
    Reject.WOULD_TRIGGER_RISE: (110092, None),
    Reject.WOULD_TRIGGER_FALL: (110093, None),
    Reject.NO_PRICE: (10001, None),
    Reject.LEVERAGE_UNCHANGED: (110043, "leverage not modified"),
    Reject.BAD_LEVERAGE: (10001, None),
    Reject.BAD_TPSL: (10001, None),
    Reject.INJECTED: (110007, "ab not enough for new order"),
}


class BybitWire:
    """Bybit's envelope, auth and error codes."""

    def parse(self, method: str, query: str, body: str) -> dict[str, Any]:
        return query_params(query) if method == "GET" else json_params(body)

    def authenticate(self, sim: SimExchange, request: web.Request, query: str, body: str) -> Any:
        return sim.auth.bybit(request.headers, request.method, query, body)

    def _json(
        self, sim: SimExchange, code: int, msg: str, result: Any, status: int = 200
    ) -> web.Response:
        payload = {
            "retCode": code,
            "retMsg": msg,
            "result": result,
            "retExtInfo": {},
            "time": sim.venue.now_ms(),
        }
        return web.Response(
            status=status, text=json.dumps(payload), content_type="application/json"
        )

    def ok(self, sim: SimExchange, result: Any) -> web.Response:
        return self._json(sim, 0, "OK", result)

    def error(self, sim: SimExchange, code: int, message: str, http_status: int) -> web.Response:
        return self._json(sim, code, message, {}, http_status)

    def bad_request(self, sim: SimExchange, exc: BadRequest) -> web.Response:
        return self._json(sim, exc.code or 10001, str(exc), {})

    def refused(self, sim: SimExchange, exc: VenueError) -> web.Response:
        code, message = _REJECT_CODES[exc.reason]
        return self._json(sim, code, message or str(exc), {})

    def rate_limited(self, sim: SimExchange) -> web.Response:
        response = self._json(sim, 10006, "Too many visits!", {}, 429)
        response.headers["X-Bapi-Limit"] = "10"
        response.headers["X-Bapi-Limit-Status"] = "0"
        response.headers["X-Bapi-Limit-Reset-Timestamp"] = str(wall_ms() + sim.rate_limit_reset_ms)
        return response

    def injected_reject(self, sim: SimExchange, rule: FaultRule) -> web.Response:
        return self._json(
            sim, rule.code or 110007, rule.message or "ab not enough for new order", {}
        )

    def allowance_headers(self, sim: SimExchange, request: web.Request) -> dict[str, str]:
        allowance = sim.allowances.get("bybit")
        if allowance is None:
            return {}
        api_key = request.headers.get("X-BAPI-API-KEY") or "public"
        return bybit_allowance(allowance, api_key, request.path)


# ---------------------------------------------------------------------------- orders
_TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}


def _choice(call: Call, name: str, allowed: Any, default: str | None = None) -> str:
    value = str(call.get(name, default) if default is not None else call.need(name))
    if value not in allowed:
        raise BadRequest(f"params error: {name} invalid")
    return value


def _trigger(call: Call, limit: bool) -> tuple[Decimal | None, Trigger]:
    """A conditional order's trigger price and direction (Bybit: both or neither)."""
    price = param_decimal(call, "triggerPrice")
    if price is None or price <= 0:
        return None, Trigger.NONE
    if limit:
        raise BadRequest("params error: the simulator supports conditional Market orders only")
    # One price series is replayed: last, mark and index price are the same here.
    _choice(call, "triggerBy", ("LastPrice", "MarkPrice", "IndexPrice"), "LastPrice")
    return price, Trigger(int(_choice(call, "triggerDirection", ("1", "2"))))


def order_request(call: Call) -> OrderRequest:
    """Bybit's order/create body -> the venue's OrderRequest (parameter errors: 10001)."""
    require_linear(call)
    side = _choice(call, "side", ("Buy", "Sell"))
    limit = _choice(call, "orderType", ("Market", "Limit")) == "Limit"
    trigger_price, trigger = _trigger(call, limit)
    price = param_decimal(call, "price", required=True) if limit else None
    link_id = str(call.get("orderLinkId", ""))
    if len(link_id) > 36:
        raise BadRequest("params error: orderLinkId too long")
    stop_loss = param_decimal(call, "stopLoss")
    take_profit = param_decimal(call, "takeProfit")
    kind = OrderType.LIMIT if limit else OrderType.MARKET
    return OrderRequest(
        symbol=str(call.need("symbol")),
        side=Side.BUY if side == "Buy" else Side.SELL,
        order_type=OrderType.STOP_MARKET if trigger_price is not None else kind,
        quantity=param_decimal(call, "qty", required=True) or Decimal(0),
        price=price,
        trigger_price=trigger_price,
        trigger=trigger,
        link_id=link_id,
        reduce_only=param_bool(call.get("reduceOnly")) or param_bool(call.get("closeOnTrigger")),
        time_in_force=_TIF[_choice(call, "timeInForce", _TIF, "GTC")],
        stop_loss=stop_loss or None,
        take_profit=take_profit or None,
    )


def order_create(call: Call) -> Any:
    so = call.sim.venue.place_order(call.require_account(), order_request(call))
    return {"orderId": so.order_id, "orderLinkId": so.link_id}


def order_cancel(call: Call) -> Any:
    require_linear(call)
    order_id, link_id = call.get("orderId"), call.get("orderLinkId")
    if not order_id and not link_id:
        raise BadRequest("params error: orderId or orderLinkId is required")
    so = call.sim.venue.cancel_order(
        call.require_account(), str(call.need("symbol")), order_id, link_id
    )
    return {"orderId": so.order_id, "orderLinkId": so.link_id}


def order_cancel_all(call: Call) -> Any:
    require_linear(call)
    done = call.sim.venue.cancel_all(call.require_account(), call.get("symbol"))
    return {
        "list": [{"orderId": o.order_id, "orderLinkId": o.link_id} for o in done],
        "success": "1",
    }


def _order_filter(call: Call, orders: list[SimOrder]) -> list[SimOrder]:
    symbol, oid, link = call.get("symbol"), call.get("orderId"), call.get("orderLinkId")
    kind = call.get("orderFilter")
    out = [
        o
        for o in orders
        if (symbol is None or o.symbol == symbol)
        and (oid is None or o.order_id == oid)
        and (link is None or o.link_id == link)
        and (kind is None or (kind == "StopOrder") == o.is_conditional or kind == "tpslOrder")
    ]
    out.sort(key=lambda o: (o.created_ms, int(o.order_id)), reverse=True)
    return out[: param_limit(call, 20, 50)]


def order_realtime(call: Call) -> Any:
    require_linear(call)
    account = call.require_account()
    by_id = call.get("orderId") is not None or call.get("orderLinkId") is not None
    pool = list(account.orders.values()) if by_id else account.open_orders()
    items = [fmt.order(o) for o in _order_filter(call, pool)]
    return {"category": "linear", "list": items, "nextPageCursor": ""}


def order_history(call: Call) -> Any:
    require_linear(call)
    pool = [o for o in call.require_account().orders.values()]
    items = [fmt.order(o) for o in _order_filter(call, pool)]
    return {"category": "linear", "list": items, "nextPageCursor": ""}


def execution_list(call: Call) -> Any:
    require_linear(call)
    symbol, oid = call.get("symbol"), call.get("orderId")
    start, end = call.get("startTime"), call.get("endTime")
    rows = [
        e
        for e in reversed(call.require_account().executions)
        if (symbol is None or e.order.symbol == symbol)
        and (oid is None or e.order.order_id == oid)
        and (start is None or e.ts_ms >= int(start))
        and (end is None or e.ts_ms <= int(end))
    ]
    items = [fmt.execution(e) for e in rows[: param_limit(call, 50, 100)]]
    return {"category": "linear", "list": items, "nextPageCursor": ""}


# ------------------------------------------------------------------------- positions
def position_list(call: Call) -> Any:
    require_linear(call)
    account = call.require_account()
    venue = call.sim.venue
    symbol = call.get("symbol")
    if symbol is None and call.get("settleCoin") is None:
        raise BadRequest("params error: symbol or settleCoin is required")
    if symbol is not None:
        venue.instrument(symbol)
        symbols = [symbol]
    else:
        symbols = sorted(s for s, p in account.positions.items() if not p.is_flat)
    marks = venue.marks()
    items = [fmt.position(account, s, marks.get(s), venue.next_id()) for s in symbols]
    return {"category": "linear", "list": items, "nextPageCursor": ""}


def set_leverage(call: Call) -> Any:
    require_linear(call)
    buy = param_decimal(call, "buyLeverage", required=True)
    sell = param_decimal(call, "sellLeverage", required=True)
    if buy != sell:
        raise BadRequest(
            "params error: buy leverage must equal sell leverage in one-way mode", 10001
        )
    assert buy is not None
    call.sim.venue.set_leverage(call.require_account(), str(call.need("symbol")), buy)
    return {}


def trading_stop(call: Call) -> Any:
    require_linear(call)
    call.sim.venue.set_trading_stop(
        call.require_account(),
        str(call.need("symbol")),
        param_decimal(call, "stopLoss"),
        param_decimal(call, "takeProfit"),
    )
    return {}


PUBLIC = {
    "/v5/market/time": market_time,
    "/v5/market/instruments-info": instruments_info,
    "/v5/market/kline": kline,
    "/v5/market/tickers": tickers,
}
PRIVATE_GET = {
    "/v5/account/wallet-balance": wallet_balance,
    "/v5/account/info": account_info,
    "/v5/account/fee-rate": fee_rate,
    "/v5/user/query-api": query_api,
    "/v5/asset/coin/query-info": coin_info,
    "/v5/order/realtime": order_realtime,
    "/v5/order/history": order_history,
    "/v5/execution/list": execution_list,
    "/v5/position/list": position_list,
}
PRIVATE_POST = {
    "/v5/order/create": order_create,
    "/v5/order/cancel": order_cancel,
    "/v5/order/cancel-all": order_cancel_all,
    "/v5/position/set-leverage": set_leverage,
    "/v5/position/trading-stop": trading_stop,
}


def add_routes(app: web.Application, sim: SimExchange) -> None:
    """Register every Bybit endpoint on ``app``."""
    wire = BybitWire()
    for path, handler in PUBLIC.items():
        app.router.add_get(path, endpoint(sim, wire, handler, signed=False))
    for path, handler in PRIVATE_GET.items():
        app.router.add_get(path, endpoint(sim, wire, handler, signed=True))
    for path, handler in PRIVATE_POST.items():
        entry = path == "/v5/order/create"
        app.router.add_post(path, endpoint(sim, wire, handler, signed=True, order_entry=entry))
