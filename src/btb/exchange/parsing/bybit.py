"""Bybit V5 payloads (REST ``result`` envelopes and private/public stream messages) -> btb objects.

Every function accepts the whole payload as the venue sends it: a REST answer
``{"retCode", "retMsg", "result": {...}}`` (a non-zero retCode raises the translated btb error)
or a stream message ``{"topic", "data": [...]}``. Missing or malformed fields raise
:class:`btb.errors.DataError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from btb.core.bar import Bar
from btb.core.enums import MarketType, Side
from btb.core.instrument import Instrument
from btb.errors import DataError, ExchangeAPIError
from btb.exchange.errors import bybit_error
from btb.exchange.parsing.values import (
    ZERO,
    FeeRate,
    Ticker,
    field_of,
    ms_to_datetime,
    opt_decimal,
    opt_float,
    opt_ms_to_datetime,
    to_decimal,
)

Payload = Mapping[str, Any]

#: btb timeframe -> Bybit kline interval.
BYBIT_INTERVALS = {
    "1m": "1", "3m": "3", "5m": "5", "15m": "15", "30m": "30", "1h": "60", "2h": "120",
    "4h": "240", "6h": "360", "12h": "720", "1d": "D", "1w": "W",
}  # fmt: skip
_TIMEFRAMES = {v: k for k, v in BYBIT_INTERVALS.items()}

BYBIT_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_LINEAR_CONTRACTS = frozenset({"LinearPerpetual", "LinearFutures"})
# Bybit's published base rates; the instruments endpoint carries no fees, so these apply
# until fetch_fee_rates supplies the account's own.
DEFAULT_FEES = {
    MarketType.LINEAR: FeeRate("*", Decimal("0.0002"), Decimal("0.00055")),
    MarketType.SPOT: FeeRate("*", Decimal("0.001"), Decimal("0.001")),
}


def bybit_result(payload: Payload, what: str = "Bybit response") -> Mapping[str, Any]:
    """The ``result`` of a REST answer; raises the translated btb error for retCode != 0."""
    code = int(field_of(payload, "retCode", what))
    if code != 0:
        raise bybit_error(code, str(payload.get("retMsg", "")), context=what)
    result = payload.get("result")
    return result if isinstance(result, Mapping) else {}


def bybit_items(payload: Payload, what: str) -> list[Mapping[str, Any]]:
    """The records of a REST list answer (``result.list``), a stream message (``data``) or a
    single bare record."""
    if "retCode" in payload:
        items = bybit_result(payload, what).get("list") or []
    elif "data" in payload:
        data = payload["data"]
        items = data if isinstance(data, list) else [data]
    elif "symbol" in payload:  # one bare record, as a stream's ``data`` element
        items = [payload]
    else:
        raise DataError(f"{what}: not a REST answer (retCode), stream message (data) or record")
    return [item for item in items if isinstance(item, Mapping)]


def check_bybit_ws_response(message: Payload) -> None:
    """Raise the translated error for a failed stream op (auth, subscribe, order.create)."""
    if message.get("success", True) and int(message.get("retCode", 0) or 0) == 0:
        return
    op = str(message.get("op", "?"))
    text = str(message.get("retMsg") or message.get("ret_msg") or "failed")
    code = int(message.get("retCode", 0) or 0)
    if code:
        raise bybit_error(code, text, context=f"stream op {op}")
    raise ExchangeAPIError(f"Bybit stream op {op} failed: {text}")


def bybit_side(value: Any, what: str) -> Side:
    """ "Buy"/"Sell" as Side; DataError naming ``what`` otherwise."""
    try:
        return BYBIT_SIDES[value]
    except KeyError:
        raise DataError(f"{what}: unknown side {value!r}") from None


def _category(item: Payload, category: str | None) -> str:
    if category:
        return category
    if "optionsType" in item:
        return "option"
    contract = str(item.get("contractType", ""))
    if contract.startswith("Inverse"):
        return "inverse"
    return "linear" if contract else "spot"


def parse_bybit_instrument(
    item: Payload, category: str | None = None, fees: Mapping[str, FeeRate] | None = None
) -> Instrument:
    """One ``instruments-info`` record -> Instrument (spot or USDT/USDC linear only)."""
    symbol = str(field_of(item, "symbol", "Bybit instrument"))
    what = f"Bybit instrument {symbol}"
    kind = _category(item, category)
    lots = field_of(item, "lotSizeFilter", what)
    tick = to_decimal(field_of(item, "priceFilter", what).get("tickSize"), f"{what} tickSize")
    if kind == "spot":
        market = MarketType.SPOT
        step = to_decimal(lots.get("basePrecision"), f"{what} basePrecision")
        min_notional = opt_decimal(lots.get("minOrderAmt"), f"{what} minOrderAmt") or ZERO
        max_leverage = 1
    elif kind == "linear" and item.get("contractType") in _LINEAR_CONTRACTS:
        market = MarketType.LINEAR
        step = to_decimal(lots.get("qtyStep"), f"{what} qtyStep")
        min_notional = opt_decimal(lots.get("minNotionalValue"), f"{what} minNotionalValue") or ZERO
        leverage = item.get("leverageFilter", {}).get("maxLeverage")
        max_leverage = int(to_decimal(leverage, f"{what} maxLeverage"))
    else:
        raise DataError(f"{what}: {kind} instruments are not supported (spot and linear only)")
    rate = (fees or {}).get(symbol, DEFAULT_FEES[market])
    return Instrument(
        symbol=symbol,
        base=str(field_of(item, "baseCoin", what)),
        quote=str(field_of(item, "quoteCoin", what)),
        market_type=market,
        tick_size=tick,
        lot_step=step,
        min_qty=to_decimal(lots.get("minOrderQty"), f"{what} minOrderQty"),
        min_notional=min_notional,
        max_qty=opt_decimal(lots.get("maxOrderQty"), f"{what} maxOrderQty"),
        max_leverage=max_leverage,
        maker_fee=rate.maker,
        taker_fee=rate.taker,
    )


def parse_bybit_instruments(
    payload: Payload, category: str | None = None, fees: Mapping[str, FeeRate] | None = None
) -> list[Instrument]:
    """``GET /v5/market/instruments-info`` -> instruments (trading ones only)."""
    result = bybit_result(payload, "Bybit instruments-info")
    category = category or result.get("category") or None
    items = [i for i in result.get("list") or [] if i.get("status", "Trading") == "Trading"]
    return [parse_bybit_instrument(item, category, fees) for item in items]


def parse_bybit_klines(payload: Payload, timeframe: str, symbol: str | None = None) -> list[Bar]:
    """``GET /v5/market/kline`` -> bars oldest first (Bybit sends newest first)."""
    result = bybit_result(payload, "Bybit kline")
    symbol = symbol or result.get("symbol")
    if not symbol:
        raise DataError("Bybit kline: no symbol in the answer; pass symbol=")
    bars = []
    for row in result.get("list") or []:
        what = f"Bybit kline {symbol} row {row!r}"
        if len(row) < 6:
            raise DataError(f"{what}: expected [start, open, high, low, close, volume, ...]")
        start, o, h, low, c, v = row[:6]
        bars.append(
            Bar(symbol, timeframe, ms_to_datetime(start, what), float(o), float(h), float(low),
                float(c), float(v))
        )  # fmt: skip
    return sorted(bars, key=lambda bar: bar.open_time)


def parse_bybit_ws_kline(message: Payload) -> list[tuple[Bar, bool]]:
    """A ``kline.{interval}.{symbol}`` stream message -> (bar, closed) pairs."""
    topic = str(field_of(message, "topic", "Bybit kline stream"))
    parts = topic.split(".")
    if len(parts) != 3 or parts[0] != "kline" or parts[1] not in _TIMEFRAMES:
        raise DataError(f"Bybit kline stream: unexpected topic {topic!r}")
    timeframe, symbol = _TIMEFRAMES[parts[1]], parts[2]
    out = []
    for item in bybit_items(message, topic):
        bar = Bar(
            symbol, timeframe, ms_to_datetime(item["start"], topic), float(item["open"]),
            float(item["high"]), float(item["low"]), float(item["close"]), float(item["volume"]),
        )  # fmt: skip
        out.append((bar, bool(item.get("confirm", False))))
    return out


def parse_bybit_ticker(payload: Payload) -> Ticker:
    """``/v5/market/tickers`` (first record) or a ``tickers.{symbol}`` message -> Ticker."""
    items = bybit_items(payload, "Bybit ticker")
    if not items:
        raise DataError("Bybit ticker: empty answer (unknown symbol?)")
    item = items[0]
    symbol = str(field_of(item, "symbol", "Bybit ticker"))
    return Ticker(
        symbol=symbol,
        last=float(to_decimal(item.get("lastPrice"), f"Bybit ticker {symbol} lastPrice")),
        bid=opt_float(item.get("bid1Price", item.get("bidPrice"))),
        ask=opt_float(item.get("ask1Price", item.get("askPrice"))),
        mark=opt_float(item.get("markPrice")),
        index=opt_float(item.get("indexPrice")),
        high_24h=opt_float(item.get("highPrice24h")),
        low_24h=opt_float(item.get("lowPrice24h")),
        volume_24h=opt_float(item.get("volume24h")),
        ts=opt_ms_to_datetime(payload.get("time", payload.get("ts")), "Bybit ticker time"),
    )


def parse_bybit_fee_rates(payload: Payload) -> dict[str, FeeRate]:
    """``/v5/account/fee-rate`` -> {symbol: FeeRate}."""
    out = {}
    for item in bybit_items(payload, "Bybit fee-rate"):
        symbol = str(field_of(item, "symbol", "Bybit fee-rate"))
        out[symbol] = FeeRate(
            symbol,
            to_decimal(item.get("makerFeeRate"), f"Bybit fee-rate {symbol} maker"),
            to_decimal(item.get("takerFeeRate"), f"Bybit fee-rate {symbol} taker"),
        )
    return out
