"""Scoring: Wilson interval against published values, every figure of a hand-made case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from btb.models.scoring import accuracy_stats, score_forecasts, wilson_interval


def test_wilson_interval_published_values() -> None:
    # Newcombe (1998), Table I: 81/263 -> 0.2553 .. 0.3662; and 50/100 -> 0.4038 .. 0.5962.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = wilson_interval(50, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    assert wilson_interval(0, 10)[0] == 0.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_overlapping_labels_widen_the_interval() -> None:
    hit = np.array([True] * 60 + [False] * 40)
    one, four = accuracy_stats(hit, 1), accuracy_stats(hit, 4)
    assert one["accuracy"] == four["accuracy"] == 0.6
    assert four["n_effective"] == 25.0
    assert (four["ci_low"], four["ci_high"]) == pytest.approx(wilson_interval(15, 25))
    assert four["ci_high"] - four["ci_low"] > one["ci_high"] - one["ci_low"]


def test_score_forecasts_hand_case() -> None:
    forecast = np.array([0.01, -0.02, 0.03, 0.01, -0.01, np.nan, 0.02])
    confidence = np.array([0.40, 0.60, 0.80, 0.52, 0.51, np.nan, 0.90])
    actual = np.array([0.02, 0.01, 0.01, -0.01, -0.02, 0.01, 0.0])
    past = np.array([-0.01, 0.01, 0.02, np.nan, -0.03, 0.0, 0.01])
    r = score_forecasts(forecast, confidence, actual, past, horizon=1)
    # scored: rows 0-4 (row 5 has no forecast, row 6 a flat close). Hits: 0, 2, 4.
    assert r["rows_scored"] == 5 and r["rows_zero_return"] == 1
    assert r["model"]["accuracy"] == pytest.approx(3 / 5)
    err = forecast[[0, 1, 2, 3, 4, 6]] - actual[[0, 1, 2, 3, 4, 6]]
    assert r["model"]["rmse"] == pytest.approx(math.sqrt(np.mean(err**2)))
    assert r["model"]["mae"] == pytest.approx(np.mean(np.abs(err)))
    # confident (> 0.5): rows 1, 2, 3, 4 -> hits 2, 4.
    assert r["confident"]["n"] == 4 and r["confident"]["accuracy"] == 0.5
    assert r["confident"]["coverage"] == pytest.approx(4 / 5)
    assert r["confident"]["always_up_accuracy"] == pytest.approx(2 / 4)
    # always up: actual > 0 on rows 0, 1, 2 of the 5 scored.
    assert r["baselines"]["always_up"]["accuracy"] == pytest.approx(3 / 5)
    # last direction: sign(past) == sign(actual) on rows 1, 2, 4 (NaN past = no call).
    assert r["baselines"]["last_direction"]["accuracy"] == pytest.approx(3 / 5)
    zero = actual[[0, 1, 2, 3, 4, 5, 6]]
    assert r["baselines"]["zero_return"]["rmse"] == pytest.approx(math.sqrt(np.mean(zero**2)))
    buckets = {(b["low"], b["high"]): b for b in r["buckets"]}
    assert buckets[(0.0, 0.5)]["n"] == 1 and buckets[(0.0, 0.5)]["accuracy"] == 1.0
    assert buckets[(0.5, 0.55)]["n"] == 2 and buckets[(0.5, 0.55)]["accuracy"] == 0.5
    assert buckets[(0.55, 0.6)]["n"] == 1 and buckets[(0.55, 0.6)]["accuracy"] == 0.0
    assert buckets[(0.7, 1.0)]["n"] == 1 and buckets[(0.7, 1.0)]["mean_confidence"] == 0.8
    assert buckets[(0.6, 0.7)]["n"] == 0 and buckets[(0.6, 0.7)]["accuracy"] is None
