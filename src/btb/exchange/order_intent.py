"""OrderIntent: what :meth:`BaseExchange.place_order` makes of its seed-000 arguments.

``place_order(symbol, order_type, side, amount, price, params)`` takes loosely typed input
(strings, floats, ccxt's parameter spellings); everything here turns it into one validated,
rounded :class:`OrderIntent` before any request is sent, or raises InvalidOrderError naming
the symbol and what is wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btb.core.enums import OrderType, Side, TimeInForce
from btb.core.instrument import Instrument
from btb.errors import InvalidOrderError
from btb.exchange.order_ids import validate_client_order_id
from btb.exchange.precision import Number, PreparedOrder, round_trigger_price

ORDER_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP_MARKET,
    "stop_market": OrderType.STOP_MARKET,
    "take_profit": OrderType.TAKE_PROFIT_MARKET,
    "take_profit_market": OrderType.TAKE_PROFIT_MARKET,
}
#: ``params`` keys place_order accepts (btb's names and ccxt's) -> btb's name.
PARAM_ALIASES = {
    "client_order_id": "client_order_id",
    "clientOrderId": "client_order_id",
    "reduce_only": "reduce_only",
    "reduceOnly": "reduce_only",
    "trigger_price": "trigger_price",
    "triggerPrice": "trigger_price",
    "stopPrice": "trigger_price",
    "stop_loss": "stop_loss",
    "stopLoss": "stop_loss",
    "take_profit": "take_profit",
    "takeProfit": "take_profit",
    "time_in_force": "time_in_force",
    "timeInForce": "time_in_force",
}


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """A validated order, on the instrument's grid, ready for one venue call.

    ``reference_price`` is the price a market order's min notional was checked at (the
    trigger price of a conditional order, else the last price), None when not checked.
    """

    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    client_order_id: str
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    reference_price: Decimal | None = None

    @property
    def trigger_rises(self) -> bool:
        """Whether a conditional order waits for the price to rise to its trigger: a stop buys
        on a rise and sells on a fall, a take-profit the other way round."""
        return (self.order_type is OrderType.STOP_MARKET) == (self.side is Side.BUY)


def new_client_order_id() -> str:
    """A fresh 36-character id for orders the caller did not name (``btb-`` + 32 hex)."""
    return f"btb-{uuid.uuid4().hex}"


def order_type_of(symbol: str, order_type: str) -> OrderType:
    """``"market"``, ``"limit"``, ``"stop_market"`` ... -> OrderType (InvalidOrderError else)."""
    kind = ORDER_TYPES.get(str(order_type).lower())
    if kind is None:
        raise InvalidOrderError(f"{symbol}: unknown order type {order_type!r}")
    return kind


def side_of(symbol: str, side: str | Side) -> Side:
    """``"buy"``/``"sell"`` (any case) -> Side (InvalidOrderError else)."""
    try:
        return Side(str(side).lower())
    except ValueError:
        raise InvalidOrderError(f"{symbol}: side must be buy or sell, got {side!r}") from None


def order_params(symbol: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` under their canonical names; unknown keys are an error naming them."""
    unknown = sorted(set(params) - set(PARAM_ALIASES))
    if unknown:
        known = sorted(set(PARAM_ALIASES.values()))
        raise InvalidOrderError(f"{symbol}: unknown order params {unknown} (known: {known})")
    return {PARAM_ALIASES[k]: v for k, v in params.items() if v is not None}


def check_prices(symbol: str, kind: OrderType, price: Number | None, trigger: Any) -> None:
    """A limit order needs a price, a stop / take-profit order a trigger price."""
    if kind is OrderType.LIMIT and price is None:
        raise InvalidOrderError(f"{symbol}: a limit order needs a price")
    if kind in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET) and trigger is None:
        raise InvalidOrderError(f"{symbol}: a {kind.value} order needs trigger_price")


def build_intent(
    inst: Instrument,
    kind: OrderType,
    prepared: PreparedOrder,
    opts: Mapping[str, Any],
    reference_price: Decimal | None,
) -> OrderIntent:
    """The intent of a rounded order with its options (``opts`` from :func:`order_params`)."""
    cid = validate_client_order_id(str(opts.get("client_order_id") or new_client_order_id()))
    sl, tp = opts.get("stop_loss"), opts.get("take_profit")
    tif = opts.get("time_in_force", TimeInForce.GTC)
    return OrderIntent(
        symbol=inst.symbol,
        side=prepared.side,
        order_type=kind,
        quantity=prepared.quantity,
        client_order_id=cid,
        price=prepared.price,
        trigger_price=prepared.trigger_price,
        reduce_only=bool(opts.get("reduce_only", False)),
        time_in_force=tif if isinstance(tif, TimeInForce) else TimeInForce(str(tif).lower()),
        stop_loss=None if sl is None else round_trigger_price(inst, sl),
        take_profit=None if tp is None else round_trigger_price(inst, tp),
        reference_price=reference_price,
    )


__all__ = [
    "ORDER_TYPES",
    "PARAM_ALIASES",
    "OrderIntent",
    "build_intent",
    "check_prices",
    "new_client_order_id",
    "order_params",
    "order_type_of",
    "side_of",
]
