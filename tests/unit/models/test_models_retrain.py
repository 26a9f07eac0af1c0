"""Retraining on a rolling window: versions, the CURRENT pointer, the gate, the atomic swap."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.errors import ConfigError
from btb.models import load_predictor
from btb.models.gbm import PricePredictor
from btb.models.retrain import ModelSlot, RollingRetrainer

from .conftest import FAST_GBM


def factory() -> PricePredictor:
    return PricePredictor(FAST_GBM)


def test_publishes_versions_and_swaps(btc_1h: pd.DataFrame, tmp_path: Path) -> None:
    slot = ModelSlot()
    assert np.isnan(slot.predict_signal(btc_1h)[0])  # no model yet: no opinion
    retrainer = RollingRetrainer(factory, tmp_path / "btc", window_rows=1500, keep=2)
    first = retrainer.retrain(btc_1h.iloc[:3000], slot)
    assert first.accepted and first.version == "v000001" and first.rows == 1500
    model, version = slot.current
    assert version == "v000001" and model is not None
    # The rolling window is the last 1500 rows of what was given.
    assert model.training_window["start"] == btc_1h.index[1500].isoformat()
    assert (tmp_path / "btc" / "CURRENT").read_text() == "v000001\n"
    # Loading the versions folder follows CURRENT; it predicts like the live model.
    assert load_predictor(tmp_path / "btc").predict_signal(btc_1h) == slot.predict_signal(btc_1h)

    second = retrainer.retrain(btc_1h.iloc[:4000], slot)
    third = retrainer.retrain(btc_1h.iloc[:5000], slot)
    assert (second.version, third.version) == ("v000002", "v000003")
    assert retrainer.versions() == ["v000002", "v000003"]  # keep=2 pruned the oldest
    assert slot.current[1] == "v000003"
    assert load_predictor(tmp_path / "btc").training_window["end"] == btc_1h.index[4999].isoformat()


def test_a_model_failing_the_gate_is_not_published(btc_1h: pd.DataFrame, tmp_path: Path) -> None:
    slot = ModelSlot()
    live = RollingRetrainer(factory, tmp_path / "m", window_rows=1500).retrain(btc_1h, slot)
    strict = RollingRetrainer(factory, tmp_path / "m", window_rows=1500, min_holdout_accuracy=0.99)
    result = strict.retrain(btc_1h.iloc[:4000], slot)
    assert not result.accepted and "below the floor 0.99" in result.reason
    assert slot.current[1] == live.version
    assert (tmp_path / "m" / "CURRENT").read_text().strip() == live.version
    short = RollingRetrainer(factory, tmp_path / "m", window_rows=200).retrain(btc_1h, slot)
    # 200 rows: 40 held out, the last one without a label -> 39 < 100.
    assert not short.accepted and short.reason == "only 39 held-out rows (need 100)"
    broken = btc_1h.iloc[:2000].copy()
    broken.iloc[1900, broken.columns.get_loc("close")] = np.nan
    failed = RollingRetrainer(factory, tmp_path / "m", window_rows=1500).retrain(broken, slot)
    assert not failed.accepted and failed.reason.startswith("training failed: column 'close'")
    assert slot.current[1] == live.version
    assert RollingRetrainer(factory, tmp_path / "m", window_rows=1500).versions() == [live.version]


def test_config_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"retrain\.window"):
        RollingRetrainer(factory, tmp_path, window_rows=10)
    with pytest.raises(ConfigError, match=r"retrain\.keep"):
        RollingRetrainer(factory, tmp_path, window_rows=500, keep=0)


def test_readers_see_a_whole_model_during_a_swap(btc_1h: pd.DataFrame) -> None:
    first, second = factory(), PricePredictor({**FAST_GBM, "random_state": 7, "horizon": 2})
    first.train(btc_1h.iloc[:2000])
    second.train(btc_1h.iloc[2000:4000])
    history = btc_1h.iloc[:600]
    allowed = {first.predict_signal(history), second.predict_signal(history)}
    slot = ModelSlot(first, "a")
    seen: set[tuple[float, float]] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(slot.predict_signal(history))

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(50):
        slot.swap(second if i % 2 == 0 else first, str(i))
    stop.set()
    thread.join()
    assert seen and seen <= allowed
