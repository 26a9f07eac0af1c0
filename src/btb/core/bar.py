"""A closed candle. Keyed by its OPEN time (UTC); usable only once ``close_time`` has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def timeframe_seconds(timeframe: str) -> int:
    """Length of a timeframe such as ``"5m"``, ``"1h"``, ``"1d"`` in seconds.

    Raises ValueError for anything else, naming the timeframe.
    """
    unit = timeframe[-1:]
    count = timeframe[:-1]
    if unit not in _UNIT_SECONDS or not count.isdigit() or int(count) <= 0:
        raise ValueError(f"unknown timeframe {timeframe!r} (expected e.g. 1m, 5m, 1h, 4h, 1d, 1w)")
    return int(count) * _UNIT_SECONDS[unit]


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV candle of ``symbol`` at ``timeframe``; prices are float64 market data."""

    symbol: str
    timeframe: str
    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def __post_init__(self) -> None:
        if self.open_time.tzinfo is None:
            raise ValueError(
                f"Bar {self.symbol} {self.timeframe}: open_time must be timezone-aware"
            )

    @property
    def close_time(self) -> datetime:
        """The instant the candle closes (the open time of the next candle)."""
        return self.open_time + timedelta(seconds=timeframe_seconds(self.timeframe))
