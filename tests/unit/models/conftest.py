"""Fixtures for the model tests: real candles from ../shared/data and a synthetic series whose
next return truly depends on the last one (a known, learnable signal)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.data.ingest import read_ohlcv_file

#: small, fast LightGBM settings for tests (one thread: tests share the CPU).
FAST_GBM = {"n_estimators": 30, "num_threads": 1}
#: a tiny transformer that trains in about a second.
TINY_TRANSFORMER = {
    "hidden_dim": 8,
    "num_layers": 1,
    "nhead": 2,
    "window": 6,
    "epochs": 3,
    "batch_size": 128,
    "num_threads": 1,
}


def read_pair(ohlcv_dir: Path, pair: str, timeframe: str) -> pd.DataFrame:
    frame, _ = read_ohlcv_file(ohlcv_dir / "binance_spot" / f"{pair}-{timeframe}.csv.gz")
    return frame


@pytest.fixture(scope="session")
def btc_1h(ohlcv_dir: Path) -> pd.DataFrame:
    """Real BTC/USDT 1h candles, 2024-01-01 .. 2024-09-06 (5980 rows)."""
    return read_pair(ohlcv_dir, "BTC_USDT", "1h")


@pytest.fixture(scope="session")
def eth_1h(ohlcv_dir: Path) -> pd.DataFrame:
    return read_pair(ohlcv_dir, "ETH_USDT", "1h")


def momentum_candles(n: int = 4000, strength: float = 0.5, seed: int = 1) -> pd.DataFrame:
    """Candles whose 1-bar log return is ``strength * previous return + noise`` (AR(1)).

    With strength 0.5 the sign of the next return follows the last one about 2/3 of the time,
    and more often when the last return was large: a real signal whose reliability grows with
    its size, which a calibrated confidence must pick up.
    """
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(n) * 0.01
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = strength * r[t - 1] + noise[t]
    close = 100.0 * np.exp(np.cumsum(r))
    open_ = np.concatenate(([100.0], close[:-1]))
    index = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": rng.lognormal(0.0, 0.3, n) * 100.0,
        },
        index=index,
    )


@pytest.fixture(scope="session")
def momentum() -> pd.DataFrame:
    return momentum_candles()
