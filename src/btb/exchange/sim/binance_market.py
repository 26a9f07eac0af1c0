"""Binance USDⓈ-M reference endpoints of the simulator: market data and account facts.

ping, time, exchangeInfo, klines, ticker/24hr, ticker/price, premiumIndex; balance, account,
positionRisk, leverage, leverageBracket, commissionRate, userTrades; the spot-wallet coin list
and margin pairs ccxt reads while loading currencies; listenKey. Plus the parameter helpers the
order endpoints in :mod:`btb.exchange.sim.binance_routes` share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from btb.core.enums import Side
from btb.exchange.sim import binance_format as fmt
from btb.exchange.sim.dispatch import BadRequest, Call, decimal_param
from btb.exchange.sim.venue import Reject, VenueError


def param_decimal(call: Call, name: str, *, required: bool = False) -> Decimal | None:
    invalid = BadRequest(
        f"Illegal characters found in parameter '{name}'; "
        "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        -1100,
    )
    return decimal_param(call, name, required=required, invalid=invalid)


def param_bool(value: Any) -> bool:
    return str(value).lower() == "true"


def param_symbol(call: Call) -> str:
    symbol = str(call.need("symbol"))
    call.sim.venue.instrument(symbol)
    return symbol


def param_side(call: Call) -> Side:
    side = call.need("side")
    if side not in ("BUY", "SELL"):
        raise BadRequest(f"Invalid side {side!r}.", -1117)
    return Side.BUY if side == "BUY" else Side.SELL


# -------------------------------------------------------------------------- market
def ping(call: Call) -> Any:
    return {}


def server_time(call: Call) -> Any:
    return {"serverTime": call.sim.venue.now_ms()}


def exchange_info(call: Call) -> Any:
    venue = call.sim.venue
    return {
        "timezone": "UTC",
        "serverTime": venue.now_ms(),
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 2400,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [
            fmt.symbol_info(venue.instruments[s], venue.replay.start_ms)
            for s in sorted(venue.instruments)
        ],
    }


def klines(call: Call) -> Any:
    venue = call.sim.venue
    symbol = param_symbol(call)
    interval = str(call.need("interval"))
    if interval not in fmt.INTERVALS:
        raise BadRequest("Invalid interval.", -1120)
    step = fmt.INTERVALS[interval] * 1000
    start, end = call.get("startTime"), call.get("endTime")
    rows = venue.replay.klines(
        symbol,
        step,
        venue.now_ms(),
        start_ms=int(start) if start is not None else None,
        end_ms=int(end) if end is not None else None,
        limit=max(1, min(int(call.get("limit", 500)), 1500)),
    )
    return [fmt.kline_row(k, step) for k in rows]


def _day(call: Call, symbol: str) -> list[Any]:
    venue = call.sim.venue
    now = venue.now_ms()
    return venue.replay.klines(
        symbol, venue.replay.base_ms, now, start_ms=now - 86_400_000, limit=100_000
    )


def _per_symbol(call: Call, make: Any) -> Any:
    venue = call.sim.venue
    symbol = call.get("symbol")
    if symbol is not None:
        venue.instrument(symbol)
    rows = [
        make(s, p)
        for s in venue.replay.symbols
        if (symbol in (None, s)) and (p := venue.price(s)) is not None
    ]
    return rows[0] if symbol is not None and rows else rows


def ticker_24hr(call: Call) -> Any:
    now = call.sim.venue.now_ms()
    return _per_symbol(call, lambda s, p: fmt.ticker_24hr(s, p, _day(call, s), now))


def ticker_price(call: Call) -> Any:
    now = call.sim.venue.now_ms()
    return _per_symbol(call, lambda s, p: {"symbol": s, "price": fmt.num(p), "time": now})


def premium_index(call: Call) -> Any:
    now = call.sim.venue.now_ms()
    return _per_symbol(
        call,
        lambda s, p: {
            "symbol": s,
            "markPrice": fmt.num(p),
            "indexPrice": fmt.num(p),
            "estimatedSettlePrice": fmt.num(p),
            "lastFundingRate": "0.00010000",
            "interestRate": "0.00010000",
            "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000,
            "time": now,
        },
    )


# -------------------------------------------------------------------------- account
def balance(call: Call) -> Any:
    venue = call.sim.venue
    return fmt.balance(call.require_account(), venue.marks(), venue.now_ms())


def account(call: Call) -> Any:
    venue = call.sim.venue
    return fmt.account_info(call.require_account(), venue.marks(), venue.now_ms())


def position_risk(call: Call) -> Any:
    acct = call.require_account()
    venue = call.sim.venue
    symbol = call.get("symbol")
    symbols = [param_symbol(call)] if symbol is not None else sorted(venue.instruments)
    marks = venue.marks()
    return [fmt.position_risk(acct, s, marks.get(s)) for s in symbols]


def leverage(call: Call) -> Any:
    symbol = param_symbol(call)
    try:
        value = int(call.need("leverage"))
    except ValueError:
        raise BadRequest("Illegal characters found in parameter 'leverage'.", -1100) from None
    try:
        call.sim.venue.set_leverage(call.require_account(), symbol, Decimal(value))
    except VenueError as exc:
        if exc.reason is not Reject.LEVERAGE_UNCHANGED:  # Binance accepts an unchanged value
            raise VenueError(exc.reason, f"Leverage {value} is not valid") from None
    return {"leverage": value, "maxNotionalValue": "1000000", "symbol": symbol}


def commission_rate(call: Call) -> Any:
    inst = call.sim.venue.instrument(param_symbol(call))
    return {
        "symbol": inst.symbol,
        "makerCommissionRate": fmt.num(inst.maker_fee),
        "takerCommissionRate": fmt.num(inst.taker_fee),
    }


def user_trades(call: Call) -> Any:
    symbol = param_symbol(call)
    oid = call.get("orderId")
    rows = [
        e
        for e in call.require_account().executions
        if e.order.symbol == symbol and (oid is None or e.order.order_id == str(oid))
    ]
    return [fmt.user_trade(e) for e in rows[-int(call.get("limit", 500)) :]]


def coins(call: Call) -> Any:
    """``/sapi/v1/capital/config/getall`` (ccxt loads currencies from it): coins, no networks."""
    acct = call.require_account()
    venue = call.sim.venue
    names = sorted(
        {i.base for i in venue.instruments.values()} | {i.quote for i in venue.instruments.values()}
    )
    return [
        {
            "coin": c,
            "name": c,
            "depositAllEnable": True,
            "withdrawAllEnable": True,
            "free": fmt.num(acct.wallet.get(c)),
            "locked": "0",
            "freeze": "0",
            "withdrawing": "0",
            "ipoing": "0",
            "ipoable": "0",
            "storage": "0",
            "isLegalMoney": False,
            "trading": True,
            "networkList": [],
        }
        for c in names
    ]


def leverage_bracket(call: Call) -> Any:
    """One bracket per symbol: the simulator's maintenance margin rate is flat."""
    venue = call.sim.venue
    symbol = call.get("symbol")
    rows = [
        {
            "symbol": s,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": i.max_leverage,
                    "notionalCap": 1_000_000,
                    "notionalFloor": 0,
                    "maintMarginRatio": float(i.maintenance_margin_rate),
                    "cum": 0.0,
                }
            ],
        }
        for s, i in sorted(venue.instruments.items())
        if symbol in (None, s)
    ]
    return rows[0] if symbol is not None and rows else rows


def listen_key(call: Call) -> Any:
    return {"listenKey": f"sim-{call.require_account().api_key[:8]}-listen-key"}
