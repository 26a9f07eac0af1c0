"""Values written the seed's or an exchange's way, read into btb's column values.

Seed 002 passed plain dicts to its database (floats, upper-case exchange strings such as
``"BUY"``/``"NEW"``, ISO strings or epoch milliseconds; a naive time meant UTC), and rows it
wrote hold those spellings. This module reads them: the spelling parsers (times, statuses,
sides, enums) and the seed's order and trade dicts. :mod:`btb.database.mappers` uses it on
the way in and out; every failure is a DataError naming the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from btb.core.enums import OrderStatus, OrderType, Side
from btb.database.types import to_decimal
from btb.errors import DataError

E = TypeVar("E", bound=Enum)

# Exchange / ccxt spellings -> btb's lower-case enum values.
_STATUS_ALIASES = {
    "new": OrderStatus.ACCEPTED,
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELED,
    "partially_filled_canceled": OrderStatus.CANCELED,
}
_SIDE_ALIASES = {"long": Side.BUY, "short": Side.SELL, "b": Side.BUY, "s": Side.SELL}
SEED_ORDER_KEYS = frozenset(
    {"order_id", "symbol", "side", "order_type", "quantity", "price", "status", "timestamp"}
)
SEED_TRADE_KEYS = frozenset(
    {"trade_id", "order_id", "symbol", "side", "quantity", "price", "commission", "pnl"}
    | {"timestamp"}
)


def parse_time(value: Any, *, what: str = "timestamp") -> datetime:
    """A tz-aware UTC datetime from a datetime, ISO string or epoch seconds/milliseconds."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{what}: {value!r} is not an ISO time") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # ms epochs are 13 digits today
        result = datetime.fromtimestamp(seconds, UTC)
    else:
        raise DataError(f"{what}: cannot read {type(value).__name__} as a time")
    return result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)


def enum_value(
    enum_type: type[E], value: Any, what: str, aliases: Mapping[str, E] | None = None
) -> E:
    """``enum_type`` member from any capitalisation of its value or of an alias."""
    text = str(value).strip().lower()
    alias = (aliases or {}).get(text)
    if alias is not None:
        return alias
    try:
        return enum_type(text)
    except ValueError:
        raise DataError(f"unknown {what} {value!r}") from None


def order_status(value: Any) -> OrderStatus:
    """OrderStatus from btb, exchange (``NEW``) or ccxt (``open``) spellings."""
    return enum_value(OrderStatus, value, "order status", _STATUS_ALIASES)


def order_side(value: Any) -> Side:
    """Side from ``buy``/``BUY``/``Buy`` (and ``long``/``short``)."""
    return enum_value(Side, value, "order side", _SIDE_ALIASES)


def check_keys(data: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    """DataError naming any key of ``data`` outside ``allowed``."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DataError(f"{what}: unknown keys {unknown}; expected some of {sorted(allowed)}")


def money(data: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    """``data[key]`` as an exact Decimal (None when absent)."""
    value = data.get(key)
    if value is None:
        return None
    try:
        return to_decimal(value, what=f"{what}.{key}")
    except (TypeError, ValueError) as exc:
        raise DataError(str(exc)) from None


def required(data: Mapping[str, Any], key: str, what: str) -> Any:
    """``data[key]``; DataError naming the key when it is absent or None."""
    if data.get(key) is None:
        raise DataError(f"{what}: missing {key!r}")
    return data[key]


def required_money(data: Mapping[str, Any], key: str, what: str) -> Decimal:
    required(data, key, what)
    value = money(data, key, what)
    assert value is not None
    return value


def time_or_now(data: Mapping[str, Any], what: str) -> datetime:
    """The dict's ``timestamp`` (see :func:`parse_time`), or now when it has none."""
    ts = data.get("timestamp")
    return parse_time(ts, what=f"{what}.timestamp") if ts else datetime.now(UTC)


def seed_order_values(data: Mapping[str, Any], bot_name: str) -> dict[str, Any]:
    """Column values of the ``orders`` row for seed 002's order dict."""
    what = f"order {data.get('order_id', '?')}"
    check_keys(data, SEED_ORDER_KEYS, what)
    return {
        "order_id": str(required(data, "order_id", what)),
        "symbol": str(required(data, "symbol", what)),
        "side": order_side(required(data, "side", what)).value,
        "order_type": enum_value(OrderType, required(data, "order_type", what), "order type"),
        "quantity": required_money(data, "quantity", what),
        "price": money(data, "price", what),
        "status": order_status(required(data, "status", what)).value,
        "timestamp": time_or_now(data, what),
        "bot_name": bot_name,
    }


def seed_trade_values(data: Mapping[str, Any], bot_name: str) -> dict[str, Any]:
    """Column values of the ``trades`` row for seed 002's trade dict."""
    what = f"trade {data.get('trade_id', '?')}"
    check_keys(data, SEED_TRADE_KEYS, what)
    return {
        "trade_id": str(required(data, "trade_id", what)),
        "order_id": str(data.get("order_id") or ""),
        "symbol": str(required(data, "symbol", what)),
        "side": str(required(data, "side", what)).strip().lower(),
        "quantity": required_money(data, "quantity", what),
        "price": required_money(data, "price", what),
        "commission": money(data, "commission", what),
        "pnl": money(data, "pnl", what),
        "timestamp": time_or_now(data, what),
        "bot_name": bot_name,
    }
