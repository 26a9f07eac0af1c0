"""Benchmark: the exchange simulator and btb's Bybit client over loopback.

The simulator runs as ``btb sim`` in its own process (stepped clock, real BTC/ETH 5m candles)
and the client talks to it over 127.0.0.1, so server and client do not share an event loop.
Figures, each with the size it ran at (``sizes``):

* ``accepted_orders_per_s``: resting limit orders accepted, ``concurrency`` requests in flight,
  through :class:`ByBitDirectClient` (signing, JSON, HTTP both ways);
* ``market_orders_filled_per_s``: market orders accepted *and* filled at once, same way;
* ``create_order_latency_ms_p50`` / ``_p99``: one ``create_order`` round trip at a time through
  ByBitDirectClient (the call returns once the simulator has booked the order);
* ``matched_orders_per_s``: in-process matching, resting limit orders filled by one candle
  (the shared fill rules applied order by order, fills booked to positions and balances).

    .venv/bin/python bench/bench_exchange.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ohlcv" / "binance_spot"
KEY, SECRET = "bench-key", "bench-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_sim(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BTB_SIM_API_KEY": KEY, "BTB_SIM_API_SECRET": SECRET}
    cmd = [
        sys.executable,
        "-m",
        "btb.cli.main",
        "sim",
        "--port",
        str(port),
        "--speed",
        "0",
        "--data",
        str(DATA),
        "--timeframe",
        "5m",
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--balance",
        "100000000",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/state", timeout=1) as r:
                json.load(r)
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("btb sim did not start within 60 s")


async def _orders_per_s(
    client: Any, price: float, kind: str, n_orders: int, concurrency: int
) -> float:
    """``n_orders`` resting limit buys or alternating market orders, ``concurrency`` at once."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            if kind == "limit":
                await client.create_order("BTCUSDT", "buy", "limit", "0.001", round(price * 0.5, 1))
            else:
                side = "buy" if i % 2 else "sell"
                await client.create_order("BTCUSDT", side, "market", "0.001", reference_price=price)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n_orders)))
    return n_orders / (time.perf_counter() - start)


async def _latencies_ms(client: Any, price: float, n_orders: int) -> list[float]:
    """Round trips of one ``create_order`` at a time, sorted."""
    latencies = []
    for _ in range(n_orders):
        t0 = time.perf_counter()
        await client.create_order("BTCUSDT", "buy", "limit", "0.001", round(price * 0.5, 1))
        latencies.append((time.perf_counter() - t0) * 1000)
    return sorted(latencies)


async def _http_figures(
    url: str, n_accept: int, n_market: int, n_latency: int, concurrency: int
) -> dict[str, Any]:
    from btb.exchange.bybit_direct import ByBitDirectClient

    async with ByBitDirectClient(KEY, SECRET, testnet=False, base_url=url, timeout=30) as client:
        price = float((await client.fetch_ticker("BTCUSDT"))["last"])
        accepted = await _orders_per_s(client, price, "limit", n_accept, concurrency)
        filled = await _orders_per_s(client, price, "market", n_market, concurrency)
        latencies = await _latencies_ms(client, price, n_latency)
    return {
        "accepted_orders_per_s": round(accepted, 1),
        "market_orders_filled_per_s": round(filled, 1),
        "create_order_latency_ms_p50": round(statistics.median(latencies), 3),
        "create_order_latency_ms_p99": round(latencies[int(0.99 * (len(latencies) - 1))], 3),
        "create_order_latency_ms_mean": round(statistics.fmean(latencies), 3),
    }


def _matching_figure(n_orders: int) -> float:
    """Orders matched per second when one candle crosses ``n_orders`` resting limits."""
    from btb.core.enums import OrderType, Side
    from btb.exchange.sim import OrderRequest, SimExchange

    sim = SimExchange.from_data(
        DATA, timeframe="5m", symbols=["BTCUSDT"], accounts={KEY: SECRET}, balance="1000000000"
    )
    venue, account = sim.venue, sim.venue.accounts[KEY]
    replay = venue.replay
    # find a candle that trades well below its open, so every resting buy in it fills
    while True:
        bar = next(
            replay.closed_between("BTCUSDT", venue.now_ms(), venue.now_ms() + replay.base_ms)
        )
        if bar.low < bar.open * 0.998:
            break
        venue.step()
    level = venue.to_price("BTCUSDT", bar.open * 0.999)
    for _ in range(n_orders):
        venue.place_order(
            account,
            OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=level),
        )
    start = time.perf_counter()
    venue.step()
    elapsed = time.perf_counter() - start
    assert not account.open_orders(), "every order must have matched"
    return n_orders / elapsed


def run(quick: bool = False) -> dict[str, Any]:
    """Run the exchange benchmark; ``quick`` uses 10x smaller sizes."""
    scale = 10 if quick else 1
    sizes = {
        "accept_orders": 2000 // scale,
        "market_orders": 1000 // scale,
        "latency_orders": 1000 // scale,
        "concurrency": 16,
        "matched_orders": 5000 // scale,
    }
    port = _free_port()
    proc = _start_sim(port)
    try:
        figures = asyncio.run(
            _http_figures(
                f"http://127.0.0.1:{port}",
                sizes["accept_orders"],
                sizes["market_orders"],
                sizes["latency_orders"],
                sizes["concurrency"],
            )
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    figures["matched_orders_per_s"] = round(_matching_figure(sizes["matched_orders"]), 1)
    figures["client"] = "ByBitDirectClient"
    figures["transport"] = "HTTP/1.1 over 127.0.0.1, simulator in a separate process"
    figures["sizes"] = sizes
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(quick=parser.parse_args().quick), indent=2))
