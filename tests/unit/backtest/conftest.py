"""Real candles for backtest unit tests (BTC/USDT 1h from the shared data)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


def read_ohlcv(path: Path) -> pd.DataFrame:
    """A shared-data CSV as a canonical frame (UTC open-time index, float64 columns)."""
    df = pd.read_csv(path)
    index = pd.to_datetime(df.pop("timestamp"), unit="ms", utc=True).rename("timestamp")
    df.index = pd.DatetimeIndex(index)
    return df.astype("float64")


@pytest.fixture(scope="session")
def btc_1h(ohlcv_dir: Path) -> pd.DataFrame:
    return read_ohlcv(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz")


def backtest_config(**backtest: object) -> dict[str, object]:
    bt: dict[str, object] = {
        "initial_capital": 10_000.0,
        "sizing": "fixed_notional",
        "fixed_notional": 1000.0,
    }
    bt.update(backtest)
    return {
        "exchange": {"name": "sim", "testnet": True},
        "trading": {"symbols": ["BTCUSDT"], "timeframes": ["1h"], "strategy": "ema_cross"},
        "strategy_params": {"fast": 9, "slow": 21},
        "risk": {},
        "data": {},
        "backtest": bt,
    }
