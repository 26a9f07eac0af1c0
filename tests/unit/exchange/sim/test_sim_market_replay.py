"""Candle replay: klines up to the clock, aggregation, the forming candle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.errors import DataError
from btb.exchange.sim.market import MarketReplay, load_replay, read_candle_file

HOUR = 3_600_000


def test_hourly_klines_aggregated_from_5m_equal_binance_hourly_candles(ohlcv_dir: Path) -> None:
    """Independent check: Binance's own 1h candles are the aggregate of its 5m candles."""
    replay = load_replay(ohlcv_dir / "binance_spot", timeframe="5m", symbols=["BTCUSDT"])
    hourly = read_candle_file(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz").iloc[:48]
    start = int(hourly.index[0].timestamp() * 1000)
    rows = replay.klines("BTCUSDT", HOUR, start + 48 * HOUR, start_ms=start, limit=48)
    assert [k.open_ms for k in rows] == [int(t.timestamp() * 1000) for t in hourly.index]
    for k, (_, h) in zip(rows, hourly.iterrows(), strict=True):
        assert (k.open, k.high, k.low, k.close) == (h["open"], h["high"], h["low"], h["close"])
        assert k.volume == pytest.approx(h["volume"], rel=1e-9)
        assert k.closed


def _frame(opens: list[float], start: str = "2024-01-01", freq: str = "1min") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(opens), freq=freq, tz="UTC")
    o = np.array(opens)
    return pd.DataFrame(
        {"open": o, "high": o + 2, "low": o - 1, "close": o + 1, "volume": np.ones(len(o))},
        index=index,
    )


def test_forming_candle_shows_only_what_is_known() -> None:
    replay = MarketReplay({"XUSDT": _frame([10, 20, 30, 40, 50])})
    t0 = replay.start_ms
    now = t0 + 2 * 60_000 + 30_000  # inside the third candle (open 30)
    assert replay.current_price("XUSDT", now) == 30.0
    five = replay.klines("XUSDT", 300_000, now)
    assert len(five) == 1
    k = five[0]
    # closed: candles 10 and 20 (highs 12, 22; lows 9, 19); forming: only its open 30 is known
    assert (k.open, k.high, k.low, k.close, k.volume, k.closed) == (10, 30, 9, 30, 2.0, False)
    ones = replay.klines("XUSDT", 60_000, now)
    assert [r.closed for r in ones] == [True, True, False]
    assert ones[-1].high == ones[-1].low == 30.0
    assert [b.open for b in replay.closed_between("XUSDT", t0, now)] == [10.0, 20.0]


def test_kline_limits_and_ranges_follow_the_exchanges() -> None:
    replay = MarketReplay({"XUSDT": _frame(list(range(1, 11)))})
    t0, now = replay.start_ms, replay.start_ms + 10 * 60_000
    assert [k.open for k in replay.klines("XUSDT", 60_000, now, limit=3)] == [8, 9, 10]
    assert [k.open for k in replay.klines("XUSDT", 60_000, now, start_ms=t0, limit=3)] == [1, 2, 3]
    assert [
        k.open
        for k in replay.klines("XUSDT", 60_000, now, start_ms=t0 + 60_000, end_ms=t0 + 180_000)
    ] == [2, 3, 4]
    assert replay.current_price("XUSDT", now + 3_600_000) == 11.0  # data over: the last close


def test_bad_data_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    full = _frame([1, 2, 3, 4])
    gappy = full.drop(index=full.index[1])
    with pytest.raises(DataError, match="gap or irregular step"):
        MarketReplay({"XUSDT": gappy})
    with pytest.raises(DataError, match="not a multiple"):
        MarketReplay({"XUSDT": _frame([1, 2, 3], freq="5min")}).klines("XUSDT", 420_000, 10**15)
    with pytest.raises(DataError, match="no candles for"):
        MarketReplay({"XUSDT": _frame([1])}).current_price("YUSDT", 0)
    with pytest.raises(DataError, match="not found"):
        load_replay(tmp_path / "missing")


def test_replays_a_parquet_candle_store_like_the_csv_it_came_from(tmp_path: Path) -> None:
    """``btb sim --data`` accepts btb's own Parquet store (written by the data layer)."""
    from btb.data.sample import import_sample, sample_dir
    from btb.data.store import OHLCVStore

    import_sample(tmp_path)
    store = OHLCVStore(tmp_path)
    stored = load_replay(tmp_path, timeframe="1h", symbols=["ETHUSDT"])
    shipped = load_replay(sample_dir(), timeframe="1h", symbols=["ETHUSDT"])
    assert store.has("binance", "ETHUSDT", "1h")
    assert (stored.start_ms, stored.end_ms, stored.base_ms) == (
        shipped.start_ms,
        shipped.end_ms,
        HOUR,
    )
    now = stored.start_ms + 100 * HOUR
    assert stored.klines("ETHUSDT", HOUR, now, limit=100) == shipped.klines(
        "ETHUSDT", HOUR, now, limit=100
    )
