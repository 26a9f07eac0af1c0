"""Walk-forward evaluation: the splits purge, leaks are exposed or refused, confidence means
something.

The leakage tests compare btb's purged walk-forward with seed 002's shuffled k-fold, written here
independently with NumPy (a random permutation cut into 5 parts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from btb.data.features import find_lookahead
from btb.errors import ConfigError, DataError
from btb.models.base import forward_returns
from btb.models.evaluation import (
    WalkForwardConfig,
    format_report,
    walk_forward,
    walk_forward_splits,
)
from btb.models.gbm import PricePredictor

from .conftest import FAST_GBM


def shuffled_kfold_accuracy(
    model_config: dict, features: pd.DataFrame, target: np.ndarray, k: int = 5
) -> float:
    """Seed 002's validation: shuffled k-fold, each fold scored by a model fit on the rest."""
    rows = np.random.default_rng(0).permutation(np.flatnonzero(np.isfinite(target)))
    hits = []
    for i in range(k):
        test = np.sort(rows[i::k])
        train = np.sort(np.setdiff1d(rows, test))
        model = PricePredictor(model_config)
        model.fit_features(features.iloc[train], pd.Series(target[train], features.index[train]))
        forecast, _ = model.predict_features(features.iloc[test])
        directed = target[test] != 0
        hits.append(np.sign(forecast[directed]) == np.sign(target[test][directed]))
    return float(np.concatenate(hits).mean())


# ---- the splitter ---------------------------------------------------------------------------


def test_expanding_splits_by_hand() -> None:
    folds = walk_forward_splits(100, 3, first=10, gap=4)
    # 90 usable rows -> blocks of 22; the first 24 rows (90 - 3 * 22) only train.
    assert [(f.train, f.test) for f in folds] == [
        ((10, 30), (34, 56)),
        ((10, 52), (56, 78)),
        ((10, 74), (78, 100)),
    ]


def test_rolling_splits_keep_a_fixed_window() -> None:
    folds = walk_forward_splits(100, 3, gap=2, test_size=10, train_size=30, mode="rolling")
    assert [(f.train, f.test) for f in folds] == [
        ((38, 68), (70, 80)),
        ((48, 78), (80, 90)),
        ((58, 88), (90, 100)),
    ]


@pytest.mark.parametrize("horizon", [1, 6, 24])
@pytest.mark.parametrize("mode", ["expanding", "rolling"])
def test_no_training_label_reaches_into_its_test_block(horizon: int, mode: str) -> None:
    wf = WalkForwardConfig(n_folds=7, mode=mode, train_size=400)
    wf.check(horizon)
    gap = (wf.purge or horizon) + (wf.embargo or horizon)
    for fold in walk_forward_splits(2000, 7, first=49, gap=gap, train_size=400, mode=mode):
        last_train_row = fold.train[1] - 1
        # its label is close[last + horizon] / close[last] - 1: it must end before the test.
        assert last_train_row + horizon < fold.test[0]
        assert fold.test[0] - fold.train[1] == 2 * horizon  # purge + embargo, defaults


def test_purge_and_embargo_below_the_horizon_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"walk_forward\.purge.*horizon \(12\)"):
        WalkForwardConfig(purge=6).check(12)
    with pytest.raises(ConfigError, match=r"walk_forward\.embargo"):
        WalkForwardConfig(embargo=1).check(2)
    with pytest.raises(ConfigError, match=r"walk_forward\.fold_count"):
        WalkForwardConfig.from_dict({"fold_count": 3})
    with pytest.raises(ConfigError, match="train_size"):
        WalkForwardConfig.from_dict({"mode": "rolling"})
    with pytest.raises(DataError, match="cannot make 5 walk-forward folds of 20"):
        walk_forward_splits(100, 5, gap=10, test_size=20)  # nothing left to train on


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"buckets": ["a", "b"]}, "buckets"),
        ({"buckets": 5}, "buckets"),
        ({"buckets": None}, "buckets"),
        ({"buckets": [0, True]}, "buckets"),
        ({"confidence_threshold": "high"}, "confidence_threshold"),
        ({"n_folds": "3"}, "n_folds"),
    ],
)
def test_malformed_settings_are_config_errors(values: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"walk_forward\.{key}"):
        WalkForwardConfig.from_dict(values)


# ---- leakage --------------------------------------------------------------------------------


def test_label_overlap_leak_wins_under_kfold_and_vanishes_walking_forward(
    btc_1h: pd.DataFrame,
) -> None:
    """A feature that only says *when* a row is (its position) carries no information about
    the future, yet with 48-bar labels every row's neighbours share 47 of its 48 bars of
    return. Shuffled k-fold trains on those neighbours and scores far above chance; the
    purged walk-forward, which trains on the past only, finds nothing."""
    data = btc_1h.iloc[:2000]
    horizon = 48
    config = {**FAST_GBM, "horizon": horizon, "min_child_samples": 1, "max_depth": 8}

    def position(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"position": np.arange(len(df), dtype=float)}, index=df.index)

    target = forward_returns(data["close"], horizon).to_numpy()
    kfold = shuffled_kfold_accuracy(config, position(data), target)
    report = walk_forward(
        lambda: PricePredictor(config), data, {"n_folds": 8}, feature_fn=position
    ).to_dict()
    assert kfold > 0.75
    walked = report["model"]
    assert walked["ci_low"] < 0.5 < walked["ci_high"]
    assert walked["accuracy"] < kfold - 0.15


def test_look_ahead_feature_scores_near_100_percent_and_is_refused(
    btc_1h: pd.DataFrame,
) -> None:
    data = btc_1h.iloc[:1500]

    def peek(df: pd.DataFrame) -> pd.DataFrame:  # the label itself, one bar early
        future = df["close"].shift(-1) / df["close"] - 1.0
        return pd.DataFrame({"next_return": future}, index=df.index)

    target = forward_returns(data["close"], 1).to_numpy()
    assert shuffled_kfold_accuracy(FAST_GBM, peek(data), target) > 0.97
    assert [r.column for r in find_lookahead(peek, data, [700])] == ["next_return"]
    with pytest.raises(DataError, match=r"looks ahead.*next_return"):
        walk_forward(lambda: PricePredictor(FAST_GBM), data, feature_fn=peek)


# ---- what the report says -------------------------------------------------------------------


def test_confidence_ranks_accuracy_on_a_real_signal(momentum: pd.DataFrame) -> None:
    report = walk_forward(lambda: PricePredictor(FAST_GBM), momentum, {"n_folds": 3})
    r = report.to_dict()
    model, confident = r["model"], r["confident"]
    # The AR(1) signal is learnable: well above coin flip and above both naive baselines.
    assert model["ci_low"] > 0.6
    assert model["accuracy"] > r["baselines"]["always_up"]["accuracy"] + 0.1
    # Confidence ranks the rows: the confident ones are right more often than all rows, and
    # the most confident bucket beats the least confident one by more than their intervals.
    assert confident["accuracy"] > model["accuracy"]
    filled = [b for b in r["buckets"] if b["n"] >= 100]
    assert filled[-1]["ci_low"] > filled[0]["ci_high"]
    # Calibrated: in the well-filled buckets the mean confidence is close to the accuracy.
    for bucket in (b for b in filled if b["n"] >= 500):
        assert abs(bucket["mean_confidence"] - bucket["accuracy"]) < 0.05
    # The predictions behind the figures are the test rows only, in time order.
    pred = report.predictions
    assert pred.index.is_monotonic_increasing and pred["fold"].tolist() == sorted(pred["fold"])
    assert pred.index[0] > momentum.index[len(momentum) // 4]


def test_report_on_real_data_is_complete_and_printable(eth_1h: pd.DataFrame) -> None:
    report = walk_forward(lambda: PricePredictor(FAST_GBM), eth_1h, {"n_folds": 3})
    r = report.to_dict()
    assert r["setup"]["purge"] == r["setup"]["embargo"] == 1
    assert len(r["folds"]) == 3
    assert sum(f["test_rows"] for f in r["folds"]) == len(report.predictions)
    assert r["rows_scored"] <= len(report.predictions)
    assert sum(b["n"] for b in r["buckets"]) == r["rows_scored"]
    for name in ("always_up", "last_direction"):
        assert 0.4 < r["baselines"][name]["accuracy"] < 0.6
    # Real 1h crypto direction: honest figures stay near a coin flip.
    assert 0.45 < r["model"]["accuracy"] < 0.58
    text = format_report(report)
    assert "always up" in text and "conf > 0.5" in text and "(0.70, 1.00]" in text
