"""Simulator state -> Binance USDⓈ-M payloads, in the shapes of Binance's recorded responses.

Shapes follow ``shared/data/exchange_fixtures/nautilus_trader/.../binance/test_data/futures``
and the integration-test resources beside them (exchangeInfo, orders, algo orders,
positionRisk, balance, account, userTrades, klines, 24h ticker).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from btb.core.enums import OrderStatus, OrderType, TimeInForce
from btb.core.instrument import Instrument
from btb.core.position import Position
from btb.exchange.precision import format_decimal
from btb.exchange.sim.accounts import Execution, SimAccount, SimOrder, StopKind
from btb.exchange.sim.instruments import decimals
from btb.exchange.sim.market import Kline

ZERO = Decimal(0)
TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "GTX",
}
INTERVALS = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "1w": 604800,
}


def num(value: Decimal | None, default: str = "0") -> str:
    return default if value is None else format_decimal(value)


def order_type(so: SimOrder) -> str:
    kind = so.order.order_type
    if kind is OrderType.LIMIT:
        return "LIMIT"
    if kind is OrderType.MARKET and not so.is_conditional:
        return "MARKET"
    return "TAKE_PROFIT_MARKET" if so.stop_kind is StopKind.TAKE_PROFIT else "STOP_MARKET"


def _status(so: SimOrder) -> str:
    return {
        OrderStatus.SUBMITTED: "NEW",
        OrderStatus.ACCEPTED: "NEW",
        OrderStatus.PENDING_CANCEL: "NEW",
        OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
        OrderStatus.FILLED: "FILLED",
        OrderStatus.CANCELED: "CANCELED",
        OrderStatus.EXPIRED: "EXPIRED",
        OrderStatus.REJECTED: "REJECTED",
    }[so.order.status]


def order(so: SimOrder) -> dict[str, Any]:
    """A regular order as POST/GET/DELETE ``/fapi/v1/order`` and ``openOrders`` show it."""
    o = so.order
    kind = order_type(so)
    return {
        "orderId": int(so.order_id),
        "symbol": o.symbol,
        "status": _status(so),
        "clientOrderId": so.link_id,
        "price": num(o.price),
        "avgPrice": num(o.avg_fill_price),
        "origQty": num(o.quantity),
        "executedQty": num(o.filled_qty),
        "cumQty": num(o.filled_qty),
        "cumQuote": num((o.avg_fill_price or ZERO) * o.filled_qty),
        "timeInForce": TIF[o.time_in_force],
        "type": kind,
        "reduceOnly": o.reduce_only,
        "closePosition": so.close_position,
        "side": o.side.value.upper(),
        "positionSide": "BOTH",
        "stopPrice": num(o.trigger_price),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": kind,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": so.created_ms,
        "updateTime": so.updated_ms,
    }


def algo_status(so: SimOrder) -> str:
    status = so.order.status
    if status.is_open:
        return "NEW"
    if status is OrderStatus.FILLED:
        return "FINISHED"
    return "EXPIRED" if status is OrderStatus.EXPIRED else "CANCELED"


def algo_order(so: SimOrder) -> dict[str, Any]:
    """A conditional order as ``/fapi/v1/algoOrder`` and ``openAlgoOrders`` show it."""
    o = so.order
    return {
        "algoId": int(so.order_id),
        "clientAlgoId": so.link_id,
        "algoType": "CONDITIONAL",
        "orderType": order_type(so),
        "type": order_type(so),
        "symbol": o.symbol,
        "side": o.side.value.upper(),
        "positionSide": "BOTH",
        "timeInForce": TIF[o.time_in_force],
        "quantity": "0" if so.close_position and not o.filled_qty else num(o.quantity),
        "algoStatus": algo_status(so),
        "actualOrderId": so.order_id if so.triggered_ms else "",
        "actualPrice": num(o.avg_fill_price),
        "executedQty": num(o.filled_qty),
        "avgPrice": num(o.avg_fill_price),
        "triggerPrice": num(o.trigger_price),
        "price": "0",
        "icebergQuantity": None,
        "selfTradePreventionMode": "NONE",
        "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE",
        "closePosition": so.close_position,
        "priceProtect": False,
        "reduceOnly": o.reduce_only,
        "createTime": so.created_ms,
        "updateTime": so.updated_ms,
        "triggerTime": so.triggered_ms,
        "goodTillDate": 0,
    }


def user_trade(ex: Execution) -> dict[str, Any]:
    f = ex.fill
    return {
        "symbol": f.symbol,
        "id": ex.seq,
        "orderId": int(ex.order.order_id),
        "side": f.side.value.upper(),
        "price": num(f.price),
        "qty": num(f.quantity),
        "realizedPnl": num(ex.realized_pnl),
        "marginAsset": f.fee_currency,
        "quoteQty": num(f.notional),
        "commission": num(f.fee),
        "commissionAsset": f.fee_currency,
        "time": ex.ts_ms,
        "positionSide": "BOTH",
        "buyer": f.side.value == "buy",
        "maker": ex.is_maker,
    }


def position_risk(account: SimAccount, symbol: str, mark: Decimal | None) -> dict[str, Any]:
    pos = account.position(symbol)
    mark = mark if mark is not None else pos.avg_entry_price
    liq = pos.liquidation_price(Decimal("0.005"))
    return {
        "symbol": symbol,
        "positionSide": "BOTH",
        "positionAmt": num(pos.quantity),
        "entryPrice": num(pos.avg_entry_price),
        "breakEvenPrice": num(pos.avg_entry_price),
        "markPrice": num(mark),
        "unRealizedProfit": num(pos.unrealized_pnl(mark)),
        "liquidationPrice": num(None if liq is None else liq.quantize(Decimal("0.01"))),
        "isolatedMargin": "0",
        "notional": num(pos.quantity * mark),
        "marginAsset": account.settle_coin,
        "isolatedWallet": "0",
        "initialMargin": num(pos.margin),
        "maintMargin": num(abs(pos.quantity) * mark * Decimal("0.005")),
        "positionInitialMargin": num(pos.margin),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "leverage": num(account.leverage_of(symbol)),
        "marginType": "cross",
        "isAutoAddMargin": "false",
        "maxNotionalValue": "1000000",
        "updateTime": account.position_updated_ms.get(symbol, 0),
    }


def balance(account: SimAccount, marks: dict[str, Decimal], now: int) -> list[dict[str, Any]]:
    upl = account.unrealised(marks)
    available = account.available(marks)
    return [
        {
            "accountAlias": "SimAccount",
            "asset": coin,
            "balance": num(amount),
            "crossWalletBalance": num(amount),
            "crossUnPnl": num(upl if coin == account.settle_coin else ZERO),
            "availableBalance": num(
                max(available, ZERO) if coin == account.settle_coin else amount
            ),
            "maxWithdrawAmount": num(
                max(available, ZERO) if coin == account.settle_coin else amount
            ),
            "marginAvailable": True,
            "updateTime": now,
        }
        for coin, amount in sorted(account.wallet.items())
    ]


def account_info(account: SimAccount, marks: dict[str, Decimal], now: int) -> dict[str, Any]:
    """``/fapi/v2|v3/account``: totals, assets and open positions."""
    bal = account.wallet_balance()
    upl = account.unrealised(marks)
    avail = max(account.available(marks), ZERO)
    pos_im, ord_im = account.position_margin(), account.order_margin()
    return {
        "totalInitialMargin": num(pos_im + ord_im), "totalMaintMargin": "0",
        "totalWalletBalance": num(bal), "totalUnrealizedProfit": num(upl),
        "totalMarginBalance": num(bal + upl), "totalPositionInitialMargin": num(pos_im),
        "totalOpenOrderInitialMargin": num(ord_im), "totalCrossWalletBalance": num(bal),
        "totalCrossUnPnl": num(upl), "availableBalance": num(avail),
        "maxWithdrawAmount": num(avail), "feeTier": 0, "canTrade": True, "canDeposit": True,
        "canWithdraw": True, "multiAssetsMargin": False, "tradeGroupId": -1, "updateTime": now,
        "assets": [_account_asset(r, pos_im, ord_im, now) for r in balance(account, marks, now)],
        "positions": [
            _account_position(account, s, p, marks.get(s, p.avg_entry_price))
            for s, p in sorted(account.positions.items())
            if not p.is_flat
        ],
    }  # fmt: skip


def _account_asset(
    row: dict[str, Any], pos_im: Decimal, ord_im: Decimal, now: int
) -> dict[str, Any]:
    return {
        "asset": row["asset"], "walletBalance": row["balance"],
        "unrealizedProfit": row["crossUnPnl"],
        "marginBalance": num(Decimal(row["balance"]) + Decimal(row["crossUnPnl"])),
        "maintMargin": "0", "initialMargin": num(pos_im + ord_im),
        "positionInitialMargin": num(pos_im), "openOrderInitialMargin": num(ord_im),
        "crossWalletBalance": row["balance"], "crossUnPnl": row["crossUnPnl"],
        "availableBalance": row["availableBalance"], "maxWithdrawAmount": row["maxWithdrawAmount"],
        "marginAvailable": True, "updateTime": now,
    }  # fmt: skip


def _account_position(
    account: SimAccount, symbol: str, p: Position, mark: Decimal
) -> dict[str, Any]:
    return {
        "symbol": symbol, "positionSide": "BOTH", "positionAmt": num(p.quantity),
        "unrealizedProfit": num(p.unrealized_pnl(mark)), "isolatedMargin": "0",
        "notional": num(p.quantity * mark), "isolatedWallet": "0",
        "initialMargin": num(p.margin), "maintMargin": "0",
        "updateTime": account.position_updated_ms.get(symbol, 0),
    }  # fmt: skip


_SYMBOL_FIXED = {
    "contractType": "PERPETUAL", "deliveryDate": 4133404800000, "status": "TRADING",
    "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000",
    "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
    "underlyingSubType": [], "settlePlan": 0, "triggerProtect": "0.0500",
    "liquidationFee": "0.012500", "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
    "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                   "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
}  # fmt: skip


def symbol_info(inst: Instrument, onboard_ms: int) -> dict[str, Any]:
    """One ``exchangeInfo`` symbol of a USDT perpetual."""
    tick, step = num(inst.tick_size), num(inst.lot_step)
    lot = {"stepSize": step, "maxQty": num(inst.max_qty), "minQty": num(inst.min_qty)}
    return {
        **_SYMBOL_FIXED,
        "symbol": inst.symbol, "pair": inst.symbol, "onboardDate": onboard_ms,
        "baseAsset": inst.base, "quoteAsset": inst.quote, "marginAsset": inst.quote,
        "pricePrecision": decimals(inst.tick_size),
        "quantityPrecision": decimals(inst.lot_step),
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick,
             "maxPrice": num(inst.tick_size * 10_000_000), "tickSize": tick},
            {"filterType": "LOT_SIZE", **lot},
            {"filterType": "MARKET_LOT_SIZE", **lot},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": num(inst.min_notional)},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500",
             "multiplierDown": "0.9500", "multiplierDecimal": "4"},
        ],
    }  # fmt: skip


def kline_row(k: Kline, interval_ms: int) -> list[Any]:
    return [
        k.open_ms,
        repr(k.open),
        repr(k.high),
        repr(k.low),
        repr(k.close),
        repr(k.volume),
        k.open_ms + interval_ms - 1,
        repr(round(k.turnover, 4)),
        0,
        "0",
        "0",
        "0",
    ]


def ticker_24hr(symbol: str, price: Decimal, day: list[Kline], now: int) -> dict[str, Any]:
    high = max((k.high for k in day), default=float(price))
    low = min((k.low for k in day), default=float(price))
    first = day[0].open if day else float(price)
    return {
        "symbol": symbol,
        "priceChange": repr(float(price) - first),
        "priceChangePercent": f"{(float(price) / first - 1) * 100:.3f}" if first else "0",
        "weightedAvgPrice": num(price),
        "lastPrice": num(price),
        "lastQty": "0",
        "openPrice": repr(first),
        "highPrice": repr(high),
        "lowPrice": repr(low),
        "volume": f"{sum(k.volume for k in day):.3f}",
        "quoteVolume": f"{sum(k.turnover for k in day):.2f}",
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": 0,
        "lastId": 0,
        "count": 0,
    }
