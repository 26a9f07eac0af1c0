"""Seeded synthetic OHLCV candles for benchmarks (not for tests of behaviour: use real data).

:func:`make_ohlcv` draws a geometric random walk with fat-tailed returns and slowly changing
volatility regimes, builds consistent candles (open = previous close, high >= max(open, close),
low <= min(open, close)) and a volume that rises with the size of the move and with the time of
day. Same ``(n, freq, seed)`` -> identical frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_YEAR_SECONDS = 365.0 * 86_400.0


def make_ohlcv(
    n: int,
    freq: str = "1min",
    seed: int = 42,
    *,
    start: str = "2024-01-01",
    price: float = 30_000.0,
) -> pd.DataFrame:
    """Canonical OHLCV frame of ``n`` candles: float64 open high low close volume, UTC
    ``DatetimeIndex`` named ``timestamp`` (candle open time), ascending."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="timestamp")
    bar_seconds = pd.Timedelta(freq).total_seconds()
    base_sigma = 0.6 * np.sqrt(bar_seconds / _YEAR_SECONDS)  # ~60 % annualised volatility
    # Volatility regimes: a lognormal multiplier that changes every 240 bars.
    regimes = np.exp(0.4 * rng.standard_normal(n // 240 + 1))
    sigma = base_sigma * np.repeat(regimes, 240)[:n]
    returns = sigma * rng.standard_t(4, n) / np.sqrt(2.0)  # t(4) has variance 2
    close = price * np.exp(np.cumsum(returns))
    open_ = np.concatenate(([price], close[:-1]))
    wick = np.abs(rng.normal(0.0, 0.5, (2, n))) * sigma
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    hour = index.hour.to_numpy()
    daily = 1.0 + 0.5 * np.sin(2.0 * np.pi * (hour - 8) / 24.0)  # busiest mid-day UTC
    move = 1.0 + np.abs(returns) / sigma
    volume = rng.lognormal(0.0, 0.6, n) * move * daily * (10.0 * bar_seconds / 60.0)
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
        index=index,
        dtype=np.float64,
    )
