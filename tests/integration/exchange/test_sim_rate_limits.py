"""Rate-limit headers: the simulator counts allowances like the venues, the clients read the
headers and slow down before they are refused."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from btb.exchange.factory import create_exchange
from btb.exchange.retry import RetryPolicy
from btb.exchange.sim.limits import Allowance

from .sim_harness import KEY, SECRET, SimPair, sim_server_fixture  # noqa: F401

PER_WINDOW, WINDOW_MS = 3, 300


def _config(url: str) -> dict[str, Any]:
    return {"api_key": KEY, "api_secret": SECRET, "base_url": url, "testnet": False,
            "rate_limit": False, "retry": RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0,
                                                       max_rate_limit_wait=1.0)}  # fmt: skip


async def test_simulator_counts_bybit_allowances_per_key_and_endpoint(sim_server: SimPair) -> None:
    sim, server = sim_server
    sim.allowances["bybit"] = Allowance(2, window_ms=60_000)
    answers = []
    async with aiohttp.ClientSession() as http:
        for path in ("/v5/market/time", "/v5/market/time", "/v5/market/time", "/v5/market/kline"):
            params = {"category": "linear", "symbol": "BTCUSDT", "interval": "5"}
            async with http.get(server.url + path, params=params) as resp:
                body = await resp.json()
                answers.append((resp.status, body["retCode"], resp.headers["X-Bapi-Limit-Status"]))
    # two allowed, the third refused as Bybit does, another endpoint has its own allowance
    assert answers == [(200, 0, "1"), (200, 0, "0"), (429, 10006, "0"), (200, 0, "1")]
    assert sim.over_limit == 1


@pytest.mark.parametrize("name", ["sim", "bybit"])
async def test_bybit_clients_wait_for_the_announced_reset(name: str, sim_server: SimPair) -> None:
    sim, server = sim_server
    async with create_exchange(name, _config(server.url)) as ex:
        sim.allowances["bybit"] = Allowance(PER_WINDOW, window_ms=WINDOW_MS)
        started = time.monotonic()
        for i in range(3 * PER_WINDOW + 1):
            await ex.place_order("BTCUSDT", "limit", "buy", "0.001", 20000 + i)
        elapsed = time.monotonic() - started
    assert sim.over_limit == 0  # never refused: the headers were read and respected
    assert len(sim.venue.accounts[KEY].orders) == 3 * PER_WINDOW + 1
    assert elapsed >= 2 * WINDOW_MS / 1000  # at least two windows had to pass


async def test_binance_adapter_slows_down_near_the_weight_limit(sim_server: SimPair) -> None:
    sim, server = sim_server
    sim.allowances["binance"] = Allowance(2400, window_ms=60_000)
    async with create_exchange("binance", _config(server.url)) as ex:
        ex.pacer.weight_limit_1m = 20  # type: ignore[attr-defined]
        ex.retry_policy = ex.pacer.policy = RetryPolicy(max_rate_limit_wait=0.05)  # type: ignore[attr-defined]
        used = int(sim.allowances["binance"].take("client")[0])  # requests so far, plus this one
        for _ in range(20 - used):
            await ex.get_ticker("BTCUSDT")
        assert ex.pacer.waits > 0  # type: ignore[attr-defined]
    assert sim.over_limit == 0
