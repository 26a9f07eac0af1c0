"""Shared setup of the simulator integration tests: a stepped simulator on a free port.

The simulator replays the real Binance BTC/USDT and ETH/USDT 5-minute candles of
``shared/data/ohlcv/binance_spot``; its clock starts after 200 candles of history and moves
only when a test steps it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest

from btb.exchange.sim import SimExchange, SimServer
from btb.exchange.sim.market import read_candle_file

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
KEY, SECRET = "integration-key", "integration-secret"
FIVE_MIN = 300_000


SimPair = tuple[SimExchange, SimServer]


@pytest.fixture(name="sim_server")
async def sim_server_fixture(ohlcv_dir: Path) -> AsyncIterator[SimPair]:
    """A stepped simulator with one funded account, served on a free loopback port."""
    sim = SimExchange.from_data(
        ohlcv_dir / "binance_spot", timeframe="5m", symbols=SYMBOLS, accounts={KEY: SECRET}
    )
    sim.rate_limit_reset_ms = 20
    async with SimServer(sim) as server:
        yield sim, server


def candles(ohlcv_dir: Path, name: str) -> pd.DataFrame:
    """The replayed file itself, read independently of the simulator."""
    return read_candle_file(ohlcv_dir / "binance_spot" / name)


def row_at(frame: pd.DataFrame, ms: int) -> pd.Series:
    return frame.loc[pd.Timestamp(ms, unit="ms", tz="UTC")]


def ccxt_bybit(url: str, key: str = KEY, secret: str = SECRET) -> Any:
    """Unmodified ccxt bybit (async) whose API host is the simulator."""
    import ccxt.async_support as ccxt

    exchange = ccxt.bybit({"apiKey": key, "secret": secret, "enableRateLimit": False})
    exchange.urls["api"] = {name: url for name in exchange.urls["api"]}
    return exchange


def ccxt_binanceusdm(url: str, key: str = KEY, secret: str = SECRET) -> Any:
    """Unmodified ccxt binanceusdm (async): every API host replaced by the simulator's."""
    import ccxt.async_support as ccxt

    exchange = ccxt.binanceusdm({"apiKey": key, "secret": secret, "enableRateLimit": False})
    exchange.urls["api"] = {
        name: url + urlsplit(value).path if isinstance(value, str) else value
        for name, value in exchange.urls["api"].items()
    }
    return exchange
