"""ema_cross: EMA definition, crosses, signals, parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from btb.errors import ConfigError
from btb.strategies.ema_cross import EmaCrossStrategy, crosses, ema


def hand_ema(values: list[float], n: int) -> list[float]:
    """SMA of the first n values, then e[t] = e[t-1] + 2/(n+1) * (x[t] - e[t-1])."""
    out = [float("nan")] * (n - 1)
    e = sum(values[:n]) / n
    out.append(e)
    for x in values[n:]:
        e = e + 2 / (n + 1) * (x - e)
        out.append(e)
    return out


def test_ema_is_talib_style_sma_seeded() -> None:
    x = [10.0, 11.0, 12.0, 11.0, 10.0, 13.0, 14.0]
    assert np.allclose(ema(np.array(x), 3), hand_ema(x, 3), equal_nan=True, rtol=1e-12)


def test_crosses_are_strict_on_both_bars() -> None:
    fast = np.array([1.0, 3.0, 1.0, 1.0, 3.0])
    slow = np.full(5, 2.0)
    up, down = crosses(fast, slow)
    assert np.flatnonzero(up).tolist() == [1, 4]
    assert np.flatnonzero(down).tolist() == [2]
    # touching the slow line is not crossing it: 1 -> 2 (equal) -> 3 has no cross at all
    up, down = crosses(np.array([1.0, 2.0, 3.0]), np.full(3, 2.0))
    assert not up.any() and not down.any()
    # NaN warm-up never crosses
    up, _ = crosses(np.array([np.nan, 3.0]), np.array([np.nan, 2.0]))
    assert not up.any()


def _frame(close: list[float]) -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=len(close), freq="1h", tz="UTC")
    c = np.array(close)
    return pd.DataFrame({"open": c, "high": c, "low": c, "close": c, "volume": 1.0}, index=idx)


def test_signals_long_only_and_with_shorts() -> None:
    close = [10.0] * 5 + [12.0, 14.0, 16.0] + [12.0, 8.0, 6.0] + [9.0, 13.0]
    df = _frame(close)
    fast, slow = hand_ema(close, 2), hand_ema(close, 4)
    want_up = [i for i in range(1, len(close)) if fast[i - 1] < slow[i - 1] and fast[i] > slow[i]]
    want_down = [i for i in range(1, len(close)) if fast[i - 1] > slow[i - 1] and fast[i] < slow[i]]
    assert want_up and want_down
    long_only = EmaCrossStrategy({"fast": 2, "slow": 4}).signals(df)
    assert np.flatnonzero(long_only["enter_long"]).tolist() == want_up
    assert np.flatnonzero(long_only["exit_long"]).tolist() == want_down
    assert not long_only["enter_short"].any() and not long_only["exit_short"].any()
    both = EmaCrossStrategy({"fast": 2, "slow": 4, "allow_short": True}).signals(df)
    assert np.flatnonzero(both["enter_short"]).tolist() == want_down
    assert np.flatnonzero(both["exit_short"]).tolist() == want_up
    assert list(both.index) == list(df.index)


def test_parameters_are_declared_and_validated() -> None:
    s = EmaCrossStrategy({"fast": 5, "slow": 30, "stop_loss": None})
    assert s.warmup == 31  # slow + 1: a cross compares two rows of the slow EMA
    assert s.default_brackets() == (None, 0.04)
    assert EmaCrossStrategy.is_signal_strategy()
    for bad, key in (
        ({"fast": 30, "slow": 30}, "fast"),
        ({"slow": 1}, "slow"),
        ({"fast": 9.5}, "fast"),
        ({"allow_short": 1}, "allow_short"),
        ({"stop_loss": 0.9}, "stop_loss"),
        ({"speed": 3}, "speed"),
    ):
        with pytest.raises(ConfigError) as err:
            EmaCrossStrategy(bad)
        assert err.value.key_path == f"strategy_params.{key}"


def test_seed_api_standalone() -> None:
    close = [10.0, 9.0, 8.0, 7.0, 6.0, 8.0, 10.0, 12.0]
    s = EmaCrossStrategy({"fast": 2, "slow": 4})
    df = _frame(close)
    cross = int(np.flatnonzero(s.signals(df)["enter_long"])[0])
    head = df.iloc[: cross + 1]
    assert s.analyze_market(head).trend == "bullish"
    signal = s.generate_signal(head, balance=__import__("decimal").Decimal(1000))
    assert signal is not None and signal.action == "enter"
    pos = s.open_position()
    price = float(head["close"].iloc[-1])
    # seed 002 sizing at 1 % risk and the 2 % stop: 1000 * 0.01 / (price * 0.02)
    assert float(pos.quantity) == pytest.approx(1000 * 0.01 / (price * 0.02))
    assert float(pos.stop_loss or 0) == pytest.approx(price * 0.98)
    closed = s.update_positions(pos.stop_loss * 1, df)  # type: ignore[operator]
    assert closed[0].exit_reason == "stop_loss"
    perf = s.get_performance()
    assert perf.total_trades == 1 and perf.losing_trades == 1


def test_warmup_is_the_first_frame_length_that_can_signal() -> None:
    # fast 2 / slow 4 over closes 10, 10, 10, 9, 12 (by hand, TA-Lib seeding with the mean):
    # fast: row 1 = 10, row 2 = 10, row 3 = 10 - 2/3 = 9.333, row 4 = 9.333 + 2/3 * 2.667
    # = 11.111; slow: row 3 = mean(10, 10, 10, 9) = 9.75, row 4 = 9.75 + 0.4 * 2.25 = 10.65.
    # Row 4 is a cross up (9.333 < 9.75, 11.111 > 10.65): 5 = slow + 1 rows are needed.
    s = EmaCrossStrategy({"fast": 2, "slow": 4})
    closes = [10.0, 10.0, 10.0, 9.0, 12.0]
    index = pd.date_range("2024-01-01", periods=5, freq="1h", tz="UTC")
    df = pd.DataFrame({c: closes for c in ("open", "high", "low", "close")}, index=index)
    df["volume"] = 1.0
    assert s.warmup == 5
    assert s.signals(df.iloc[: s.warmup])["enter_long"].tolist() == [False] * 4 + [True]
    # one row fewer (any window of 4 rows) can never carry a signal
    for start in range(2):
        short = s.signals(df.iloc[start : start + s.warmup - 1])
        assert not short.to_numpy().any()
