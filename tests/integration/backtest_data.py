"""Shared helpers for the backtest integration tests: real candles and configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def read_ohlcv(path: Path) -> pd.DataFrame:
    """A shared-data CSV as a canonical frame (UTC open-time index, float64 columns)."""
    df = pd.read_csv(path)
    index = pd.to_datetime(df.pop("timestamp"), unit="ms", utc=True).rename("timestamp")
    df.index = pd.DatetimeIndex(index)
    return df.astype("float64")


def config(symbol: str, timeframe: str, params: dict[str, Any], **backtest: Any) -> dict[str, Any]:
    bt: dict[str, Any] = {
        "initial_capital": 1_000_000.0,
        "sizing": "fixed_notional",
        "fixed_notional": 10_000.0,
        "taker_fee": 0.001,
        "maker_fee": 0.001,
    }
    leverage = backtest.pop("leverage", 1)
    bt.update(backtest)
    return {
        "exchange": {"name": "sim", "testnet": True},
        "trading": {
            "symbols": [symbol],
            "timeframes": [timeframe],
            "strategy": "ema_cross",
            "max_open_positions": 1,
            "leverage": leverage,
        },
        "strategy_params": params,
        "risk": {},
        "data": {},
        "backtest": bt,
    }
