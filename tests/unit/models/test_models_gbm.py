"""PricePredictor: seed 002's interface and defaults, repeatable training, what predict means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from btb.data.features import FEATURE_NAMES
from btb.errors import ConfigError, DataError, ModelError
from btb.models.base import BaseModel, SignalModel
from btb.models.gbm import PricePredictor

from .conftest import FAST_GBM


@pytest.fixture(scope="module")
def trained(btc_1h: pd.DataFrame) -> PricePredictor:
    model = PricePredictor(FAST_GBM)
    model.train(btc_1h.iloc[:3000])
    return model


def test_seed_002_defaults_reach_lightgbm() -> None:
    model = PricePredictor()
    assert isinstance(model, BaseModel) and isinstance(model, SignalModel)
    params = model.lgb_params()
    assert model.config["n_estimators"] == 100
    assert (params["max_depth"], params["learning_rate"], params["seed"]) == (5, 0.1, 42)
    assert params["deterministic"] is True and params["num_threads"] == 2
    assert params["objective"] == "regression"
    assert model.feature_names == FEATURE_NAMES and len(FEATURE_NAMES) >= 34


def test_bad_config_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"model\.n_estimator\b"):
        PricePredictor({"n_estimator": 10})
    with pytest.raises(ConfigError, match=r"model\.horizon"):
        PricePredictor({"horizon": 0})
    with pytest.raises(ConfigError, match=r"model\.learning_rate"):
        PricePredictor({"learning_rate": "fast"})
    with pytest.raises(ConfigError, match=r"features\.rsi_periods"):
        PricePredictor({"features": {"rsi_periods": [1]}})


def test_prepare_features_aligns_forward_returns(btc_1h: pd.DataFrame) -> None:
    data = btc_1h.iloc[:300]
    model = PricePredictor({"horizon": 3})
    x, y = model.prepare_features(data)
    # warm-up rows (49) and the last 3 rows (no future close) are dropped.
    assert x.index[0] == data.index[49] and x.index[-1] == data.index[-4]
    assert list(x.columns) == FEATURE_NAMES and x.index.equals(y.index)
    close = data["close"]
    t = data.index[100]
    assert y[t] == pytest.approx(close.iloc[103] / close.iloc[100] - 1, rel=1e-12)


def test_train_reports_held_out_metrics_and_window(btc_1h: pd.DataFrame) -> None:
    model = PricePredictor({**FAST_GBM, "horizon": 2})
    metrics = model.train(btc_1h.iloc[:3000])
    assert set(metrics) == {"rows", "direction_accuracy", "rmse", "mae"}
    # held-out tail: 20 % of 3000 rows, minus the 2 last rows that have no label.
    assert metrics["rows"] == 600 - 2
    assert 0.4 < metrics["direction_accuracy"] < 0.6
    assert 0 < metrics["mae"] < metrics["rmse"] < 0.05
    # fitted on the rows before the tail, with a gap of `horizon` rows between them.
    assert model.training_window["fit_rows"] == 3000 - 600 - 2
    assert model.booster is not None and model.booster.num_trees() == 30


def test_training_is_repeatable(btc_1h: pd.DataFrame, trained: PricePredictor) -> None:
    again = PricePredictor(FAST_GBM)
    again.train(btc_1h.iloc[:3000])
    assert again.booster is not None and trained.booster is not None
    assert again.booster.model_to_string() == trained.booster.model_to_string()
    assert again.calibrator.to_dict() == trained.calibrator.to_dict()


def test_predict_is_seed_002_pair_for_the_last_candle(
    btc_1h: pd.DataFrame, trained: PricePredictor
) -> None:
    history = btc_1h.iloc[:3500]
    prediction, confidence = trained.predict(history)  # unpacks like seed 002's tuple
    assert isinstance(trained.predict(history), np.ndarray)
    assert 0.0 <= confidence <= 1.0 and np.isfinite(prediction)
    # Same numbers as the vectorised path on the same 500-row history window.
    frame = trained.predict_frame(history.iloc[-PricePredictor.PREDICT_HISTORY :])
    assert (prediction, confidence) == tuple(frame.iloc[-1])
    assert trained.predict_signal(history) == (prediction, confidence)


def test_predict_frame_is_causal(btc_1h: pd.DataFrame, trained: PricePredictor) -> None:
    full = trained.predict_frame(btc_1h.iloc[3000:3400])
    prefix = trained.predict_frame(btc_1h.iloc[3000:3200])
    pd.testing.assert_frame_equal(prefix, full.iloc[:200])
    assert full["prediction"].iloc[:49].isna().all() and full.iloc[49:].notna().all().all()
    assert (full["confidence"].iloc[:49] == 0.0).all()  # no forecast: no confidence


def test_confidence_is_the_calibrated_rate(btc_1h: pd.DataFrame, trained: PricePredictor) -> None:
    frame = trained.predict_frame(btc_1h.iloc[3000:4000]).iloc[49:]
    expected = trained.calibrator.confidence(frame["prediction"].to_numpy())
    np.testing.assert_array_equal(frame["confidence"].to_numpy(), expected)
    # Bigger forecasts never get less confidence (isotonic in |forecast|).
    ordered = frame.assign(size=frame["prediction"].abs()).sort_values("size")
    assert (np.diff(ordered["confidence"].to_numpy()) >= 0).all()


def test_untrained_and_short_inputs(btc_1h: pd.DataFrame, trained: PricePredictor) -> None:
    with pytest.raises(ModelError, match="not trained"):
        PricePredictor().predict(btc_1h.iloc[:100])
    with pytest.raises(ModelError, match="untrained"):
        PricePredictor().save("unused")
    # Too little history for the features: no opinion, never an error in a live loop.
    assert trained.min_history == 50
    prediction, confidence = trained.predict(btc_1h.iloc[:49])
    assert np.isnan(prediction) and confidence == 0.0
    assert np.isfinite(trained.predict(btc_1h.iloc[:50])[0])
    with pytest.raises(DataError, match="too few rows"):
        PricePredictor(FAST_GBM).train(btc_1h.iloc[:90])
    with pytest.raises(DataError, match="at least 50 rows"):  # 79 fit rows, 49 of them warm-up
        PricePredictor(FAST_GBM).train(btc_1h.iloc[:100])


def test_feature_importance_names_every_feature(trained: PricePredictor) -> None:
    importance = trained.feature_importance()
    assert set(importance) == set(FEATURE_NAMES)
    values = list(importance.values())
    assert values == sorted(values, reverse=True) and values[0] > 0
