"""Candle frames for the strategy tests: hand-made tables and the shared real data."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

OHLCV = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "ohlcv"


def frame(
    bars: Sequence[Sequence[float]], volume: Sequence[float] | None = None, freq: str = "1h"
) -> pd.DataFrame:
    """OHLCV frame from ``(open, high, low, close)`` rows, UTC open times from 2024-01-01."""
    index = pd.date_range("2024-01-01", periods=len(bars), freq=freq, tz="UTC")
    df = pd.DataFrame(
        [list(b) for b in bars], columns=["open", "high", "low", "close"], index=index
    )
    df["volume"] = list(volume) if volume is not None else 1.0
    return df.astype("float64")


def mirrored(bars: Sequence[Sequence[float]]) -> list[tuple[float, ...]]:
    """Price p -> 30 - p: the same table upside down (high and low swap), for short sides."""
    return [(30 - o, 30 - lo, 30 - h, 30 - c) for o, h, lo, c in bars]


def rows(mask: pd.Series) -> list[int]:
    """Positions where a boolean column is True."""
    return [int(i) for i in np.flatnonzero(mask.to_numpy())]


@lru_cache(maxsize=4)
def real_candles(name: str = "BTC_USDT-1h") -> pd.DataFrame:
    """A shared Binance spot file (``ohlcv/binance_spot/<name>.csv.gz``) as an OHLCV frame."""
    path = OHLCV / "binance_spot" / f"{name}.csv.gz"
    assert path.is_file(), f"shared data not found: {path}"
    df = pd.read_csv(path)
    df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("timestamp"), unit="ms", utc=True))
    return df.astype("float64")


def run_strategy(strategy: object, df: pd.DataFrame, cash: float = 1000.0) -> object:
    """Run ``strategy`` on ``df`` (symbol TESTUSDT, spot, no fees) through the real engine."""
    from decimal import Decimal

    from btb.backtest.event import VenueSettings, run_event
    from btb.core import Instrument, MarketType
    from btb.engine.intents import EngineSettings

    inst = Instrument(
        "TESTUSDT", "TEST", "USDT", MarketType.SPOT, tick_size=Decimal("0.01"),
        lot_step=Decimal("0.001"), min_qty=Decimal("0.001"),
    )  # fmt: skip
    return run_event(
        {"TESTUSDT": df},
        strategy,  # type: ignore[arg-type]
        timeframe="1h",
        settings=EngineSettings(taker_fee=0.0),
        venue_settings=VenueSettings(initial_cash=cash, taker_fee=0.0, maker_fee=0.0),
        instruments={"TESTUSDT": inst},
    )


def fills_by_bar(out: object, df: pd.DataFrame) -> list[tuple[int, float, float]]:
    """``(bar, signed quantity, price)`` of every fill, sorted, rounded to 1e-9."""
    fills = out.fills  # type: ignore[attr-defined]
    bar = {t: i for i, t in enumerate(df.index)}
    return sorted(
        (bar[t], round(q, 9), round(p, 9))
        for t, q, p in zip(fills["time"], fills["signed_qty"], fills["price"], strict=True)
    )
