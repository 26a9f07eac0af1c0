"""Enhanced strategy (seed 002): weighted technical signals, ML blend and filters."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.core.enums import PositionSide
from btb.data.features import compute_features, find_lookahead
from btb.errors import ModelError
from btb.strategies.enhanced import WEIGHTS, EnhancedStrategy

from .strategy_candles import frame, real_candles, rows


def jump_frame(last_close: float) -> pd.DataFrame:
    """60 flat bars at 100 (volume 1), then one bar to ``last_close`` on volume 3."""
    bars = [(100.0, 100.0, 100.0, 100.0)] * 60
    hi, lo = max(100.0, last_close), min(100.0, last_close)
    return frame([*bars, (100.0, hi, lo, last_close)], volume=[1.0] * 60 + [3.0])


# Hand derivation for the jump to 105 (bb_std = 5 so the band does not saturate the signal):
#  ema +1 (EMA9 reacts more than EMA21), rsi -1 (only gains: RSI 100 > 70), macd +1 (the
#  MACD line jumps above its lagging signal line), volume +1 (3 / SMA20 = 3 / 1.1 > 1.5, up
#  bar), momentum +1 (105/100 - 1 = 5 % over 2 %, clipped).  Bollinger: 19 closes at 100 and
#  one at 105, mean 100.25, population sigma = sqrt((19 * 0.25^2 + 4.75^2) / 20) = sqrt(1.1875);
#  bb_position = (4.75 + 5 sigma) / (10 sigma), so bb_signal = 1 - 2 * bb_position = -0.95 / sigma.
SIGMA = math.sqrt(1.1875)
BB = -0.95 / SIGMA
TECH = 0.3 - 0.2 + 0.15 * BB + 0.15 + 0.1 + 0.1  # = 0.3192...
JUMP = {"bb_std": 5.0}


class Constant:
    """A predictor that always says the same (the protocol's smallest implementation)."""

    def __init__(self, prediction: float, confidence: float) -> None:
        self.value = (prediction, confidence)

    def predict(self, df: pd.DataFrame) -> tuple[float, float]:
        return self.value


class ConstantFrame(Constant):
    def predict_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        n = len(df)
        return pd.DataFrame(
            {"prediction": [self.value[0]] * n, "confidence": [self.value[1]] * n},
            index=df.index,
        )


def test_flat_market_is_neutral() -> None:
    s = EnhancedStrategy()
    flat = jump_frame(100.0)
    assert s.calculate_technical_signals(flat) == dict.fromkeys(WEIGHTS, 0.0)
    sig = s.signals(flat)
    assert not sig.to_numpy().any()
    assert s.generate_signal(flat) == (None, 0.0, {})


def test_jump_bar_buys_with_hand_computed_strength() -> None:
    s = EnhancedStrategy(JUMP)
    df = jump_frame(105.0)
    tech = s.calculate_technical_signals(df)
    expected = {"ema_signal": 1.0, "rsi_signal": -1.0, "bb_signal": BB, "macd_signal": 1.0,
                "volume_signal": 1.0, "momentum_signal": 1.0}  # fmt: skip
    assert tech == pytest.approx(expected)
    assert rows(s.signals(df)["enter_long"]) == [60]
    signal, strength, info = s.generate_signal(df)  # type: ignore[misc]
    assert signal == "BUY" and strength == pytest.approx(TECH)
    assert info["technical_signals"] == pytest.approx(expected) and info["ml_confidence"] == 0.0
    # the default 2-sigma band saturates bb at -1: 0.45 - 0.15 = 0.30 is not above 0.3
    assert not EnhancedStrategy().signals(df)["enter_long"].any()


def test_drop_bar_sells_exits_and_shorts_only_when_allowed() -> None:
    df = jump_frame(95.0)
    sig = EnhancedStrategy(JUMP).signals(df)
    assert rows(sig["exit_long"]) == [60] and not sig["enter_short"].any()
    assert EnhancedStrategy(JUMP).generate_signal(df)[:2] == ("SELL", pytest.approx(TECH))  # type: ignore[index]
    short = EnhancedStrategy({**JUMP, "allow_short": True}).signals(df)
    assert rows(short["enter_short"]) == [60]


def test_combine_signals_weights_and_ml_blend() -> None:
    s = EnhancedStrategy()
    tech = {"ema_signal": 1.0, "rsi_signal": 1.0, "bb_signal": 0.5, "macd_signal": 1.0,
            "volume_signal": 0.0, "momentum_signal": -0.5}  # fmt: skip
    # no model: 0.3 + 0.2 + 0.075 + 0.15 + 0 - 0.05 = 0.675
    assert s.combine_signals(tech, 0.0, 0.0) == ("BUY", pytest.approx(0.675))
    s.attach_predictor(Constant(-0.001, 0.9))
    # ml weight min(0.9, 0.8) = 0.8: 0.2 * 0.675 - 0.8 = -0.665
    assert s.combine_signals(tech, -0.001, 0.9) == ("SELL", pytest.approx(0.665))
    # ml weight 0.6: 0.4 * 0.675 - 0.6 = -0.33
    assert s.combine_signals(tech, -0.001, 0.6) == ("SELL", pytest.approx(0.33))
    assert s.combine_signals(dict.fromkeys(WEIGHTS, 0.0), 0.0, 0.7) == ("HOLD", 0.0)


@pytest.mark.parametrize("predictor_cls", [Constant, ConstantFrame])
def test_model_confidence_filter(predictor_cls: type[Constant]) -> None:
    df = jump_frame(105.0)
    s = EnhancedStrategy(JUMP)
    s.attach_predictor(predictor_cls(0.002, 0.5))  # confidence must be > 0.5
    assert s.generate_signal(df) == (None, 0.0, {})
    assert not s.signals(df).to_numpy().any()
    s.attach_predictor(predictor_cls(-0.002, 0.9))
    # 0.2 * TECH - 0.8 < -0.3: the model overrules the technical buy
    signal, strength, info = s.generate_signal(df)  # type: ignore[misc]
    assert signal == "SELL" and strength == pytest.approx(0.8 - 0.2 * TECH)
    assert info["ml_prediction"] == -0.002 and info["ml_confidence"] == 0.9
    sig = s.signals(df)
    # MACD(12, 26, 9) is the last indicator to exist (row 25 + 8 = 33, the 34th bar: warmup);
    # from there on the model's sell outweighs everything
    assert s.warmup == 34 and rows(sig["exit_long"]) == list(range(33, 61))
    assert not sig["enter_long"].any()


def test_seed_003_form_sizes_the_entry() -> None:
    df = jump_frame(105.0)
    trade = EnhancedStrategy(JUMP).generate_signal(df, Decimal("10000"))
    assert trade is not None and not isinstance(trade, tuple)
    assert trade.action == "enter" and trade.side is PositionSide.LONG
    assert trade.price == Decimal("105.0")
    assert trade.quantity == pytest.approx(Decimal("100") / Decimal("2.1"))  # 1 % / 2 % stop
    assert trade.stop_loss == Decimal("102.900") and trade.take_profit == Decimal("109.200")


def test_missing_model_path_is_a_model_error(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_model"
    with pytest.raises(ModelError, match="no_such_model"):
        EnhancedStrategy({"model_path": str(missing)})


def test_technical_signals_agree_with_the_feature_module() -> None:
    """An independent implementation: btb.data.features computes the same indicators."""
    df = real_candles().iloc[:2000]
    mine = EnhancedStrategy().technical_frame(df).iloc[60:]
    f = compute_features(df).iloc[60:]
    np.testing.assert_array_equal(mine["ema_signal"], np.sign(f["ema_cross_9_21"]))
    rsi = f["rsi_14"].to_numpy()
    np.testing.assert_array_equal(mine["rsi_signal"], np.where(rsi < 30, 1.0, 0) - (rsi > 70))
    np.testing.assert_allclose(mine["bb_signal"], np.clip(1 - 2 * f["bb_position"], -1, 1))
    np.testing.assert_array_equal(mine["macd_signal"], np.sign(f["macd_histogram"]))
    heavy = (f["volume_ratio"] > 1.5).to_numpy()
    np.testing.assert_array_equal(mine["volume_signal"], heavy * np.sign(f["price_change"]))
    np.testing.assert_allclose(
        mine["momentum_signal"], np.clip(f["price_change_5"] / 0.02, -1, 1), rtol=1e-12
    )
    total = sum(mine[k] * w for k, w in WEIGHTS.items())
    np.testing.assert_allclose(mine["technical"], total)


def test_vectorised_signals_match_the_per_bar_seed_api_and_have_no_lookahead() -> None:
    df = real_candles().iloc[:400]
    s = EnhancedStrategy()
    sig = s.signals(df)
    for end in range(340, 400):
        signal, _, _ = s.generate_signal(df.iloc[: end + 1])  # type: ignore[misc]
        assert (signal == "BUY") == bool(sig["enter_long"].iloc[end]), end
        assert (signal == "SELL") == bool(sig["exit_long"].iloc[end]), end

    def compute(x: pd.DataFrame) -> pd.DataFrame:
        return s.signals(x).astype(float)

    assert find_lookahead(compute, real_candles().iloc[:1500], range(40, 1500, 71), rtol=0) == []
