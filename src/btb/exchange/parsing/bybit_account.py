"""Bybit V5 account payloads (orders, executions, positions, wallet, order acks) -> btb objects.

Same conventions as :mod:`btb.exchange.parsing.bybit`: whole REST answers or stream messages in,
translated btb errors for retCode != 0, DataError naming the field for malformed records.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from btb.core.account import AccountSnapshot
from btb.core.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from btb.core.fill import Fill
from btb.errors import DataError
from btb.exchange.parsing.bybit import (
    BYBIT_SIDES,
    Payload,
    bybit_items,
    bybit_result,
    bybit_side,
    check_bybit_ws_response,
)
from btb.exchange.parsing.values import (
    ZERO,
    AssetBalance,
    OrderAck,
    OrderSnapshot,
    PositionSnapshot,
    WalletSnapshot,
    field_of,
    ms_to_datetime,
    opt_decimal,
    opt_ms_to_datetime,
    price_or_none,
    to_decimal,
)

_STATUS = {
    "Created": OrderStatus.SUBMITTED,
    "New": OrderStatus.ACCEPTED,
    "Active": OrderStatus.ACCEPTED,
    "Untriggered": OrderStatus.ACCEPTED,
    "Triggered": OrderStatus.ACCEPTED,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,
    "Deactivated": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
}
_TIF = {
    "": TimeInForce.GTC,
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}
_TAKE_PROFIT_KINDS = frozenset({"TakeProfit", "PartialTakeProfit"})
#: Executions that change a position; Funding and Settle are cash flows, not trades.
_TRADE_EXEC_TYPES = frozenset({"Trade", "AdlTrade", "BustTrade", "BlockTrade", "Delivery"})
_CASH_EXEC_TYPES = frozenset({"Funding", "Settle"})


def _order_type(item: Payload, trigger: Decimal | None) -> OrderType:
    base = item.get("orderType")
    if base not in ("Market", "Limit"):
        raise DataError(f"Bybit order {item.get('orderId')}: unknown orderType {base!r}")
    if base == "Market" and trigger is not None:
        kind = item.get("stopOrderType")
        if kind in _TAKE_PROFIT_KINDS:
            return OrderType.TAKE_PROFIT_MARKET
        if kind in ("Stop", "", None) and str(item.get("triggerDirection")) in ("1", "2"):
            # A plain conditional order ("Stop") is a stop when it buys on a rise or sells
            # on a fall, a take-profit the other way round (btb's fill rules tell them apart).
            rises = str(item.get("triggerDirection")) == "1"
            buys = item.get("side") == "Buy"
            return OrderType.STOP_MARKET if rises == buys else OrderType.TAKE_PROFIT_MARKET
        return OrderType.STOP_MARKET
    # A conditional limit order stays LIMIT with its trigger_price kept on the snapshot.
    return OrderType.MARKET if base == "Market" else OrderType.LIMIT


def parse_bybit_order(item: Payload) -> OrderSnapshot:
    """One order record (``/v5/order/realtime``, ``/history`` or the ``order`` topic)."""
    order_id = str(field_of(item, "orderId", "Bybit order"))
    what = f"Bybit order {order_id}"
    status_text = field_of(item, "orderStatus", what)
    if status_text not in _STATUS:
        raise DataError(f"{what}: unknown orderStatus {status_text!r}")
    trigger = price_or_none(item.get("triggerPrice"), f"{what} triggerPrice")
    filled = opt_decimal(item.get("cumExecQty"), f"{what} cumExecQty") or ZERO
    quantity = to_decimal(item.get("qty"), f"{what} qty")
    if item.get("marketUnit") == "quoteCoin":
        quantity = filled  # sized in quote coin: the base quantity is what traded
    return OrderSnapshot(
        symbol=str(field_of(item, "symbol", what)),
        side=bybit_side(item.get("side"), what),
        order_type=_order_type(item, trigger),
        status=_STATUS[status_text],
        quantity=quantity,
        client_order_id=str(item.get("orderLinkId") or ""),
        exchange_order_id=order_id,
        price=price_or_none(item.get("price"), f"{what} price"),
        trigger_price=trigger,
        filled_qty=filled,
        avg_fill_price=price_or_none(item.get("avgPrice"), f"{what} avgPrice"),
        fee=opt_decimal(item.get("cumExecFee"), f"{what} cumExecFee") or ZERO,
        reduce_only=bool(item.get("reduceOnly", False)),
        time_in_force=_TIF.get(str(item.get("timeInForce", "")), TimeInForce.GTC),
        stop_loss=price_or_none(item.get("stopLoss"), f"{what} stopLoss"),
        take_profit=price_or_none(item.get("takeProfit"), f"{what} takeProfit"),
        created_at=opt_ms_to_datetime(item.get("createdTime"), f"{what} createdTime"),
        updated_at=opt_ms_to_datetime(item.get("updatedTime"), f"{what} updatedTime"),
        reject_reason=_reject_reason(item),
    )


def _reject_reason(item: Payload) -> str:
    reason = str(item.get("rejectReason") or "")
    return "" if reason in ("EC_NoError", "") else reason


def parse_bybit_orders(payload: Payload) -> list[OrderSnapshot]:
    """Order list answer or ``order`` stream message -> snapshots."""
    return [parse_bybit_order(item) for item in bybit_items(payload, "Bybit orders")]


def _fee_currency(item: Payload, side: Side, category: str) -> str:
    if item.get("feeCurrency"):
        return str(item["feeCurrency"])
    symbol = str(item.get("symbol", ""))
    quote = next((q for q in ("USDT", "USDC", "USDE", "BTC", "ETH") if symbol.endswith(q)), "")
    if category == "spot" and side is Side.BUY and quote:
        return symbol[: -len(quote)]  # spot buys pay the fee in the coin received
    if symbol.endswith("PERP"):
        return "USDC"
    return quote or "USDT"


def parse_bybit_execution(item: Payload, category: str | None = None) -> Fill | None:
    """One execution -> Fill; None for cash-flow executions (Funding, Settle)."""
    exec_id = str(field_of(item, "execId", "Bybit execution"))
    what = f"Bybit execution {exec_id}"
    exec_type = str(item.get("execType", "Trade"))
    if exec_type in _CASH_EXEC_TYPES:
        return None
    if exec_type not in _TRADE_EXEC_TYPES:
        raise DataError(f"{what}: unknown execType {exec_type!r}")
    if "execFee" not in item:
        raise DataError(f"{what}: no execFee (execution.fast carries none; use 'execution')")
    side = bybit_side(item.get("side"), what)
    return Fill(
        client_order_id=str(item.get("orderLinkId") or ""),
        symbol=str(field_of(item, "symbol", what)),
        side=side,
        quantity=to_decimal(item.get("execQty"), f"{what} execQty"),
        price=to_decimal(item.get("execPrice"), f"{what} execPrice"),
        fee=to_decimal(item.get("execFee"), f"{what} execFee"),
        ts=ms_to_datetime(field_of(item, "execTime", what), f"{what} execTime"),
        liquidity=LiquiditySide.MAKER if item.get("isMaker") else LiquiditySide.TAKER,
        trade_id=exec_id,
        exchange_order_id=str(item.get("orderId") or "") or None,
        fee_currency=_fee_currency(item, side, str(item.get("category") or category or "")),
    )


def parse_bybit_executions(payload: Payload) -> list[Fill]:
    """``/v5/execution/list`` or the ``execution`` topic -> fills (cash flows left out)."""
    category = None
    if "retCode" in payload:
        category = bybit_result(payload, "Bybit executions").get("category")
    fills = (parse_bybit_execution(i, category) for i in bybit_items(payload, "Bybit executions"))
    return [fill for fill in fills if fill is not None]


def parse_bybit_position(item: Payload) -> PositionSnapshot:
    """One ``/v5/position/list`` record or ``position`` topic record."""
    symbol = str(field_of(item, "symbol", "Bybit position"))
    what = f"Bybit position {symbol}"
    size = to_decimal(field_of(item, "size", what), f"{what} size")
    side = item.get("side")
    if size and side not in BYBIT_SIDES:
        raise DataError(f"{what}: size {size} with side {side!r}")
    signed = -size if side == "Sell" else size
    entry = item.get("avgPrice", item.get("entryPrice"))
    return PositionSnapshot(
        symbol=symbol,
        quantity=signed,
        entry_price=opt_decimal(entry, f"{what} avgPrice") or ZERO,
        leverage=opt_decimal(item.get("leverage"), f"{what} leverage") or Decimal(1),
        mark_price=price_or_none(item.get("markPrice"), f"{what} markPrice"),
        unrealized_pnl=opt_decimal(item.get("unrealisedPnl"), f"{what} unrealisedPnl") or ZERO,
        realized_pnl=opt_decimal(item.get("cumRealisedPnl"), f"{what} cumRealisedPnl") or ZERO,
        liquidation_price=price_or_none(item.get("liqPrice"), f"{what} liqPrice"),
        stop_loss=price_or_none(item.get("stopLoss"), f"{what} stopLoss"),
        take_profit=price_or_none(item.get("takeProfit"), f"{what} takeProfit"),
        updated_at=opt_ms_to_datetime(item.get("updatedTime"), f"{what} updatedTime"),
    )


def parse_bybit_positions(payload: Payload) -> list[PositionSnapshot]:
    """``/v5/position/list``, a ``position`` message or one bare record -> snapshots."""
    return [parse_bybit_position(item) for item in bybit_items(payload, "Bybit positions")]


def _asset_balance(coin: Payload) -> AssetBalance:
    name = str(field_of(coin, "coin", "Bybit wallet coin"))
    what = f"Bybit wallet {name}"
    total = to_decimal(field_of(coin, "walletBalance", what), f"{what} walletBalance")
    used = sum(
        (opt_decimal(coin.get(k), f"{what} {k}") or ZERO
         for k in ("totalPositionIM", "totalOrderIM", "locked")),
        ZERO,
    )  # fmt: skip
    # Margin can exceed the wallet (unrealised losses); what is free is then zero, not negative.
    return AssetBalance(name, total, max(total - used, ZERO), used)


def parse_bybit_wallet(payload: Payload) -> WalletSnapshot:
    """``/v5/account/wallet-balance`` or the ``wallet`` topic -> balances and account summary."""
    accounts = bybit_items(payload, "Bybit wallet")
    if not accounts:
        raise DataError("Bybit wallet: no account in the answer")
    acc = accounts[0]
    stamp = payload.get("time", payload.get("creationTime"))
    ts = opt_ms_to_datetime(stamp, "Bybit wallet time")
    assets = {b.asset: b for b in (_asset_balance(c) for c in acc.get("coin") or [])}
    account = None
    if ts is not None and acc.get("totalWalletBalance") not in (None, ""):
        upl = acc.get("totalPerpUPL", acc.get("totalPerpUpl"))
        account = AccountSnapshot(
            ts=ts,
            total_balance=to_decimal(acc["totalWalletBalance"], "Bybit totalWalletBalance"),
            available_balance=opt_decimal(acc.get("totalAvailableBalance"), "available") or ZERO,
            unrealized_pnl=opt_decimal(upl, "Bybit totalPerpUPL") or ZERO,
            total_margin=opt_decimal(acc.get("totalInitialMargin"), "initial margin") or ZERO,
        )
    return WalletSnapshot(ts=ts, assets=assets, account=account)


def parse_bybit_order_ack(payload: Payload) -> OrderAck:
    """``/v5/order/create`` or ``/cancel`` answer (REST, or stream ``order.create``) -> ids."""
    if "op" in payload:
        check_bybit_ws_response(payload)
        result: Mapping[str, Any] = payload.get("data") or {}
    else:
        result = bybit_result(payload, "Bybit order ack")
    return OrderAck(
        exchange_order_id=str(field_of(result, "orderId", "Bybit order ack")),
        client_order_id=str(result.get("orderLinkId") or ""),
    )


def parse_bybit_order_acks(payload: Payload) -> list[OrderAck]:
    """``/v5/order/cancel-all`` (or batch) answer -> the ids of every order it touched."""
    return [
        OrderAck(
            str(field_of(item, "orderId", "Bybit order ack")), str(item.get("orderLinkId") or "")
        )
        for item in bybit_items(payload, "Bybit order acks")
    ]
