"""Streams: closed candles through BaseExchange.stream_candles (websocket, drop, REST fallback,
reconnect) and the private order/execution/position topics; plus the /_sim control API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from btb.core.bar import Bar
from btb.core.enums import OrderStatus
from btb.exchange.factory import create_exchange
from btb.exchange.parsing.bybit_account import parse_bybit_executions, parse_bybit_orders
from btb.exchange.sim.faults import FaultRule

from .sim_harness import FIVE_MIN, KEY, SECRET, SimPair, candles, row_at, sim_server_fixture  # noqa: F401


async def _until(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def _subscribed(sim: Any) -> bool:
    return any(c.topics for c in sim.streams.conns)


@pytest.mark.parametrize(
    ("name", "ws_path"),
    [("sim", "/v5/public/linear"), ("bybit", "/v5/public/linear"), ("binance", "/market/ws")],
)
async def test_candle_stream_survives_a_dropped_websocket(
    name: str, ws_path: str, sim_server: SimPair, ohlcv_dir: Path
) -> None:
    """Bybit's kline topic (direct client and ccxt adapter) and Binance's kline stream."""
    sim, server = sim_server
    btc = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    start = sim.venue.now_ms()
    config = {"api_key": KEY, "api_secret": SECRET, "base_url": server.url, "testnet": False,
              "rate_limit": False}  # fmt: skip
    async with create_exchange(name, config) as ex:
        assert ex.ws_url == server.ws_url + ws_path  # type: ignore[attr-defined]
        stream = ex.stream_candles("BTCUSDT", "5m", poll_interval=0.02)
        got: list[Bar] = []

        async def consume() -> None:
            async for bar in stream:
                got.append(bar)

        task = asyncio.create_task(consume())
        try:
            await _until(lambda: _subscribed(sim))
            sim.step()  # pushed over the websocket
            await _until(lambda: len(got) == 1)
            sim.faults.add(FaultRule("drop_ws"))
            await _until(lambda: not sim.streams.conns)
            sim.step(2)  # the socket is down: REST polling must deliver both, in order
            await _until(lambda: len(got) == 3)
            await _until(lambda: _subscribed(sim))  # reconnected after its backoff
            sim.step()
            await _until(lambda: len(got) == 4)
        finally:
            task.cancel()
    opens = [int(b.open_time.timestamp() * 1000) for b in got]
    assert opens == [start + k * FIVE_MIN for k in range(4)]  # no gap, no repeat
    for bar, ts in zip(got, opens, strict=True):
        row = row_at(btc, ts)
        assert (bar.open, bar.high, bar.low, bar.close) == (
            row["open"],
            row["high"],
            row["low"],
            row["close"],
        )


async def test_candle_closed_before_resubscribing_comes_at_the_first_message(
    sim_server: SimPair, ohlcv_dir: Path
) -> None:
    """A 15m stream on 5m candles: the simulator pushes the forming 15m candle at every 5m
    close. A 15m candle that closes after the REST poll but before the new subscription has
    no message of its own; it must arrive with the first message, not 15 minutes later."""
    sim, server = sim_server
    btc = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    config = {"api_key": KEY, "api_secret": SECRET, "base_url": server.url, "testnet": False}
    if to_boundary := -(sim.venue.now_ms() // FIVE_MIN) % 3:
        sim.step(to_boundary)  # start on a 15m boundary
    start = sim.venue.now_ms()
    async with create_exchange("sim", config) as ex:
        got: list[Bar] = []

        async def consume() -> None:
            async for bar in ex.stream_candles("BTCUSDT", "15m", poll_interval=60):
                got.append(bar)

        task = asyncio.create_task(consume())
        try:
            await _until(lambda: _subscribed(sim))
            requests = sim.requests
            sim.faults.add(FaultRule("drop_ws"))
            await _until(lambda: sim.requests >= requests + 2)  # the fallback's REST poll
            sim.step(3)  # the 15m candle closes while the socket is down, after that poll
            await _until(lambda: _subscribed(sim))  # reconnected (backoff 1 s), no poll since
            assert got == []
            sim.step()  # the next push is a forming candle
            await _until(lambda: len(got) == 1, timeout=3.0)
        finally:
            task.cancel()
    assert int(got[0].open_time.timestamp() * 1000) == start
    thirds = [row_at(btc, start + k * FIVE_MIN) for k in range(3)]  # its three 5m candles
    assert (got[0].open, got[0].close) == (thirds[0]["open"], thirds[2]["close"])
    assert got[0].high == max(r["high"] for r in thirds)


def _auth_args(secret: str) -> list[str]:
    expires = str(int(time.time() * 1000) + 10_000)
    sign = hmac.new(secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    return [KEY, expires, sign]


async def test_private_stream_reports_orders_fills_and_positions(sim_server: SimPair) -> None:
    _, server = sim_server
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ws_url + "/v5/private") as ws,
    ):
        await ws.send_json({"op": "auth", "args": _auth_args("wrong"), "req_id": "a0"})
        refused = await ws.receive_json(timeout=5)
        assert (refused["success"], refused["retCode"]) == (False, 10004)
        await ws.send_json({"op": "auth", "args": _auth_args(SECRET), "req_id": "a1"})
        assert (await ws.receive_json(timeout=5))["success"] is True
        await ws.send_json(
            {"op": "subscribe", "args": ["order", "execution", "position"], "req_id": "s1"}
        )
        assert (await ws.receive_json(timeout=5))["success"] is True

        config = {"api_key": KEY, "api_secret": SECRET, "base_url": server.url, "testnet": False}
        async with create_exchange("sim", config) as ex:
            order = await ex.place_order("BTCUSDT", "market", "sell", "0.002")
        topics: dict[str, list[dict[str, Any]]] = {}
        while len(topics.get("position", [])) < 1:
            message = await ws.receive_json(timeout=5)
            topics.setdefault(message["topic"], []).append(message)
    orders = [o for m in topics["order"] for o in parse_bybit_orders(m)]
    assert [o.status for o in orders] == [OrderStatus.ACCEPTED, OrderStatus.FILLED]
    assert {o.exchange_order_id for o in orders} == {order.exchange_order_id}
    [fill] = [f for m in topics["execution"] for f in parse_bybit_executions(m)]
    assert (fill.quantity, fill.price) == (order.filled_qty, order.avg_fill_price)
    position = topics["position"][0]["data"][0]
    assert (position["side"], position["size"]) == ("Sell", "0.002")


async def test_control_api_steps_the_clock_and_injects_faults(sim_server: SimPair) -> None:
    sim, server = sim_server
    before = sim.venue.now_ms()
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/_sim/step", json={"candles": 3}) as resp:
            assert (await resp.json()) == {
                "time": before + 3 * FIVE_MIN,
                "processed": 6,
            }  # 2 symbols
        async with http.post(
            server.url + "/_sim/faults", json={"kind": "server_error", "count": 1, "status": 502}
        ) as resp:
            assert resp.status == 200
        async with http.get(server.url + "/v5/market/time") as resp:
            assert resp.status == 502
        async with http.get(server.url + "/v5/market/time") as resp:
            body = json.loads(await resp.text())
            assert int(body["result"]["timeSecond"]) * 1000 == before + 3 * FIVE_MIN
        async with http.post(server.url + "/_sim/faults", json={"kind": "nope"}) as resp:
            assert resp.status == 400
        async with http.get(server.url + "/_sim/state") as resp:
            state = await resp.json()
    assert state["faults_injected"] == {"server_error": 1}
    assert state["symbols"] == ["BTCUSDT", "ETHUSDT"]


async def test_accelerated_clock_closes_candles_on_its_own(ohlcv_dir: Path) -> None:
    """At x3000 a 5-minute candle closes every 0.1 s of wall time, pushed without stepping."""
    from btb.exchange.sim import SimExchange, SimServer

    sim = SimExchange.from_data(
        ohlcv_dir / "binance_spot",
        timeframe="5m",
        symbols=["ETHUSDT"],
        speed=3000,
        accounts={KEY: SECRET},
    )
    eth = candles(ohlcv_dir, "ETH_USDT-5m.csv.gz")
    async with SimServer(sim) as server:
        config = {"api_key": KEY, "api_secret": SECRET, "base_url": server.url, "testnet": False}
        async with create_exchange("sim", config) as ex:
            got: list[Bar] = []
            async for bar in ex.stream_candles("ETHUSDT", "5m", poll_interval=0.05):
                got.append(bar)
                if len(got) == 3:
                    break
    opens = [int(b.open_time.timestamp() * 1000) for b in got]
    assert [b - a for a, b in itertools.pairwise(opens)] == [FIVE_MIN, FIVE_MIN]
    assert [b.close for b in got] == [row_at(eth, ts)["close"] for ts in opens]


def _ccxt_pro(venue: str, url: str, ws_url: str) -> Any:
    """Unmodified ccxt.pro with the simulator's REST and stream hosts."""
    import ccxt.pro as pro

    if venue == "bybit":
        exchange = pro.bybit({"enableRateLimit": False})
        exchange.urls["api"] = {
            **{name: url for name in exchange.urls["api"] if name != "ws"},
            "ws": {
                **exchange.urls["api"]["ws"],
                "public": {"linear": ws_url + "/v5/public/linear"},
            },
        }
        return exchange
    exchange = pro.binanceusdm({"enableRateLimit": False})
    rest = {
        n: url + urlsplit(v).path for n, v in exchange.urls["api"].items() if isinstance(v, str)
    }
    exchange.urls["api"].update(rest)
    exchange.urls["api"]["ws"] = {**exchange.urls["api"]["ws"], "linear": ws_url + "/ws"}
    return exchange


@pytest.mark.parametrize("venue", ["bybit", "binanceusdm"])
async def test_ccxt_pro_watches_the_simulators_klines(
    venue: str, sim_server: SimPair, ohlcv_dir: Path
) -> None:
    """ccxt's own websocket client subscribes (Bybit op, Binance SUBSCRIBE) and reads the
    candle that closes as the clock steps."""
    sim, server = sim_server
    btc = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    start = sim.venue.now_ms()
    ex = _ccxt_pro(venue, server.url, server.ws_url)
    try:
        await ex.load_markets()
        watch = asyncio.create_task(ex.watch_ohlcv("BTC/USDT:USDT", "5m"))
        await _until(lambda: _subscribed(sim))
        sim.step()
        ohlcv = await asyncio.wait_for(watch, 5)
    finally:
        await ex.close()
    ts, o, h, lo, c, _ = ohlcv[-1]
    row = row_at(btc, start)
    assert (ts, o, h, lo, c) == (start, row["open"], row["high"], row["low"], row["close"])
