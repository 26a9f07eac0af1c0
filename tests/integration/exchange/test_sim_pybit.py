"""Unmodified pybit (Bybit's own SDK) against the simulator.

pybit is synchronous (requests), so it runs in a worker thread while the simulator serves
on the test's event loop. Its host is set the way pybit builds it: the ``endpoint`` attribute.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from .sim_harness import KEY, SECRET, SimPair, candles, row_at, sim_server_fixture  # noqa: F401


def _session(url: str, secret: str = SECRET) -> Any:
    from pybit.unified_trading import HTTP

    session = HTTP(api_key=KEY, api_secret=secret, max_retries=1)
    session.endpoint = url
    return session


def _round(session: Any) -> dict[str, Any]:
    """Everything a bot does, as pybit calls; returns what the test checks."""
    out: dict[str, Any] = {}
    out["instruments"] = session.get_instruments_info(category="linear")["result"]["list"]
    out["klines"] = session.get_kline(category="linear", symbol="BTCUSDT", interval="5", limit=3)[
        "result"
    ]["list"]
    out["wallet"] = session.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    session.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="4", sellLeverage="4")
    out["market"] = session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Market",
        qty="0.01",
        stopLoss="40000",
        takeProfit="45000",
        orderLinkId="pybit-m1",
    )["result"]
    out["limit"] = session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.01",
        price="30000",
        stopLoss="29000",
        takeProfit="35000",
        orderLinkId="pybit-l1",
    )["result"]
    out["open"] = session.get_open_orders(category="linear", symbol="BTCUSDT")["result"]["list"]
    session.cancel_order(category="linear", symbol="BTCUSDT", orderId=out["limit"]["orderId"])
    out["open_after"] = session.get_open_orders(category="linear", symbol="BTCUSDT")["result"][
        "list"
    ]
    out["positions"] = session.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"]
    return out


async def test_pybit_trades_against_the_simulator(sim_server: SimPair, ohlcv_dir: Path) -> None:
    sim, server = sim_server
    now = sim.venue.now_ms()
    out = await asyncio.to_thread(_round, _session(server.url))
    assert [i["symbol"] for i in out["instruments"]] == ["BTCUSDT", "ETHUSDT"]
    btc = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    newest_closed = out["klines"][1]  # newest first; [0] is the forming candle
    assert int(newest_closed[0]) == now - 300_000
    assert float(newest_closed[4]) == row_at(btc, now - 300_000)["close"]
    assert out["wallet"]["totalWalletBalance"] == "10000"
    assert [o["orderLinkId"] for o in out["open"]] == ["pybit-l1"]
    assert (out["open"][0]["stopLoss"], out["open"][0]["takeProfit"]) == ("29000", "35000")
    assert out["open_after"] == []
    [pos] = out["positions"]
    assert (pos["side"], pos["size"], pos["leverage"]) == ("Buy", "0.01", "4")
    assert (pos["stopLoss"], pos["takeProfit"]) == ("40000", "45000")
    assert float(pos["avgPrice"]) == row_at(btc, now)["open"]


async def test_pybit_bad_signature_gets_bybit_code_10004(sim_server: SimPair) -> None:
    from pybit.exceptions import InvalidRequestError

    _, server = sim_server
    session = _session(server.url, secret="wrong")
    with pytest.raises(InvalidRequestError) as err:
        await asyncio.to_thread(session.get_wallet_balance, accountType="UNIFIED")
    assert err.value.status_code == 10004
