"""Order requests of the direct Bybit client: the V5 body, and idempotent submission.

Idempotency rests on the order's ``orderLinkId`` (the client order id):

1. The order is POSTed once, never retried blindly.
2. After a NetworkError (timeout, connection lost, 5xx) the request may or may not have
   reached Bybit. Before sending again, the order is looked up by its orderLinkId; if it
   exists, that order is the answer and nothing is resent.
3. If the lookup misses (the venue had not yet recorded it) the same body is resent; should
   the first request have landed meanwhile, Bybit refuses the duplicate orderLinkId (retCode
   110072 -> DuplicateOrderError), and the existing order is fetched and returned.
4. RateLimitError means Bybit refused the request unprocessed: resending is safe.

So however often a submission is retried, at most one order per orderLinkId exists.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from btb.core.enums import Side, TimeInForce
from btb.core.instrument import Instrument
from btb.errors import InvalidOrderError, NetworkError
from btb.exchange.bybit_direct.transport import BybitHttp
from btb.exchange.errors import DuplicateOrderError
from btb.exchange.parsing.bybit_account import parse_bybit_order_ack
from btb.exchange.parsing.values import OrderSnapshot
from btb.exchange.precision import (
    Number,
    as_decimal,
    format_decimal,
    prepare_order,
    round_trigger_price,
)

log = logging.getLogger("btb.exchange.bybit_direct")

TIME_IN_FORCE = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
#: ``triggerDirection``: 1 = triggers when the price rises to the trigger, 2 = when it falls.
TRIGGER_DIRECTIONS = {
    "rise": 1, "above": 1, "ascending": 1, "1": 1,
    "fall": 2, "below": 2, "descending": 2, "2": 2,
}  # fmt: skip
TRIGGER_BY = ("LastPrice", "MarkPrice", "IndexPrice")
Lookup = Callable[[str, str], Awaitable[OrderSnapshot | None]]


def parse_side(symbol: str, side: str | Side) -> Side:
    """ "buy"/"sell" (any case) or a Side; InvalidOrderError naming the symbol otherwise."""
    try:
        return Side(str(side).lower())
    except ValueError:
        raise InvalidOrderError(f"{symbol}: side must be 'buy' or 'sell', got {side!r}") from None


def order_kind(symbol: str, order_type: str, price: Number | None) -> str:
    """ "limit" or "market", checked against whether a price was given."""
    kind = order_type.lower()
    if kind not in ("limit", "market") or (kind == "limit") != (price is not None):
        raise InvalidOrderError(
            f"{symbol}: order type {order_type!r} with price {price!r} (a limit order needs a "
            "price, a market order none)"
        )
    return kind


def order_body(
    category: str,
    instrument: Instrument | None,
    symbol: str,
    side: Side,
    kind: str,
    amount: Number,
    price: Number | None,
    reference_price: Number | None,
    *,
    reduce_only: bool = False,
) -> dict[str, Any]:
    """The ``/v5/order/create`` body. With an instrument, quantity and price are rounded and
    checked first (InvalidOrderError names the broken limit; reduce-only orders are exempt
    from min notional, as at Bybit); without one they go as given."""
    if instrument is not None:
        prepared = prepare_order(
            instrument, side, amount, price, reference_price=reference_price,
            reduce_only=reduce_only,
        )  # fmt: skip
        qty, limit = prepared.quantity, prepared.price
    else:
        qty = as_decimal(amount, f"{symbol} quantity")
        limit = None if price is None else as_decimal(price, f"{symbol} price")
    body: dict[str, Any] = {
        "category": category,
        "symbol": symbol,
        "side": side.value.capitalize(),
        "orderType": kind.capitalize(),
        "qty": format_decimal(qty),
    }
    if limit is not None:
        body["price"] = format_decimal(limit)
    if category == "spot" and kind == "market":
        body["marketUnit"] = "baseCoin"  # spot market buys are otherwise sized in quote coin
    return body


def add_order_options(
    body: dict[str, Any],
    instrument: Instrument | None,
    time_in_force: TimeInForce | None,
    reduce_only: bool,
    stop_loss: Number | None,
    take_profit: Number | None,
) -> None:
    """Add the optional fields: timeInForce, reduceOnly, and the stop-loss / take-profit
    that Bybit attaches to the position when the order fills."""
    if time_in_force is not None:
        body["timeInForce"] = TIME_IN_FORCE[TimeInForce(time_in_force)]
    if reduce_only:
        body["reduceOnly"] = True
    for key, value in (("stopLoss", stop_loss), ("takeProfit", take_profit)):
        if value is not None:
            body[key] = trigger_text(instrument, body["symbol"], value)


def add_trigger(
    body: dict[str, Any],
    instrument: Instrument | None,
    trigger_price: Number | None,
    direction: str | int | None,
    trigger_by: str | None,
) -> None:
    """Make ``body`` a conditional order: it rests until the price reaches ``trigger_price``.

    Linear orders need the direction the price must move in (``"rise"``/``"fall"``, also
    spelled ``"above"``/``"below"``, ``"ascending"``/``"descending"`` or Bybit's 1/2) and may
    name the price that triggers them (``trigger_by``: LastPrice, the default, MarkPrice or
    IndexPrice). Spot conditional orders are ``orderFilter: StopOrder``; Bybit infers their
    direction.
    """
    symbol = body["symbol"]
    if trigger_price is None:
        if direction is not None or trigger_by is not None:
            raise InvalidOrderError(f"{symbol}: trigger direction/trigger_by need trigger_price")
        return
    body["triggerPrice"] = trigger_text(instrument, symbol, trigger_price)
    if body["category"] == "spot":
        body["orderFilter"] = "StopOrder"
        return
    code = TRIGGER_DIRECTIONS.get(str(direction).lower())
    if code is None:
        raise InvalidOrderError(
            f"{symbol}: a conditional order needs trigger_direction 'rise' or 'fall', "
            f"got {direction!r}"
        )
    body["triggerDirection"] = code
    if trigger_by is not None:
        if trigger_by not in TRIGGER_BY:
            raise InvalidOrderError(
                f"{symbol}: trigger_by must be one of {', '.join(TRIGGER_BY)}, got {trigger_by!r}"
            )
        body["triggerBy"] = trigger_by


def trigger_text(instrument: Instrument | None, symbol: str, value: Number) -> str:
    """A stop-loss/take-profit price as API text, on the tick grid when the market is known."""
    if instrument is None:
        return format_decimal(as_decimal(value, f"{symbol} trigger price"))
    return format_decimal(round_trigger_price(instrument, value))


def order_result(
    body: Mapping[str, Any], order_id: str, status: str, *, recovered: bool
) -> dict[str, Any]:
    """What create_order returns: ids, the sent size/price, status, and whether the order
    was found already existing instead of being created by this call."""
    price = body.get("price")
    return {
        "id": order_id,
        "client_order_id": body["orderLinkId"],
        "symbol": body["symbol"],
        "side": body["side"].lower(),
        "type": body["orderType"].lower(),
        "amount": Decimal(body["qty"]),
        "price": Decimal(price) if price else None,
        "reduce_only": bool(body.get("reduceOnly", False)),
        "status": status,
        "recovered": recovered,
    }


def _recovered(body: Mapping[str, Any], order: OrderSnapshot) -> dict[str, Any]:
    log.warning(
        "order %s already existed at Bybit (id %s); not sent again",
        order.client_order_id,
        order.exchange_order_id,
    )
    return order_result(body, order.exchange_order_id, order.status.value, recovered=True)


async def submit_order(
    http: BybitHttp, symbol: str, body: Mapping[str, Any], lookup: Lookup
) -> dict[str, Any]:
    """POST ``body`` so that at most one order with its orderLinkId ever exists (see module
    docstring). ``lookup(symbol, order_link_id)`` finds an existing order or returns None."""
    link = str(body["orderLinkId"])
    maybe_sent = False
    async for attempt in http.policy.retrying(f"create_order {symbol} {link}", log):
        with attempt:
            if maybe_sent:
                http.stats["retries"] += 1
                existing = await lookup(symbol, link)
                if existing is not None:
                    return _recovered(body, existing)
            try:
                payload = await http.request(
                    "POST", "/v5/order/create", body, signed=True, retry=False
                )
            except NetworkError:
                maybe_sent = True  # the order may exist although no answer came back
                raise
            except DuplicateOrderError:
                existing = await lookup(symbol, link)
                if existing is None:
                    raise
                return _recovered(body, existing)
            ack = parse_bybit_order_ack(payload)
            return order_result(body, ack.exchange_order_id, "submitted", recovered=False)
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover


__all__ = [
    "TIME_IN_FORCE",
    "TRIGGER_BY",
    "TRIGGER_DIRECTIONS",
    "add_order_options",
    "add_trigger",
    "order_body",
    "order_kind",
    "order_result",
    "parse_side",
    "submit_order",
    "trigger_text",
]
