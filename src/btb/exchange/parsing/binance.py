"""Binance REST payloads (USDⓈ-M futures ``/fapi`` and spot ``/api``) -> btb objects.

Futures and spot answers share most field names; where they differ (order types, average
price, trade side flags) the record's own keys decide. Stream events live in
:mod:`btb.exchange.parsing.binance_stream`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from btb.core.bar import Bar
from btb.core.enums import LiquiditySide, MarketType, OrderStatus, OrderType, Side, TimeInForce
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.errors import DataError
from btb.exchange.parsing.values import (
    ZERO,
    FeeRate,
    OrderSnapshot,
    Ticker,
    field_of,
    ms_to_datetime,
    opt_decimal,
    opt_float,
    opt_ms_to_datetime,
    price_or_none,
    to_decimal,
)

Payload = Mapping[str, Any]
log = logging.getLogger(__name__)

STATUS = {
    "NEW": OrderStatus.ACCEPTED,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.PENDING_CANCEL,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
TIME_IN_FORCE = {
    "GTC": TimeInForce.GTC,
    "GTD": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
}
SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
# Futures "TAKE_PROFIT"/"STOP" are trigger-LIMIT orders; spot "TAKE_PROFIT"/"STOP_LOSS" are
# trigger-MARKET orders. Trigger-limit kinds map to LIMIT with trigger_price set.
_FUTURES_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP": OrderType.LIMIT,
    "TAKE_PROFIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TRAILING_STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
}
_SPOT_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "STOP_LOSS": OrderType.STOP_MARKET,
    "STOP_LOSS_LIMIT": OrderType.LIMIT,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_MARKET,
    "TAKE_PROFIT_LIMIT": OrderType.LIMIT,
}
#: exchangeInfo carries no leverage brackets; 20x is Binance's default initial leverage.
DEFAULT_LINEAR_MAX_LEVERAGE = 20
DEFAULT_FEES = {
    MarketType.LINEAR: FeeRate("*", Decimal("0.0002"), Decimal("0.0005")),
    MarketType.SPOT: FeeRate("*", Decimal("0.001"), Decimal("0.001")),
}


def order_type(name: Any, *, futures: bool, what: str) -> OrderType:
    """A Binance order type as btb OrderType (futures and spot differ, see above)."""
    table = _FUTURES_TYPES if futures else _SPOT_TYPES
    try:
        return table[name]
    except KeyError:
        raise DataError(f"{what}: unknown order type {name!r}") from None


def side_of(value: Any, what: str) -> Side:
    """ "BUY"/"SELL" as Side; DataError naming ``what`` otherwise."""
    try:
        return SIDES[value]
    except KeyError:
        raise DataError(f"{what}: unknown side {value!r}") from None


def _filters(item: Payload) -> dict[str, Mapping[str, Any]]:
    return {f["filterType"]: f for f in item.get("filters") or [] if "filterType" in f}


def parse_binance_instrument(
    item: Payload, fees: Mapping[str, FeeRate] | None = None
) -> Instrument:
    """One ``exchangeInfo.symbols`` record: USDⓈ-M futures (has contractType) or spot."""
    symbol = str(field_of(item, "symbol", "Binance exchangeInfo symbol"))
    what = f"Binance instrument {symbol}"
    filters = _filters(item)
    price_filter = field_of(filters, "PRICE_FILTER", what)
    lot = field_of(filters, "LOT_SIZE", what)
    notional = filters.get("MIN_NOTIONAL") or filters.get("NOTIONAL") or {}
    min_notional = notional.get("notional", notional.get("minNotional"))
    market = MarketType.LINEAR if "contractType" in item else MarketType.SPOT
    mmr = opt_decimal(item.get("maintMarginPercent"), f"{what} maintMarginPercent")
    rate = (fees or {}).get(symbol, DEFAULT_FEES[market])
    return Instrument(
        symbol=symbol,
        base=str(field_of(item, "baseAsset", what)),
        quote=str(field_of(item, "quoteAsset", what)),
        market_type=market,
        tick_size=to_decimal(price_filter.get("tickSize"), f"{what} tickSize"),
        lot_step=to_decimal(lot.get("stepSize"), f"{what} stepSize"),
        min_qty=to_decimal(lot.get("minQty"), f"{what} minQty"),
        min_notional=opt_decimal(min_notional, f"{what} min notional") or ZERO,
        max_qty=opt_decimal(lot.get("maxQty"), f"{what} maxQty"),
        max_leverage=DEFAULT_LINEAR_MAX_LEVERAGE if market is MarketType.LINEAR else 1,
        maker_fee=rate.maker,
        taker_fee=rate.taker,
        maintenance_margin_rate=mmr / 100 if mmr else Decimal("0.005"),
    )


def parse_binance_exchange_info(
    payload: Payload, fees: Mapping[str, FeeRate] | None = None
) -> list[Instrument]:
    """``exchangeInfo`` -> instruments in status TRADING.

    A symbol without PRICE_FILTER/LOT_SIZE cannot be traded safely (no tick or lot step to
    round to): it is left out with a warning naming it, not guessed.
    """
    out = []
    for item in field_of(payload, "symbols", "Binance exchangeInfo"):
        if item.get("status") != "TRADING":
            continue
        filters = _filters(item)
        if "PRICE_FILTER" not in filters or "LOT_SIZE" not in filters:
            log.warning("Binance %s has no PRICE_FILTER/LOT_SIZE; left out", item.get("symbol"))
            continue
        out.append(parse_binance_instrument(item, fees))
    return out


def parse_binance_klines(
    payload: Sequence[Sequence[Any]], symbol: str, timeframe: str
) -> list[Bar]:
    """``/klines`` rows ``[openTime, o, h, l, c, volume, closeTime, ...]`` -> bars, oldest first."""
    bars = []
    for row in payload:
        what = f"Binance kline {symbol} row {row!r}"
        if len(row) < 6:
            raise DataError(f"{what}: expected [openTime, open, high, low, close, volume, ...]")
        bars.append(
            Bar(symbol, timeframe, ms_to_datetime(row[0], what), float(row[1]), float(row[2]),
                float(row[3]), float(row[4]), float(row[5]))
        )  # fmt: skip
    return sorted(bars, key=lambda bar: bar.open_time)


def _avg_price(item: Payload, what: str) -> Decimal | None:
    avg = price_or_none(item.get("avgPrice"), f"{what} avgPrice")
    if avg is None and "cummulativeQuoteQty" in item:  # spot reports the quote total instead
        filled = opt_decimal(item.get("executedQty"), f"{what} executedQty") or ZERO
        quote = opt_decimal(item.get("cummulativeQuoteQty"), f"{what} cummulativeQuoteQty")
        avg = quote / filled if filled and quote else None
    return avg


def parse_binance_order(item: Payload) -> OrderSnapshot:
    """One order (query, open orders, new order, cancel answer; futures or spot)."""
    order_id = str(field_of(item, "orderId", "Binance order"))
    what = f"Binance order {order_id}"
    futures = "positionSide" in item or "reduceOnly" in item
    kind = item.get("type")
    status = field_of(item, "status", what)
    if status not in STATUS:
        raise DataError(f"{what}: unknown status {status!r}")
    tif = (
        TimeInForce.POST_ONLY
        if kind == "LIMIT_MAKER"
        else TIME_IN_FORCE.get(str(item.get("timeInForce", "GTC")), TimeInForce.GTC)
    )
    created = item.get("time", item.get("transactTime"))
    return OrderSnapshot(
        symbol=str(field_of(item, "symbol", what)),
        side=side_of(item.get("side"), what),
        order_type=order_type(kind, futures=futures, what=what),
        status=STATUS[status],
        quantity=to_decimal(item.get("origQty"), f"{what} origQty"),
        client_order_id=str(item.get("clientOrderId") or ""),
        exchange_order_id=order_id,
        price=price_or_none(item.get("price"), f"{what} price"),
        trigger_price=price_or_none(item.get("stopPrice"), f"{what} stopPrice"),
        filled_qty=opt_decimal(item.get("executedQty"), f"{what} executedQty") or ZERO,
        avg_fill_price=_avg_price(item, what),
        reduce_only=bool(item.get("reduceOnly", False)),
        time_in_force=tif,
        created_at=opt_ms_to_datetime(created, f"{what} time"),
        updated_at=opt_ms_to_datetime(item.get("updateTime", created), f"{what} updateTime"),
    )


def parse_binance_orders(payload: Sequence[Payload] | Payload) -> list[OrderSnapshot]:
    """One order or a list; order lists (OCO) in a cancel-all answer give their orderReports."""
    items = [payload] if isinstance(payload, Mapping) else payload
    flat = [r for item in items for r in item.get("orderReports", [item])]
    return [parse_binance_order(item) for item in flat]


_ALGO_STATUS = {
    "NEW": OrderStatus.ACCEPTED,
    "TRIGGERING": OrderStatus.ACCEPTED,
    "TRIGGERED": OrderStatus.ACCEPTED,  # the child order it placed is now working
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}


def algo_order_snapshot(fields: Mapping[str, Any], what: str) -> OrderSnapshot:
    """Shared by the REST ``openAlgoOrders`` record and the ``ALGO_UPDATE`` event.

    ``fields`` uses the REST names: algoId, clientAlgoId, type, side, quantity, algoStatus,
    triggerPrice, price, executedQty, avgPrice, reduceOnly, timeInForce, createTime, updateTime.
    """
    status = str(fields.get("algoStatus"))
    quantity = to_decimal(fields.get("quantity"), f"{what} quantity")
    filled = opt_decimal(fields.get("executedQty"), f"{what} executed") or ZERO
    if status == "FINISHED":  # the triggered order completed: filled, or cancelled unfilled
        mapped = OrderStatus.FILLED if quantity and filled >= quantity else OrderStatus.CANCELED
    elif status in _ALGO_STATUS:
        mapped = _ALGO_STATUS[status]
    else:
        raise DataError(f"{what}: unknown algoStatus {status!r}")
    return OrderSnapshot(
        symbol=str(field_of(fields, "symbol", what)),
        side=side_of(fields.get("side"), what),
        order_type=order_type(fields.get("type"), futures=True, what=what),
        status=mapped,
        quantity=quantity,
        client_order_id=str(fields.get("clientAlgoId") or ""),
        exchange_order_id=str(field_of(fields, "algoId", what)),
        price=price_or_none(fields.get("price"), f"{what} price"),
        trigger_price=price_or_none(fields.get("triggerPrice"), f"{what} triggerPrice"),
        filled_qty=filled,
        avg_fill_price=price_or_none(fields.get("avgPrice"), f"{what} avgPrice"),
        reduce_only=bool(fields.get("reduceOnly", False)),
        time_in_force=TIME_IN_FORCE.get(str(fields.get("timeInForce", "GTC")), TimeInForce.GTC),
        created_at=opt_ms_to_datetime(fields.get("createTime"), f"{what} createTime"),
        updated_at=opt_ms_to_datetime(fields.get("updateTime"), f"{what} updateTime"),
    )


def parse_binance_algo_orders(payload: Sequence[Payload]) -> list[OrderSnapshot]:
    """``GET /fapi/v1/openAlgoOrders`` (conditional orders) -> snapshots."""
    return [
        algo_order_snapshot(item, f"Binance algo order {item.get('algoId')}") for item in payload
    ]


def parse_binance_user_trades(payload: Sequence[Payload]) -> list[Fill]:
    """``/fapi/v1/userTrades`` or spot ``/api/v3/myTrades`` -> fills.

    These records carry no client order id; ``exchange_order_id`` links them to orders.
    """
    fills = []
    for item in payload:
        what = f"Binance trade {item.get('id')}"
        if "side" in item:
            side = side_of(item["side"], what)
        else:
            side = Side.BUY if field_of(item, "isBuyer", what) else Side.SELL
        maker = item.get("maker", item.get("isMaker", False))
        fills.append(
            Fill(
                client_order_id="",
                symbol=str(field_of(item, "symbol", what)),
                side=side,
                quantity=to_decimal(item.get("qty"), f"{what} qty"),
                price=to_decimal(item.get("price"), f"{what} price"),
                fee=to_decimal(item.get("commission"), f"{what} commission"),
                ts=ms_to_datetime(field_of(item, "time", what), f"{what} time"),
                liquidity=LiquiditySide.MAKER if maker else LiquiditySide.TAKER,
                trade_id=str(field_of(item, "id", what)),
                exchange_order_id=str(field_of(item, "orderId", what)),
                fee_currency=str(item.get("commissionAsset") or ""),
            )
        )
    return fills


def parse_binance_order_fills(payload: Payload) -> list[Fill]:
    """The ``fills`` of a spot new-order answer with ``newOrderRespType=FULL``."""
    order = parse_binance_order(payload)
    ts = order.created_at
    if ts is None:
        raise DataError(f"Binance order {order.exchange_order_id}: no transactTime for its fills")
    return [
        Fill(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=to_decimal(f.get("qty"), "Binance fill qty"),
            price=to_decimal(f.get("price"), "Binance fill price"),
            fee=to_decimal(f.get("commission"), "Binance fill commission"),
            ts=ts,
            trade_id=str(f.get("tradeId", "")),
            exchange_order_id=order.exchange_order_id,
            fee_currency=str(f.get("commissionAsset") or ""),
        )
        for f in payload.get("fills") or []
    ]


def parse_binance_ticker(payload: Payload) -> Ticker:
    """``/ticker/24hr`` or ``/ticker/price`` -> Ticker."""
    symbol = str(field_of(payload, "symbol", "Binance ticker"))
    last = payload.get("lastPrice", payload.get("price"))
    return Ticker(
        symbol=symbol,
        last=float(to_decimal(last, f"Binance ticker {symbol} lastPrice")),
        bid=opt_float(payload.get("bidPrice")),
        ask=opt_float(payload.get("askPrice")),
        high_24h=opt_float(payload.get("highPrice")),
        low_24h=opt_float(payload.get("lowPrice")),
        volume_24h=opt_float(payload.get("volume")),
        ts=opt_ms_to_datetime(payload.get("closeTime", payload.get("time")), "ticker time"),
    )


def parse_binance_fee_rates(payload: Sequence[Payload] | Payload) -> dict[str, FeeRate]:
    """Futures ``commissionRate`` (one symbol) or spot ``tradeFee`` (list) -> {symbol: FeeRate}."""
    items = [payload] if isinstance(payload, Mapping) else payload
    out = {}
    for item in items:
        symbol = str(field_of(item, "symbol", "Binance fee rate"))
        maker = item.get("makerCommissionRate", item.get("makerCommission"))
        taker = item.get("takerCommissionRate", item.get("takerCommission"))
        out[symbol] = FeeRate(
            symbol, to_decimal(maker, f"{symbol} maker fee"), to_decimal(taker, f"{symbol} taker")
        )
    return out
