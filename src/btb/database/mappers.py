"""The one place where rows become btb.core objects and back.

Writers accept a btb.core object or, for seed 002 compatibility, a plain dict with seed
002's keys (read by :mod:`btb.database.seed_input`). Readers rebuild core objects from the
stored state; they assign the persisted status directly instead of replaying events, because
the events themselves are not stored.
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
    OrderType,
    PositionSide,
    TimeInForce,
)
from btb.core.fill import Fill
from btb.core.order import Order
from btb.core.position import Position
from btb.core.trade import Trade
from btb.database.seed_input import (
    SEED_ORDER_KEYS,
    SEED_TRADE_KEYS,
    check_keys,
    enum_value,
    money,
    order_side,
    order_status,
    parse_time,
    required,
    seed_order_values,
    seed_trade_values,
)

_SEED_SNAPSHOT_KEYS = frozenset(
    {"total_balance", "available_balance", "total_pnl", "total_margin", "timestamp"}
    | {"unrealized_pnl"}
)


# --- orders -------------------------------------------------------------------------------


def order_values(order: Order | Mapping[str, Any], bot_name: str) -> dict[str, Any]:
    """Column values of the ``orders`` row for ``order`` (an Order or a seed 002 dict)."""
    if not isinstance(order, Order):
        return seed_order_values(order, bot_name)
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


def order_from_row(row: RowMapping, fills: list[Fill] | None = None) -> Order:
    """Rebuild an Order (status, fills and all) from its ``orders`` row."""
    return Order(
        client_order_id=row["order_id"],
        symbol=row["symbol"],
        side=order_side(row["side"]),
        order_type=enum_value(OrderType, row["order_type"], "order type"),
        quantity=row["quantity"],
        price=row["price"],
        trigger_price=row["trigger_price"],
        reduce_only=bool(row["reduce_only"]),
        time_in_force=enum_value(TimeInForce, row["time_in_force"], "time in force"),
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
    keys = [*sorted(SEED_ORDER_KEYS), "bot_name", "filled_qty", "avg_fill_price"]
    return {key: row[key] for key in keys}


# --- fills --------------------------------------------------------------------------------


def fill_id(order: Order, fill: Fill) -> str:
    """The execution id that makes storing a fill idempotent: ``<client order id>:<venue
    trade id>``, or ``<client order id>#<n>`` for the n-th fill (1-based) of an order whose
    venue gave no trade id.

    The venue's trade id alone is not unique: Binance numbers trades per symbol, and both
    sides of one match (two accounts, two bots) get the same id. Within one order it is.
    """
    if fill.trade_id:
        return f"{order.client_order_id}:{fill.trade_id}"
    number = next((i for i, f in enumerate(order.fills, 1) if f is fill), len(order.fills))
    return f"{order.client_order_id}#{number}"


def _venue_trade_id(order_id: str, stored: str) -> str:
    """The venue trade id inside a stored :func:`fill_id` ("" for a numbered fill)."""
    if stored.startswith(f"{order_id}:"):
        return stored[len(order_id) + 1 :]
    return "" if stored.startswith(f"{order_id}#") else stored


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
    """Rebuild a Fill from its ``fills`` row (with the venue's trade id, "" if it had none)."""
    return Fill(
        client_order_id=row["order_id"],
        symbol=row["symbol"],
        side=order_side(row["side"]),
        quantity=row["quantity"],
        price=row["price"],
        fee=row["fee"],
        ts=row["timestamp"],
        liquidity=enum_value(LiquiditySide, row["liquidity"], "liquidity"),
        trade_id=_venue_trade_id(row["order_id"], row["fill_id"]),
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
        return seed_trade_values(trade, bot_name)
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


def trade_from_row(row: RowMapping) -> Trade | None:
    """The round trip a ``trades`` row records, or None for a seed-style execution row."""
    if row["entry_time"] is None or row["entry_price"] is None or row["gross_pnl"] is None:
        return None
    return Trade(
        trade_id=row["trade_id"],
        symbol=row["symbol"],
        side=enum_value(PositionSide, row["side"], "position side"),
        quantity=row["quantity"],
        entry_time=row["entry_time"],
        entry_price=row["entry_price"],
        exit_time=row["timestamp"],
        exit_price=row["price"],
        gross_pnl=row["gross_pnl"],
        fees=row["commission"] or Decimal(0),
        exit_reason=enum_value(ExitReason, row["exit_reason"] or "manual", "exit reason"),
    )


def trade_dict(row: RowMapping) -> dict[str, Any]:
    """Seed 002's trade dict (its nine keys) plus ``bot_name``."""
    return {key: row[key] for key in [*sorted(SEED_TRADE_KEYS), "timestamp", "bot_name"]}


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
        market_type=enum_value(MarketType, row["market_type"], "market type"),
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
    check_keys(data, _SEED_SNAPSHOT_KEYS, what)
    ts = data.get("timestamp")
    values: dict[str, Any] = {
        key: money(data, key, what) for key in _SEED_SNAPSHOT_KEYS - {"timestamp"}
    }
    for key in ("total_balance", "available_balance"):
        required(values, key, what)
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
