"""Binance stream events (user-data and market streams, futures and spot) -> btb objects.

Events may arrive bare (``{"e": ...}``), wrapped by a combined stream
(``{"stream": ..., "data": {...}}``) or by the WebSocket API (``{"subscriptionId", "event"}``);
:func:`binance_event` removes either wrapper.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from btb.core.bar import Bar
from btb.core.enums import LiquiditySide, OrderStatus
from btb.core.fill import Fill
from btb.errors import DataError
from btb.exchange.parsing.binance import (
    STATUS,
    TIME_IN_FORCE,
    algo_order_snapshot,
    order_type,
    side_of,
)
from btb.exchange.parsing.binance_account import asset_balance
from btb.exchange.parsing.values import (
    ZERO,
    AssetBalance,
    OrderSnapshot,
    PositionSnapshot,
    Ticker,
    WalletSnapshot,
    field_of,
    ms_to_datetime,
    opt_decimal,
    opt_float,
    opt_ms_to_datetime,
    price_or_none,
    to_decimal,
)

Payload = Mapping[str, Any]

#: Liquidation-engine statuses: the order was created and matched by the venue itself.
_FORCED = frozenset({"NEW_INSURANCE", "NEW_ADL"})
#: Execution types that carry a trade (CALCULATED: liquidation, ADL, settlement fills).
_TRADE_EXECS = frozenset({"TRADE", "CALCULATED"})


def binance_event(message: Payload) -> Payload:
    """The event inside a combined-stream or WebSocket-API wrapper (or the message itself)."""
    for key in ("data", "event"):
        inner = message.get(key)
        if isinstance(inner, Mapping) and "e" in inner:
            return inner
    if "e" not in message:
        raise DataError(f"Binance stream: not an event (keys {sorted(message)[:6]})")
    return message


def _status(o: Payload, what: str) -> OrderStatus:
    status = str(field_of(o, "X", what))
    if status in _FORCED:
        done = to_decimal(o.get("z"), f"{what} z") >= to_decimal(o.get("q"), f"{what} q")
        return OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
    if status not in STATUS:
        raise DataError(f"{what}: unknown order status {status!r}")
    return STATUS[status]


def _fill_price(o: Payload, what: str) -> Decimal | None:
    """Last fill price; some venues' events carry L=0, then fall back to the averages."""
    for key in ("L", "ap"):
        price = price_or_none(o.get(key), f"{what} {key}")
        if price is not None:
            return price
    cum_qty = opt_decimal(o.get("z"), f"{what} z") or ZERO
    cum_quote = opt_decimal(o.get("Z"), f"{what} Z") or ZERO
    if cum_qty and cum_quote:
        return cum_quote / cum_qty
    return price_or_none(o.get("p"), f"{what} p")


def _order_fields(event: Payload) -> tuple[Payload, bool]:
    if event.get("e") == "ORDER_TRADE_UPDATE":
        return field_of(event, "o", "Binance ORDER_TRADE_UPDATE"), True
    if event.get("e") == "executionReport":
        return event, False
    raise DataError(f"Binance stream: {event.get('e')!r} is not an order update")


def parse_binance_order_update(message: Payload) -> tuple[OrderSnapshot, Fill | None]:
    """``ORDER_TRADE_UPDATE`` (futures) or ``executionReport`` (spot) -> (snapshot, fill).

    The fill is None unless the event reports a trade (execution type TRADE, or CALCULATED
    for liquidation/ADL/settlement) with a positive last quantity.
    """
    event = binance_event(message)
    o, futures = _order_fields(event)
    snapshot = _order_snapshot(o, futures, event)
    what = f"Binance order update {snapshot.exchange_order_id}"
    last_qty = opt_decimal(o.get("l"), f"{what} l") or ZERO
    if o.get("x") not in _TRADE_EXECS or last_qty <= 0:
        return snapshot, None
    price = _fill_price(o, what)
    if price is None:
        raise DataError(f"{what}: a fill of {last_qty} without any price")
    fill = Fill(
        client_order_id=snapshot.client_order_id,
        symbol=snapshot.symbol,
        side=snapshot.side,
        quantity=last_qty,
        price=price,
        fee=opt_decimal(o.get("n"), f"{what} n") or ZERO,
        ts=ms_to_datetime(o.get("T", event.get("E")), f"{what} T"),
        liquidity=LiquiditySide.MAKER if o.get("m") else LiquiditySide.TAKER,
        trade_id=str(o.get("t", "")),
        exchange_order_id=snapshot.exchange_order_id,
        fee_currency=str(o.get("N") or ""),
    )
    return snapshot, fill


def _order_snapshot(o: Payload, futures: bool, event: Payload) -> OrderSnapshot:
    order_id = str(field_of(o, "i", "Binance order update"))
    what = f"Binance order update {order_id}"
    reason = str(o.get("r") or "")
    avg = price_or_none(o.get("ap"), f"{what} ap")
    if avg is None and not futures:  # spot reports the cumulative quote instead
        cum_qty, cum_quote = (opt_decimal(o.get(k), f"{what} {k}") or ZERO for k in ("z", "Z"))
        avg = cum_quote / cum_qty if cum_qty and cum_quote else None
    return OrderSnapshot(
        symbol=str(field_of(o, "s", what)),
        side=side_of(o.get("S"), what),
        order_type=order_type(o.get("o"), futures=futures, what=what),
        status=_status(o, what),
        quantity=to_decimal(o.get("q"), f"{what} q"),
        client_order_id=str(o.get("c") or ""),
        exchange_order_id=order_id,
        price=price_or_none(o.get("p"), f"{what} p"),
        trigger_price=price_or_none(o.get("sp" if futures else "P"), f"{what} stop"),
        filled_qty=opt_decimal(o.get("z"), f"{what} z") or ZERO,
        avg_fill_price=avg,
        reduce_only=bool(o.get("R", False)),
        time_in_force=TIME_IN_FORCE.get(str(o.get("f", "GTC")), TIME_IN_FORCE["GTC"]),
        created_at=opt_ms_to_datetime(o.get("O"), f"{what} O"),
        updated_at=opt_ms_to_datetime(o.get("T", event.get("E")), f"{what} T"),
        reject_reason="" if reason in ("", "NONE") else reason,
    )


def parse_binance_algo_update(message: Payload) -> OrderSnapshot:
    """``ALGO_UPDATE`` (futures conditional orders) -> snapshot."""
    event = binance_event(message)
    o = field_of(event, "o", "Binance ALGO_UPDATE")
    fields = {
        "algoId": o.get("aid"), "clientAlgoId": o.get("caid"), "type": o.get("o"),
        "symbol": o.get("s"), "side": o.get("S"), "quantity": o.get("q"),
        "algoStatus": o.get("X"), "triggerPrice": o.get("tp"), "price": o.get("p"),
        "executedQty": o.get("aq"), "avgPrice": o.get("ap"), "reduceOnly": o.get("R"),
        "timeInForce": o.get("f"), "updateTime": event.get("T"),
    }  # fmt: skip
    return algo_order_snapshot(fields, f"Binance algo update {o.get('aid')}")


def parse_binance_account_update(message: Payload) -> tuple[WalletSnapshot, list[PositionSnapshot]]:
    """``ACCOUNT_UPDATE`` (futures) or ``outboundAccountPosition`` (spot) -> balances, positions.

    The futures event carries no available balance: ``free`` is the cross wallet balance
    (``cw``), ``used`` the rest of the wallet (isolated margin).
    """
    event = binance_event(message)
    kind = event.get("e")
    ts = ms_to_datetime(event.get("E"), f"Binance {kind} E")
    if kind == "outboundAccountPosition":
        assets = {}
        for b in event.get("B") or []:
            free, locked = to_decimal(b.get("f"), "free"), to_decimal(b.get("l"), "locked")
            assets[str(b["a"])] = AssetBalance(str(b["a"]), free + locked, free, locked)
        return WalletSnapshot(ts=ts, assets=assets), []
    if kind != "ACCOUNT_UPDATE":
        raise DataError(f"Binance stream: {kind!r} is not an account update")
    data = field_of(event, "a", "Binance ACCOUNT_UPDATE")
    balances = {}
    for b in data.get("B") or []:
        total = to_decimal(b.get("wb"), f"Binance {b.get('a')} wb")
        balances[str(b["a"])] = asset_balance(str(b["a"]), total, to_decimal(b.get("cw"), "cw"))
    positions = [
        PositionSnapshot(
            symbol=str(p["s"]),
            quantity=to_decimal(p.get("pa"), f"Binance position {p.get('s')} pa"),
            entry_price=to_decimal(p.get("ep"), f"Binance position {p.get('s')} ep"),
            unrealized_pnl=opt_decimal(p.get("up"), "up") or ZERO,
            realized_pnl=opt_decimal(p.get("cr"), "cr") or ZERO,
            updated_at=ts,
        )
        for p in data.get("P") or []
    ]
    return WalletSnapshot(ts=ts, assets=balances), positions


def parse_binance_ws_kline(message: Payload) -> tuple[Bar, bool]:
    """A ``kline`` event -> (bar, closed)."""
    event = binance_event(message)
    k = field_of(event, "k", "Binance kline event")
    what = f"Binance kline event {k.get('s')}"
    bar = Bar(
        str(k["s"]), str(k["i"]), ms_to_datetime(k.get("t"), what), float(k["o"]),
        float(k["h"]), float(k["l"]), float(k["c"]), float(k["v"]),
    )  # fmt: skip
    return bar, bool(k.get("x", False))


def parse_binance_ws_ticker(message: Payload) -> Ticker:
    """A ``24hrTicker`` event -> Ticker."""
    event = binance_event(message)
    symbol = str(field_of(event, "s", "Binance 24hrTicker"))
    return Ticker(
        symbol=symbol,
        last=float(to_decimal(event.get("c"), f"Binance 24hrTicker {symbol} c")),
        bid=opt_float(event.get("b")),
        ask=opt_float(event.get("a")),
        high_24h=opt_float(event.get("h")),
        low_24h=opt_float(event.get("l")),
        volume_24h=opt_float(event.get("v")),
        ts=opt_ms_to_datetime(event.get("E"), "Binance 24hrTicker E"),
    )
