"""Bybit V5 reference endpoints of the simulator: market data and account facts.

``market/time``, ``market/instruments-info``, ``market/kline``, ``market/tickers``,
``account/wallet-balance``, ``account/info``, ``account/fee-rate``, ``user/query-api`` and
``asset/coin/query-info`` (ccxt reads the last three while loading markets), plus the
parameter helpers the order endpoints in :mod:`btb.exchange.sim.bybit_routes` share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from btb.exchange.sim import bybit_format as fmt
from btb.exchange.sim.dispatch import BadRequest, Call, decimal_param


# --------------------------------------------------------------------------- helpers
def param_decimal(call: Call, name: str, *, required: bool = False) -> Decimal | None:
    invalid = BadRequest(f"params error: {name} invalid")
    return decimal_param(call, name, required=required, invalid=invalid)


def param_category(call: Call, required: bool = True) -> str:
    category = call.need("category") if required else call.get("category", "linear")
    if category not in ("linear", "spot", "inverse", "option"):
        raise BadRequest("params error: category invalid")
    return str(category)


def require_linear(call: Call) -> None:
    if param_category(call) != "linear":
        raise BadRequest("params error: the simulator trades category=linear only", 10001)


def param_bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def param_limit(call: Call, default: int, maximum: int) -> int:
    try:
        value = int(call.get("limit", default))
    except ValueError:
        raise BadRequest("params error: limit invalid") from None
    return max(1, min(value, maximum))


# ---------------------------------------------------------------------------- market
def market_time(call: Call) -> Any:
    now = call.sim.venue.now_ms()
    return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}


def instruments_info(call: Call) -> Any:
    category = param_category(call)
    venue = call.sim.venue
    symbol = call.get("symbol")
    items = []
    if category == "linear":
        for name in sorted(venue.instruments):
            if symbol is None or name == symbol:
                items.append(fmt.instrument(venue.instruments[name], venue.replay.start_ms))
    return {"category": category, "list": items, "nextPageCursor": ""}


def kline(call: Call) -> Any:
    param_category(call, required=False)
    venue = call.sim.venue
    symbol = str(call.need("symbol"))
    venue.instrument(symbol)
    interval = str(call.need("interval"))
    if interval not in fmt.INTERVALS:
        raise BadRequest("params error: interval invalid")
    start = call.get("start")
    end = call.get("end")
    rows = venue.replay.klines(
        symbol,
        fmt.INTERVALS[interval] * 1000,
        venue.now_ms(),
        start_ms=int(start) if start is not None else None,
        end_ms=int(end) if end is not None else None,
        limit=param_limit(call, 200, 1000),
    )
    return {
        "category": "linear",
        "symbol": symbol,
        "list": [fmt.kline_row(k) for k in reversed(rows)],
    }


def tickers(call: Call) -> Any:
    category = param_category(call)
    venue = call.sim.venue
    symbol = call.get("symbol")
    items = []
    now = venue.now_ms()
    for name in venue.replay.symbols if category == "linear" else []:
        if symbol is not None and name != symbol:
            continue
        price = venue.price(name)
        if price is None:
            continue
        day = venue.replay.klines(
            name, venue.replay.base_ms, now, start_ms=now - 86_400_000, limit=100_000
        )
        items.append(fmt.ticker(name, price, day, (now // 28_800_000 + 1) * 28_800_000))
    if symbol is not None and not items:
        venue.instrument(symbol)
    return {"category": category, "list": items}


# --------------------------------------------------------------------------- account
def wallet_balance(call: Call) -> Any:
    account_type = call.get("accountType", "UNIFIED")
    if account_type not in ("UNIFIED", "CONTRACT"):
        raise BadRequest("accountType only support UNIFIED.", 10001)
    return {"list": [fmt.wallet(call.require_account(), call.sim.venue.marks())]}


def account_info(call: Call) -> Any:
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": str(call.sim.venue.replay.start_ms),
        "unifiedMarginStatus": 6,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def fee_rate(call: Call) -> Any:
    venue = call.sim.venue
    symbol = call.get("symbol")
    rows = [
        {"symbol": s, "takerFeeRate": fmt.num(i.taker_fee), "makerFeeRate": fmt.num(i.maker_fee)}
        for s, i in sorted(venue.instruments.items())
        if symbol is None or s == symbol
    ]
    return {"list": rows}


def query_api(call: Call) -> Any:
    account = call.require_account()
    return {
        "id": "1",
        "note": "btb simulator",
        "apiKey": account.api_key,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": [],
            "Wallet": ["AccountTransfer"],
            "Options": [],
            "Derivatives": [],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": [],
            "NFT": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": 365,
        "expiredAt": "",
        "createdAt": "",
        "unified": 0,
        "uta": 1,
        "userID": 1,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
    }


def coin_info(call: Call) -> Any:
    venue = call.sim.venue
    coins = sorted(
        {i.base for i in venue.instruments.values()} | {i.quote for i in venue.instruments.values()}
    )
    rows = [{"name": c, "coin": c, "remainAmount": "1000000", "chains": []} for c in coins]
    return {"rows": rows}
