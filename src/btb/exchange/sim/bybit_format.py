"""Simulator state -> Bybit V5 payloads, in the shapes of Bybit's recorded responses.

Field names, string-encoded numbers and enum spellings follow the recorded payloads in
``shared/data/exchange_fixtures/nautilus_trader/crates/adapters/bybit/test_data``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from btb.core.enums import OrderStatus, OrderType, Side, TimeInForce
from btb.core.instrument import Instrument
from btb.exchange.precision import format_decimal
from btb.exchange.sim.accounts import Execution, SimAccount, SimOrder, StopKind
from btb.exchange.sim.instruments import decimals
from btb.exchange.sim.market import Kline

ZERO = Decimal(0)
SIDE = {Side.BUY: "Buy", Side.SELL: "Sell"}
TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
#: btb timeframe seconds <-> Bybit kline interval
INTERVALS = {
    "1": 60,
    "3": 180,
    "5": 300,
    "15": 900,
    "30": 1800,
    "60": 3600,
    "120": 7200,
    "240": 14400,
    "360": 21600,
    "720": 43200,
    "D": 86400,
    "W": 604800,
}


def num(value: Decimal | None, default: str = "0") -> str:
    return default if value is None else format_decimal(value)


def order_status(so: SimOrder) -> str:
    status = so.order.status
    if status in (OrderStatus.ACCEPTED, OrderStatus.SUBMITTED):
        if so.is_conditional and not so.triggered_ms:
            return "Untriggered"
        return "New"
    if status is OrderStatus.PARTIALLY_FILLED:
        return "PartiallyFilled"
    if status is OrderStatus.FILLED:
        return "Filled"
    if status is OrderStatus.REJECTED:
        return "Rejected"
    if so.is_conditional and not so.triggered_ms:
        return "Deactivated"
    return "PartiallyFilledCanceled" if so.order.filled_qty > 0 else "Cancelled"


#: order fields that do not vary in what the simulator serves (one-way mode, no SMP)
_ORDER_FIXED = {
    "blockTradeId": "", "isLeverage": "", "positionIdx": 0, "orderIv": "", "smpType": "None",
    "smpGroup": 0, "smpOrderId": "", "tpLimitPrice": "0", "slLimitPrice": "0", "placeType": "",
}  # fmt: skip
_CREATE_TYPE = {
    StopKind.STOP_LOSS: "CreateByStopLoss",
    StopKind.TAKE_PROFIT: "CreateByTakeProfit",
    StopKind.LIQUIDATION: "CreateByLiq",
}


def order(so: SimOrder, category: str = "linear") -> dict[str, Any]:
    """One order as ``order/realtime``, ``order/history`` and the ``order`` stream show it."""
    o = so.order
    is_market = o.order_type is not OrderType.LIMIT
    leaves = o.remaining_qty if o.status.is_open else ZERO
    position_stop = so.stop_kind not in (StopKind.NONE, StopKind.STOP)
    return {
        **_ORDER_FIXED,
        "category": category, "orderId": so.order_id, "orderLinkId": so.link_id,
        "symbol": o.symbol, "side": SIDE[o.side], "orderType": "Market" if is_market else "Limit",
        "price": num(o.avg_fill_price) if is_market else num(o.price), "qty": num(o.quantity),
        "orderStatus": order_status(so),
        "createType": _CREATE_TYPE.get(so.stop_kind, "CreateByUser"),
        "cancelType": so.cancel_type or "UNKNOWN", "rejectReason": o.reject_reason or "EC_NoError",
        "avgPrice": num(o.avg_fill_price, ""), "leavesQty": num(leaves),
        "leavesValue": num(leaves * (o.price or so.reserve_price)),
        "cumExecQty": num(o.filled_qty),
        "cumExecValue": num((o.avg_fill_price or ZERO) * o.filled_qty),
        "cumExecFee": num(so.fee), "timeInForce": "IOC" if is_market else TIF[o.time_in_force],
        "stopOrderType": "" if so.stop_kind is StopKind.LIQUIDATION else so.stop_kind.value,
        "triggerPrice": num(o.trigger_price), "triggerDirection": int(so.trigger),
        "triggerBy": "LastPrice" if so.is_conditional else "",
        "takeProfit": num(o.take_profit), "stopLoss": num(o.stop_loss),
        "tpTriggerBy": "LastPrice" if o.take_profit else "",
        "slTriggerBy": "LastPrice" if o.stop_loss else "",
        "tpslMode": "Full" if (o.take_profit or o.stop_loss) else "",
        "lastPriceOnCreated": num(so.price_on_created), "reduceOnly": o.reduce_only,
        "closeOnTrigger": so.close_position or position_stop,
        "createdTime": str(so.created_ms), "updatedTime": str(so.updated_ms),
    }  # fmt: skip


def execution(ex: Execution, category: str = "linear") -> dict[str, Any]:
    """One trade as ``execution/list`` and the ``execution`` stream show it."""
    o = ex.order.order
    return {
        "category": category,
        "symbol": o.symbol,
        "orderId": ex.order.order_id,
        "orderLinkId": ex.order.link_id,
        "side": SIDE[o.side],
        "orderPrice": num(o.price or ex.fill.price),
        "orderQty": num(o.quantity),
        "leavesQty": num(
            o.quantity - sum((f.quantity for f in o.fills if f.ts <= ex.fill.ts), ZERO)
        ),
        "createType": "CreateByUser",
        "orderType": "Limit" if o.order_type is OrderType.LIMIT else "Market",
        "stopOrderType": ""
        if ex.order.stop_kind is StopKind.LIQUIDATION
        else ex.order.stop_kind.value,
        "execFee": num(ex.fill.fee),
        "execId": ex.exec_id,
        "execPrice": num(ex.fill.price),
        "execQty": num(ex.fill.quantity),
        "execType": "Trade",
        "execValue": num(ex.fill.notional),
        "execTime": str(ex.ts_ms),
        "feeCurrency": ex.fill.fee_currency,
        "isMaker": ex.is_maker,
        "feeRate": num(ex.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": num(ex.fill.price),
        "indexPrice": "",
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": num(ex.closed_size),
        "seq": ex.seq,
    }


_POSITION_FIXED = {
    "positionIdx": 0, "riskId": 1, "riskLimitValue": "2000000", "tradeMode": 0,
    "positionStatus": "Normal", "autoAddMargin": 0, "bustPrice": "", "tpslMode": "Full",
    "trailingStop": "0", "isReduceOnly": False, "mmrSysUpdatedTime": "",
    "leverageSysUpdatedTime": "",
}  # fmt: skip


def position(
    account: SimAccount, symbol: str, mark: Decimal | None, seq: int, category: str = "linear"
) -> dict[str, Any]:
    """One position as ``position/list`` and the ``position`` stream show it."""
    pos = account.position(symbol)
    flat = pos.is_flat
    mark = mark if mark is not None else pos.avg_entry_price
    size = abs(pos.quantity)
    liq = pos.liquidation_price(Decimal("0.005"))
    return {
        **_POSITION_FIXED,
        "category": category, "symbol": symbol, "seq": seq,
        "side": "" if flat else ("Buy" if pos.quantity > 0 else "Sell"),
        "size": num(size), "avgPrice": num(pos.avg_entry_price),
        "positionValue": num(size * pos.avg_entry_price), "adlRankIndicator": 0 if flat else 2,
        "leverage": num(account.leverage_of(symbol)), "positionBalance": num(pos.margin),
        "markPrice": num(mark),
        "liqPrice": "" if liq is None else num(liq.quantize(Decimal("0.01"))),
        "positionMM": num((size * mark * Decimal("0.005")).quantize(Decimal("0.00000001"))),
        "positionIM": num(pos.margin.quantize(Decimal("0.00000001"))),
        "takeProfit": num(account.take_profit.get(symbol)),
        "stopLoss": num(account.stop_loss.get(symbol)),
        "unrealisedPnl": num(pos.unrealized_pnl(mark)),
        "curRealisedPnl": num(pos.realized_pnl - pos.fees_paid),
        "cumRealisedPnl": num(account.cum_realised.get(symbol, ZERO)),
        "createdTime": str(account.position_created_ms.get(symbol, 0)),
        "updatedTime": str(account.position_updated_ms.get(symbol, 0)),
    }  # fmt: skip


_COIN_FIXED = {
    "free": "", "locked": "0", "spotHedgingQty": "0", "borrowAmount": "0",
    "availableToBorrow": "", "accruedInterest": "0", "totalPositionMM": "0", "bonus": "0",
    "marginCollateral": True, "collateralSwitch": True, "spotBorrow": "0",
}  # fmt: skip


def wallet(account: SimAccount, marks: dict[str, Decimal]) -> dict[str, Any]:
    """The UNIFIED account as ``account/wallet-balance`` shows it (one settle coin)."""
    bal = account.wallet_balance()
    upl = account.unrealised(marks)
    pos_im, order_im = account.position_margin(), account.order_margin()
    available = max(bal + upl - pos_im - order_im, ZERO)
    coins = [_coin(account, c, amount, upl, available) for c, amount in account.wallet.items()]
    return {
        "accountType": "UNIFIED", "totalEquity": num(bal + upl), "accountIMRate": "0",
        "totalMarginBalance": num(bal + upl), "totalInitialMargin": num(pos_im + order_im),
        "totalAvailableBalance": num(available), "accountMMRate": "0",
        "totalPerpUPL": num(upl), "totalWalletBalance": num(bal), "accountLTV": "0",
        "totalMaintenanceMargin": "0",
        "coin": sorted(coins, key=lambda c: str(c["coin"])),
    }  # fmt: skip


def _coin(
    account: SimAccount, coin: str, amount: Decimal, upl: Decimal, available: Decimal
) -> dict[str, Any]:
    """One coin of the wallet; margin figures belong to the settle coin only."""
    settle = coin == account.settle_coin
    return {
        **_COIN_FIXED,
        "coin": coin, "equity": num(amount + (upl if settle else ZERO)), "usdValue": num(amount),
        "walletBalance": num(amount), "availableToWithdraw": num(available if settle else amount),
        "totalOrderIM": num(account.order_margin() if settle else ZERO),
        "totalPositionIM": num(account.position_margin() if settle else ZERO),
        "unrealisedPnl": num(upl if settle else ZERO),
        "cumRealisedPnl": num(sum(account.cum_realised.values(), ZERO)),
    }  # fmt: skip


def instrument(inst: Instrument, launch_ms: int) -> dict[str, Any]:
    """One ``market/instruments-info`` record of a USDT perpetual."""
    return {
        "symbol": inst.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": inst.base,
        "quoteCoin": inst.quote,
        "launchTime": str(launch_ms),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(decimals(inst.tick_size)),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": f"{inst.max_leverage}.00",
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": num(inst.tick_size),
            "maxPrice": num(inst.tick_size * 10_000_000),
            "tickSize": num(inst.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": num(inst.max_qty),
            "minOrderQty": num(inst.min_qty),
            "qtyStep": num(inst.lot_step),
            "postOnlyMaxOrderQty": num(inst.max_qty),
            "maxMktOrderQty": num(inst.max_qty),
            "minNotionalValue": num(inst.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": inst.quote,
        "copyTrading": "both",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
        "isPreListing": False,
        "preListingInfo": None,
    }


def kline_row(k: Kline) -> list[str]:
    return [
        str(k.open_ms),
        repr(k.open),
        repr(k.high),
        repr(k.low),
        repr(k.close),
        repr(k.volume),
        repr(round(k.turnover, 4)),
    ]


def ticker(symbol: str, price: Decimal, day: list[Kline], next_funding_ms: int) -> dict[str, Any]:
    """A ``market/tickers`` record; 24h figures from the replayed candles."""
    high = max((k.high for k in day), default=float(price))
    low = min((k.low for k in day), default=float(price))
    volume = sum(k.volume for k in day)
    turnover = sum(k.turnover for k in day)
    prev = day[0].open if day else float(price)
    text = num(price)
    return {
        "symbol": symbol,
        "lastPrice": text,
        "indexPrice": text,
        "markPrice": text,
        "prevPrice24h": repr(prev),
        "price24hPcnt": f"{(float(price) / prev - 1):.6f}" if prev else "0",
        "highPrice24h": repr(high),
        "lowPrice24h": repr(low),
        "prevPrice1h": text,
        "openInterest": "0",
        "openInterestValue": "0",
        "turnover24h": f"{turnover:.4f}",
        "volume24h": f"{volume:.4f}",
        "fundingRate": "0.0001",
        "nextFundingTime": str(next_funding_ms),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": "1",
        "bid1Price": text,
        "ask1Price": text,
        "bid1Size": "1",
        "basis": "",
    }
