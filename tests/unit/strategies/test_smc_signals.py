"""SMC: swings, BOS/CHoCH, order blocks, fair-value gaps and retest entries on a hand-made table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from btb.data.features import find_lookahead
from btb.strategies.factory import create_strategy
from btb.strategies.smc import SMCStrategy

from .strategy_candles import frame, mirrored, real_candles, rows

# (open, high, low, close); swing_length L = 1. Hand derivation:
#  swings: bar 1 high 13 > 11 and > 12.6 -> swing high, known at t=2;
#          bar 3 low 9.8 < 11 and < 10.2 -> swing low, known at t=4;
#          bar 6 high 13.6 > 13.5 and > 13.1 -> swing high, known at t=7.
#  t=5: close 13.4 > 13 -> first break: BOS up, trend +1. Leg bars 1..5, lowest low bar 3 (9.8);
#       last bearish candle in bars 1..3 is bar 3 -> order block [9.8, 11.5].
#  t=6: low 12.8 > high of bar 4 (12) -> bullish fair-value gap [12, 12.8].
#  t=7: low 11.3 touches both zones (11.3 <= 11.5 and <= 12.8), close 12 holds above both
#       bottoms, trend +1 -> enter long on the most recent zone touched.
#  t=8: close 9.6 < swing low 9.8 against the trend -> CHoCH down, trend -1 -> exit long.
BARS = [
    (10.0, 11.0, 9.0, 10.0),
    (10.0, 13.0, 10.0, 12.5),
    (12.5, 12.6, 11.0, 11.2),
    (11.2, 11.5, 9.8, 10.5),
    (10.5, 12.0, 10.2, 11.8),
    (11.8, 13.5, 11.5, 13.4),
    (13.4, 13.6, 12.8, 13.0),
    (13.0, 13.1, 11.3, 12.0),
    (12.0, 12.2, 9.5, 9.6),
]
BASE = {"swing_length": 1, "stop_buffer": 0.001, "min_stop": 0.002, "risk_reward": 2.0}


def test_structure_events() -> None:
    s = SMCStrategy({**BASE}).structure(frame(BARS))
    assert s["swing_high"].dropna().to_dict() == {s.index[2]: 13.0, s.index[7]: 13.6}
    assert s["swing_low"].dropna().to_dict() == {s.index[4]: 9.8}
    assert s["bos"].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0]
    assert s["choch"].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, -1]
    assert s["trend"].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, -1]


def test_order_block_retest_entry_and_choch_exit() -> None:
    sig = SMCStrategy({**BASE, "use_fvg": False}).signals(frame(BARS))
    assert rows(sig["enter_long"]) == [7]
    assert rows(sig["exit_long"]) == [8]
    stop = (12.0 - 9.8 * 0.999) / 12.0  # stop just under the block's low 9.8
    assert sig["stop_loss"].iloc[7] == pytest.approx(stop)
    assert sig["take_profit"].iloc[7] == pytest.approx(2 * stop)


def test_fair_value_gap_entry_uses_min_stop() -> None:
    # Gap bottom 12 * 0.999 = 11.988 is 0.1 % under the close 12: below min_stop 0.2 %.
    for params in ({"use_order_blocks": False}, {}):  # with both zones the gap is more recent
        sig = SMCStrategy({**BASE, **params}).signals(frame(BARS))
        assert rows(sig["enter_long"]) == [7]
        assert sig["stop_loss"].iloc[7] == pytest.approx(0.002)
        assert sig["take_profit"].iloc[7] == pytest.approx(0.004)


def test_zone_age_single_use_and_invalidation() -> None:
    # Too old: the block is 2 bars old at t=7.
    old = SMCStrategy({**BASE, "use_fvg": False, "max_zone_age": 1}).signals(frame(BARS))
    assert not old["enter_long"].any()
    # A second touch at t=8 does not re-enter: the block was used at t=7.
    again = [*BARS[:8], (12.0, 12.5, 11.2, 12.1)]
    sig = SMCStrategy({**BASE, "use_fvg": False}).signals(frame(again))
    assert rows(sig["enter_long"]) == [7]
    # A close under the gap's bottom (11.9 < 12) invalidates it instead of entering.
    through = [*BARS[:7], (13.0, 13.1, 11.8, 11.9)]
    sig = SMCStrategy({**BASE, "use_order_blocks": False}).signals(frame(through))
    assert not sig["enter_long"].any()


def test_short_side_mirrors() -> None:
    down = frame(mirrored(BARS))
    assert not SMCStrategy({**BASE, "use_fvg": False}).signals(down)["enter_short"].any()
    sig = SMCStrategy({**BASE, "use_fvg": False, "allow_short": True}).signals(down)
    assert rows(sig["enter_short"]) == [7] and rows(sig["exit_short"]) == [8]
    assert not sig["enter_long"].any()
    # block [30 - 11.5, 30 - 9.8] = [18.5, 20.2]; stop 20.2 * 1.001 above the close 18
    assert sig["stop_loss"].iloc[7] == pytest.approx((20.2 * 1.001 - 18.0) / 18.0)


def test_swings_need_later_bars() -> None:
    # Cutting the table at t=6 must not reveal the swing high of bar 6 (known only at t=7).
    s = SMCStrategy({**BASE}).structure(frame(BARS[:7]))
    assert s["swing_high"].dropna().tolist() == [13.0]


@pytest.mark.parametrize("data", ["crafted", "real"])
def test_no_lookahead(data: str) -> None:
    strategy = create_strategy("smc", {"allow_short": True})
    if data == "crafted":
        df, cuts = frame(BARS), range(len(BARS))
        strategy = SMCStrategy({**BASE, "allow_short": True})
    else:
        df, cuts = real_candles().iloc[:1200], range(30, 1200, 53)

    def compute(x: pd.DataFrame) -> pd.DataFrame:
        return strategy.signals(x).astype(float)

    assert find_lookahead(compute, df, cuts, rtol=0.0) == []


def test_real_data_entries_have_stops_beyond_price() -> None:
    sig = create_strategy("smc", {}).signals(real_candles().iloc[:3000])
    entries = sig[sig["enter_long"]]
    assert len(entries) > 10
    assert (entries["stop_loss"] >= 0.002).all() and np.isfinite(entries["stop_loss"]).all()
    assert np.allclose(entries["take_profit"], 2 * entries["stop_loss"])
