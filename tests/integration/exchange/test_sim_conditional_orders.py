"""Conditional (stop-market / take-profit-market) orders through every adapter and pybit.

The expected trigger candle and fill price come from the replayed candle file alone: a sell
stop fills in the first candle whose low reaches it, at the trigger or at that candle's open
when the open already gapped below it (the backtest's rule 2); a buy take-profit the same way.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from btb.core.enums import OrderStatus, OrderType
from btb.errors import InvalidOrderError
from btb.exchange.bybit_direct import ByBitDirectClient
from btb.exchange.factory import create_exchange

from .sim_harness import FIVE_MIN, KEY, SECRET, SimPair, candles, row_at, sim_server_fixture  # noqa: F401

ADAPTERS = ["bybit", "binance", "sim"]


def _config(url: str) -> dict[str, Any]:
    return {"api_key": KEY, "api_secret": SECRET, "base_url": url, "testnet": False,
            "rate_limit": False, "timeout_s": 5.0}  # fmt: skip


def _first_hit(frame: pd.DataFrame, now: int, level: float, *, low: bool) -> tuple[int, float]:
    """Open time of the first candle from ``now`` that trades at or beyond ``level``, and the
    fill there: the level, or the open when the open is already beyond it."""
    future = frame.loc[pd.Timestamp(now, unit="ms", tz="UTC") :]
    hits = future[future["low"] <= level] if low else future[future["high"] >= level]
    hit = hits.iloc[0]
    fill = min(hit["open"], level) if low else max(hit["open"], level)
    return int(hit.name.timestamp() * 1000), fill


@pytest.mark.parametrize("name", ADAPTERS)
async def test_stop_market_exit_triggers_where_the_candles_say(
    name: str, sim_server: SimPair, ohlcv_dir: Path
) -> None:
    sim, server = sim_server
    btc = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    now = sim.venue.now_ms()
    entry = row_at(btc, now)["open"]
    stop = round(entry * 0.997, 1)
    hit_ms, expected_fill = _first_hit(btc, now, stop, low=True)
    cid = f"stop-{name}"
    async with create_exchange(name, _config(server.url)) as ex:
        await ex.place_order("BTCUSDT", "market", "buy", "0.01")
        placed = await ex.place_order(
            "BTCUSDT", "stop_market", "sell", "0.01",
            params={"trigger_price": stop, "reduce_only": True, "client_order_id": cid},
        )  # fmt: skip
        assert (placed.order_type, placed.trigger_price) == (OrderType.STOP_MARKET, D(str(stop)))
        assert placed.status is OrderStatus.ACCEPTED and placed.filled_qty == 0
        assert cid in {o.client_order_id for o in await ex.get_open_orders("BTCUSDT")}
        sim.step((hit_ms - now) // FIVE_MIN)  # up to, not including, the candle that hits
        assert (await ex.get_order("BTCUSDT", client_order_id=cid)).status.is_open
        assert [p.quantity for p in await ex.get_positions(["BTCUSDT"])] == [D("0.01")]
        sim.step()
        done = await ex.get_order("BTCUSDT", client_order_id=cid)
        assert await ex.get_positions(["BTCUSDT"]) == []
    [execution] = [e for e in sim.venue.accounts[KEY].executions if e.order.link_id == cid]
    assert execution.fill.price == D(str(expected_fill))
    assert execution.ts_ms == hit_ms + FIVE_MIN  # stamped at the close of the hit candle
    assert (done.status, done.avg_fill_price) == (OrderStatus.FILLED, D(str(expected_fill)))


@pytest.mark.parametrize("name", ADAPTERS)
async def test_take_profit_market_and_refusals(name: str, sim_server: SimPair) -> None:
    sim, server = sim_server
    price = sim.venue.price("BTCUSDT")
    assert price is not None
    async with create_exchange(name, _config(server.url)) as ex:
        await ex.place_order("BTCUSDT", "market", "sell", "0.01")
        take_profit = await ex.place_order(
            "BTCUSDT", "take_profit_market", "buy", "0.01",
            params={"trigger_price": price - 100, "reduce_only": True},
        )  # fmt: skip
        assert take_profit.order_type is OrderType.TAKE_PROFIT_MARKET
        assert take_profit.trigger_price == price - 100
        with pytest.raises(InvalidOrderError):  # a sell stop above the price fires at once
            await ex.place_order(
                "BTCUSDT", "stop_market", "sell", "0.01", params={"trigger_price": price + 100}
            )
        before = sim.requests
        with pytest.raises(InvalidOrderError, match="needs trigger_price"):
            await ex.place_order("BTCUSDT", "stop_market", "sell", "0.01")
        assert sim.requests == before
    venue_order = sim.venue.accounts[KEY].find(take_profit.exchange_order_id, None)
    assert venue_order is not None and venue_order.order.trigger_price == price - 100


async def test_direct_client_conditional_order_fields(sim_server: SimPair) -> None:
    sim, server = sim_server
    price = sim.venue.price("BTCUSDT")
    assert price is not None
    async with ByBitDirectClient(KEY, SECRET, base_url=server.url) as client:
        before = sim.requests
        with pytest.raises(InvalidOrderError, match="trigger_direction"):
            await client.create_market_order("BTCUSDT", "buy", "0.01", trigger_price=price + 50)
        with pytest.raises(InvalidOrderError, match="trigger_by"):
            await client.create_market_order(
                "BTCUSDT", "buy", "0.01", trigger_price=price + 50, trigger_direction="rise",
                trigger_by="BestPrice",
            )  # fmt: skip
        assert sim.requests == before  # refused before sending
        created = await client.create_market_order(
            "BTCUSDT", "buy", "0.01", trigger_price=price + 50, trigger_direction="rise",
            trigger_by="MarkPrice", order_link_id="breakout-1",
        )  # fmt: skip
        [order] = await client.fetch_open_orders("BTCUSDT")
    assert (order.exchange_order_id, order.client_order_id) == (created["id"], "breakout-1")
    assert (order.order_type, order.trigger_price) == (OrderType.STOP_MARKET, price + 50)


def _pybit_stop(url: str, trigger: str) -> dict[str, Any]:
    from pybit.unified_trading import HTTP

    session = HTTP(api_key=KEY, api_secret=SECRET, max_retries=1)
    session.endpoint = url
    session.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01",
        triggerPrice=trigger, triggerDirection=1, triggerBy="LastPrice", orderLinkId="pybit-s1",
    )  # fmt: skip
    result: dict[str, Any] = session.get_open_orders(
        category="linear", symbol="BTCUSDT", orderFilter="StopOrder"
    )["result"]
    return result


async def test_pybit_places_a_conditional_order(sim_server: SimPair) -> None:
    sim, server = sim_server
    price = sim.venue.price("BTCUSDT")
    assert price is not None
    result = await asyncio.to_thread(_pybit_stop, server.url, str(price + 20))
    [order] = result["list"]
    assert (order["orderLinkId"], D(order["triggerPrice"]), order["triggerDirection"]) == (
        "pybit-s1",
        price + 20,
        1,
    )
    assert (order["orderStatus"], order["stopOrderType"]) == ("Untriggered", "Stop")
