"""Run crafted candles through the Backtester (both paths) and return the trades table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from btb.backtest.engine import Backtester
from btb.core import Instrument
from btb.strategies.base import BaseStrategy, Param

START = pd.Timestamp("2024-01-01", tz="UTC")
Candle = tuple[float, float, float, float]


def frame(candles: Sequence[Candle]) -> pd.DataFrame:
    """1-minute candles from (open, high, low, close) tuples, volume 1."""
    index = pd.date_range(START, periods=len(candles), freq="1min", tz="UTC", name="timestamp")
    data = np.array(candles, dtype=np.float64)
    return pd.DataFrame(
        {
            "open": data[:, 0],
            "high": data[:, 1],
            "low": data[:, 2],
            "close": data[:, 3],
            "volume": 1.0,
        },
        index=index,
    )


def bar_time(i: int) -> pd.Timestamp:
    return START + pd.Timedelta(minutes=i)


class Scripted(BaseStrategy):
    """Signals given per bar position: ``script = {bar: {"enter_long", ...}}``."""

    script: ClassVar[Mapping[int, set[str]]] = {}
    params_spec: ClassVar[Mapping[str, Param]] = {
        "stop_loss": Param(float, None, nullable=True),
        "take_profit": Param(float, None, nullable=True),
    }

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        cols = {
            c: np.zeros(len(df), dtype=bool)
            for c in ("enter_long", "exit_long", "enter_short", "exit_short")
        }
        for bar, names in self.script.items():
            if bar < len(df):
                for name in names:
                    cols[name][bar] = True
        return pd.DataFrame(cols, index=df.index)


def scripted(script: Mapping[int, set[str]], **params: Any) -> BaseStrategy:
    cls = type("ScriptedCase", (Scripted,), {"script": dict(script)})
    return cls(params)


def config(
    symbols: Sequence[str] = ("AAAUSDT",),
    *,
    market_type: str = "spot",
    leverage: int = 1,
    max_open_positions: int = 3,
    **backtest: Any,
) -> dict[str, Any]:
    bt = {
        "initial_capital": 10_000.0,
        "taker_fee": 0.0,
        "maker_fee": 0.0,
        "sizing": "fixed_notional",
        "fixed_notional": 1000.0,
        "market_type": market_type,
    }
    bt.update(backtest)
    return {
        "exchange": {"name": "sim", "testnet": True},
        "trading": {
            "symbols": list(symbols),
            "timeframes": ["1m"],
            "strategy": "scripted",
            "max_open_positions": max_open_positions,
            "leverage": leverage,
        },
        "risk": {"risk_per_trade": 0.01, "stop_loss_pct": 0.5, "take_profit_pct": 5.0},
        "data": {},
        "backtest": bt,
    }


def run(
    cfg: Mapping[str, Any],
    data: Mapping[str, pd.DataFrame],
    strategy: BaseStrategy,
    path: str,
    instruments: Mapping[str, Instrument] | None = None,
) -> pd.DataFrame:
    bt = Backtester(cfg, data, strategy=strategy, path=path, instruments=instruments)
    results = bt.run()
    assert results["path"] == path
    return results["trades"]


def instrument(symbol: str, *, min_qty: str = "1e-8", market_type: Any = None) -> Instrument:
    from btb.core import MarketType

    step = Decimal("1e-8")
    return Instrument(
        symbol,
        symbol[:-4],
        "USDT",
        market_type or MarketType.SPOT,
        step,
        step,
        Decimal(min_qty),
        max_leverage=125,
    )
