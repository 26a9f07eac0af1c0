"""Real shipped candles for the data tests, read with plain pandas (independently of btb)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "src" / "btb" / "sample_data" / "binance_spot"
BTC_1H = SAMPLE_DIR / "BTC_USDT-1h.csv.gz"
BTC_5M = SAMPLE_DIR / "BTC_USDT-5m.csv.gz"
ETH_1H = SAMPLE_DIR / "ETH_USDT-1h.csv.gz"


def read_real(path: Path = BTC_1H, rows: int | None = None) -> pd.DataFrame:
    """A shipped CSV as a canonical frame: float64 OHLCV, UTC index ``timestamp`` (us)."""
    raw = pd.read_csv(path, nrows=rows)
    index = pd.DatetimeIndex(pd.to_datetime(raw.pop("timestamp"), unit="ms", utc=True))
    raw.index = index.as_unit("us").rename("timestamp")
    return raw.astype("float64")


def to_csv_text(frame: pd.DataFrame) -> str:
    """The shared CSV format (ms epoch open times) of ``frame``, as the shipped files use."""
    out = frame.copy()
    out.insert(0, "timestamp", frame.index.as_unit("ms").asi8)
    return out.to_csv(index=False)
