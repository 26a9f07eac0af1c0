"""The one place where rows become btb.core objects and back.

Writers accept a btb.core object or, for seed 002 compatibility, a plain dict with seed
002's keys (values may be floats, upper-case exchange strings such as ``"BUY"``/``"NEW"``,
ISO strings or epoch milliseconds; a naive time is taken as UTC, the seed's convention).
Readers rebuild core objects from the stored state; they assign the persisted status
directly instead of replaying events, because the events themselves are not stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import RowMapping

from btb.core.account import AccountSnapshot
from btb.core.enums import (
    ExitReason,
    LiquiditySide,
    MarketType,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from btb.core.fill import Fill
from btb.core.order import Order
from btb.core.position import Position
from btb.core.trade import Trade
from btb.database.types import to_decimal
from btb.errors import DataError

# Exchange / ccxt spellings -> btb's lower-case enum values.
_STATUS_ALIASES = {
    "new": OrderStatus.ACCEPTED,
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELED,
    "partially_filled_canceled": OrderStatus.CANCELED,
}
_SIDE_ALIASES = {"long": Side.BUY, "short": Side.SELL, "b": Side.BUY, "s": Side.SELL}
_SEED_ORDER_KEYS = frozenset(
    {"order_id", "symbol", "side", "order_type", "quantity", "price", "status", "timestamp"}
)
_SEED_TRADE_KEYS = frozenset(
    {"trade_id", "order_id", "symbol", "side", "quantity", "price", "commission", "pnl"}
    | {"timestamp"}
)
_SEED_SNAPSHOT_KEYS = frozenset(
    {"total_balance", "available_balance", "total_pnl", "total_margin", "timestamp"}
    | {"unrealized_pnl"}
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


def order_status(value: Any) -> OrderStatus:
    """OrderStatus from btb, exchange (``NEW``) or ccxt (``open``) spellings."""
    text = str(value).strip().lower()
    try:
        return _STATUS_ALIASES.get(text) or OrderStatus(text)
    except ValueError:
        raise DataError(f"unknown order status {value!r}") from None


def order_side(value: Any) -> Side:
    """Side from ``buy``/``BUY``/``Buy`` (and ``long``/``short``)."""
    text = str(value).strip().lower()
    try:
        return _SIDE_ALIASES.get(text) or Side(text)
    except ValueError:
        raise DataError(f"unknown order side {value!r}") from None


def _enum_value(enum_type: Any, value: Any, what: str) -> Any:
    try:
        return enum_type(str(value).strip().lower())
    except ValueError:
        raise DataError(f"unknown {what} {value!r}") from None


def _check_keys(data: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DataError(f"{what}: unknown keys {unknown}; expected some of {sorted(allowed)}")


def _money(data: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return to_decimal(value, what=f"{what}.{key}")
    except (TypeError, ValueError) as exc:
        raise DataError(str(exc)) from None


def _required_money(data: Mapping[str, Any], key: str, what: str) -> Decimal:
    _required(data, key, what)
    value = _money(data, key, what)
    assert value is not None
    return value


def _required(data: Mapping[str, Any], key: str, what: str) -> Any:
    if data.get(key) is None:
        raise DataError(f"{what}: missing {key!r}")
    return data[key]


# --- orders -------------------------------------------------------------------------------


def order_values(order: Order | Mapping[str, Any], bot_name: str) -> dict[str, Any]:
    """Column values of the ``orders`` row for ``order`` (an Order or a seed 002 dict)."""
    if not isinstance(order, Order):
        return _seed_order_values(order, bot_name)
    return {
        "order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "quantity": order.quantity,
        "price": order.price,
        "status": order.status.value,
        "timestamp": order.created_at or order.updated_at or datetime.now(UTC),
        "bot_name": bot_name,
        "exchange_order_id": order.exchange_order_id,
        "filled_qty": order.filled_qty,
        "avg_fill_price": order.avg_fill_price,
        "trigger_price": order.trigger_price,
        "reduce_only": order.reduce_only,
        "time_in_force": order.time_in_force.value,
        "stop_loss": order.stop_loss,
        "take_profit": order.take_profit,
        "tag": order.tag,
        "reject_reason": order.reject_reason,
        "updated_at": order.updated_at,
    }


def _seed_order_values(data: Mapping[str, Any], bot_name: str) -> dict[str, Any]:
    what = f"order {data.get('order_id', '?')}"
    _check_keys(data, _SEED_ORDER_KEYS, what)
    ts = data.get("timestamp")
    return {
        "order_id": str(_required(data, "order_id", what)),
        "symbol": str(_required(data, "symbol", what)),
        "side": order_side(_required(data, "side", what)).value,
        "order_type": _enum_value(OrderType, _required(data, "order_type", what), "order type"),
        "quantity": _required_money(data, "quantity", what),
        "price": _money(data, "price", what),
        "status": order_status(_required(data, "status", what)).value,
        "timestamp": parse_time(ts, what=f"{what}.timestamp") if ts else datetime.now(UTC),
        "bot_name": bot_name,
    }


def order_from_row(row: RowMapping, fills: list[Fill] | None = None) -> Order:
    """Rebuild an Order (status, fills and all) from its ``orders`` row."""
    return Order(
        client_order_id=row["order_id"],
        symbol=row["symbol"],
        side=order_side(row["side"]),
        order_type=_enum_value(OrderType, row["order_type"], "order type"),
        quantity=row["quantity"],
        price=row["price"],
        trigger_price=row["trigger_price"],
        reduce_only=bool(row["reduce_only"]),
        time_in_force=_enum_value(TimeInForce, row["time_in_force"], "time in force"),
        created_at=row["timestamp"],
        stop_loss=row["stop_loss"],
        take_profit=row["take_profit"],
        tag=row["tag"],
        status=order_status(row["status"]),
        exchange_order_id=row["exchange_order_id"],
        filled_qty=row["filled_qty"],
        avg_fill_price=row["avg_fill_price"],
        fills=list(fills or []),
        updated_at=row["updated_at"],
        reject_reason=row["reject_reason"],
    )


def order_dict(row: RowMapping) -> dict[str, Any]:
    """Seed 002's order dict (its eight keys) plus ``bot_name`` and the fill state."""
    keys = [*sorted(_SEED_ORDER_KEYS), "bot_name", "filled_qty", "avg_fill_price"]
    return {key: row[key] for key in keys}


# --- fills --------------------------------------------------------------------------------


def fill_id(order: Order, fill: Fill) -> str:
    """The execution id that makes storing a fill idempotent.

    The venue's trade id when it has one; otherwise the order id and the fill's position in
    the order (1-based), which is the same every time the same fill is stored.
    """
    if fill.trade_id:
        return fill.trade_id
    number = next((i for i, f in enumerate(order.fills, 1) if f is fill), len(order.fills))
    return f"{order.client_order_id}:{number}"


def fill_values(order: Order, fill: Fill, bot_name: str) -> dict[str, Any]:
    """Column values of the ``fills`` row for ``fill`` of ``order``."""
    return {
        "fill_id": fill_id(order, fill),
        "order_id": fill.client_order_id,
        "bot_name": bot_name,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": fill.quantity,
        "price": fill.price,
        "fee": fill.fee,
        "fee_currency": fill.fee_currency,
        "liquidity": fill.liquidity.value,
        "exchange_order_id": fill.exchange_order_id,
        "timestamp": fill.ts,
    }


def fill_from_row(row: RowMapping) -> Fill:
    """Rebuild a Fill from its ``fills`` row (``trade_id`` is the stored execution id)."""
    return Fill(
        client_order_id=row["order_id"],
        symbol=row["symbol"],
        side=order_side(row["side"]),
        quantity=row["quantity"],
        price=row["price"],
        fee=row["fee"],
        ts=row["timestamp"],
        liquidity=_enum_value(LiquiditySide, row["liquidity"], "liquidity"),
        trade_id=row["fill_id"],
        exchange_order_id=row["exchange_order_id"],
        fee_currency=row["fee_currency"],
    )


# --- trades -------------------------------------------------------------------------------


def trade_values(
    trade: Trade | Mapping[str, Any], bot_name: str, order_id: str = ""
) -> dict[str, Any]:
    """Column values of the ``trades`` row (a core round trip or a seed 002 trade dict).

    A round trip is stored with ``price`` = exit price, ``commission`` = all fees and
    ``pnl`` = net P&L, dated at its exit: the seed's reports then count it on the day it
    closed.
    """
    if not isinstance(trade, Trade):
        return _seed_trade_values(trade, bot_name)
    return {
        "trade_id": trade.trade_id,
        "order_id": order_id,
        "symbol": trade.symbol,
        "side": trade.side.value,
        "quantity": trade.quantity,
        "price": trade.exit_price,
        "commission": trade.fees,
        "pnl": trade.net_pnl,
        "timestamp": trade.exit_time,
        "bot_name": bot_name,
        "entry_time": trade.entry_time,
        "entry_price": trade.entry_price,
        "gross_pnl": trade.gross_pnl,
        "exit_reason": trade.exit_reason.value,
    }


def _seed_trade_values(data: Mapping[str, Any], bot_name: str) -> dict[str, Any]:
    what = f"trade {data.get('trade_id', '?')}"
    _check_keys(data, _SEED_TRADE_KEYS, what)
    ts = data.get("timestamp")
    return {
        "trade_id": str(_required(data, "trade_id", what)),
        "order_id": str(data.get("order_id") or ""),
        "symbol": str(_required(data, "symbol", what)),
        "side": str(_required(data, "side", what)).strip().lower(),
        "quantity": _required_money(data, "quantity", what),
        "price": _required_money(data, "price", what),
        "commission": _money(data, "commission", what),
        "pnl": _money(data, "pnl", what),
        "timestamp": parse_time(ts, what=f"{what}.timestamp") if ts else datetime.now(UTC),
        "bot_name": bot_name,
    }


def trade_from_row(row: RowMapping) -> Trade | None:
    """The round trip a ``trades`` row records, or None for a seed-style execution row."""
    if row["entry_time"] is None or row["entry_price"] is None or row["gross_pnl"] is None:
        return None
    return Trade(
        trade_id=row["trade_id"],
        symbol=row["symbol"],
        side=_enum_value(PositionSide, row["side"], "position side"),
        quantity=row["quantity"],
        entry_time=row["entry_time"],
        entry_price=row["entry_price"],
        exit_time=row["timestamp"],
        exit_price=row["price"],
        gross_pnl=row["gross_pnl"],
        fees=row["commission"] or Decimal(0),
        exit_reason=_enum_value(ExitReason, row["exit_reason"] or "manual", "exit reason"),
    )


def trade_dict(row: RowMapping) -> dict[str, Any]:
    """Seed 002's trade dict (its nine keys) plus ``bot_name``."""
    return {key: row[key] for key in [*sorted(_SEED_TRADE_KEYS), "timestamp", "bot_name"]}


# --- positions ----------------------------------------------------------------------------


def position_values(
    position: Position, bot_name: str, ts: datetime, mark: Decimal | None = None
) -> dict[str, Any]:
    """Column values of a ``positions`` row: the position after a change, at time ``ts``."""
    return {
        "symbol": position.symbol,
        "side": position.side.value,
        "quantity": position.quantity,
        "entry_price": position.avg_entry_price,
        "current_price": mark,
        "unrealized_pnl": position.unrealized_pnl(mark) if mark is not None else None,
        "margin": position.margin,
        "timestamp": ts,
        "bot_name": bot_name,
        "market_type": position.market_type.value,
        "leverage": position.leverage,
        "realized_pnl": position.realized_pnl,
        "fees_paid": position.fees_paid,
        "opened_at": position.opened_at,
    }


def position_from_row(row: RowMapping) -> Position:
    """Rebuild a Position (without its fill list) from a ``positions`` row.

    Rows written by seed 002 hold an unsigned quantity and a side; btb stores the sign.
    """
    quantity: Decimal = row["quantity"]
    if str(row["side"]).strip().lower() in ("short", "sell") and quantity > 0:
        quantity = -quantity
    return Position(
        symbol=row["symbol"],
        market_type=_enum_value(MarketType, row["market_type"], "market type"),
        leverage=row["leverage"],
        quantity=quantity,
        avg_entry_price=row["entry_price"],
        realized_pnl=row["realized_pnl"],
        fees_paid=row["fees_paid"],
        opened_at=row["opened_at"],
    )


# --- account snapshots --------------------------------------------------------------------


def snapshot_values(snapshot: AccountSnapshot | Mapping[str, Any], bot_name: str) -> dict[str, Any]:
    """Column values of an ``account_snapshot`` row."""
    if isinstance(snapshot, AccountSnapshot):
        data: Mapping[str, Any] = {
            "total_balance": snapshot.total_balance,
            "available_balance": snapshot.available_balance,
            "total_pnl": snapshot.total_pnl,
            "total_margin": snapshot.total_margin,
            "unrealized_pnl": snapshot.unrealized_pnl,
            "timestamp": snapshot.ts,
        }
    else:
        data = snapshot
    what = "account snapshot"
    _check_keys(data, _SEED_SNAPSHOT_KEYS, what)
    ts = data.get("timestamp")
    values: dict[str, Any] = {
        key: _money(data, key, what) for key in _SEED_SNAPSHOT_KEYS - {"timestamp"}
    }
    for key in ("total_balance", "available_balance"):
        _required(values, key, what)
    values["timestamp"] = parse_time(ts) if ts else datetime.now(UTC)
    values["bot_name"] = bot_name
    return values


def snapshot_from_row(row: RowMapping) -> AccountSnapshot:
    """Rebuild an AccountSnapshot; columns the seed left NULL read as zero."""
    zero = Decimal(0)
    return AccountSnapshot(
        ts=row["timestamp"],
        total_balance=row["total_balance"],
        available_balance=row["available_balance"],
        unrealized_pnl=row["unrealized_pnl"] or zero,
        total_margin=row["total_margin"] or zero,
        total_pnl=row["total_pnl"] or zero,
    )


def loads_json(text: str | None) -> Any:
    """Decode a JSON column; text that is not JSON (written by seed 002) comes back as is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
