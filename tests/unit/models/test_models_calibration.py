"""Isotonic calibration: the PAV fit against an independent formula, shrinkage, round trip."""

from __future__ import annotations

import numpy as np
import pytest

from btb.errors import DataError, ModelError
from btb.models.calibration import IsotonicCalibrator, pool_adjacent_violators


def minmax_isotonic(y: np.ndarray) -> np.ndarray:
    """Isotonic regression by its min-max characterisation (independent of PAV):
    fit[i] = max over j <= i of min over k >= i of mean(y[j..k])."""
    n = len(y)
    return np.array(
        [max(min(y[j : k + 1].mean() for k in range(i, n)) for j in range(i + 1)) for i in range(n)]
    )


def expand(lo: np.ndarray, hi: np.ndarray, sums: np.ndarray, counts: np.ndarray, x: np.ndarray):
    """Per-point fitted value from PAV blocks."""
    means = sums / counts
    return np.array([means[np.flatnonzero((lo <= v) & (v <= hi))[0]] for v in x])


def test_pav_hand_example() -> None:
    lo, hi, sums, counts = pool_adjacent_violators(
        np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, 1.0, 1.0])
    )
    # 1 then 0 violates monotonicity: pooled to 0.5; 3 and 4 have equal means: pooled too.
    assert lo.tolist() == [1.0, 3.0]
    assert hi.tolist() == [2.0, 4.0]
    assert (sums / counts).tolist() == [0.5, 1.0]


@pytest.mark.parametrize("seed", range(5))
def test_pav_matches_minmax_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.choice(1000, size=25, replace=False)).astype(float)
    y = (rng.random(25) < np.linspace(0.2, 0.8, 25)).astype(float)
    blocks = pool_adjacent_violators(x[::-1].copy(), y[::-1].copy())  # unsorted input
    np.testing.assert_allclose(expand(*blocks, x), minmax_isotonic(y), atol=1e-12)


def test_confidence_is_shrunk_block_rate_and_interpolates() -> None:
    # |forecast| 1, 2 wrong; 3, 4, 5 right -> blocks [1,2] (0 of 2) and [3,5] (3 of 3).
    forecast = np.array([1.0, -2.0, 3.0, -4.0, 5.0])
    actual = np.array([-0.1, 0.2, 0.1, -0.3, 0.2])
    cal = IsotonicCalibrator().fit(forecast, actual)
    low, high = 1 / 4, 4 / 5  # (0 + 1) / (2 + 2) and (3 + 1) / (3 + 2)
    np.testing.assert_allclose(cal.confidence(np.array([1.5, -2.0])), [low, low])
    np.testing.assert_allclose(cal.confidence(np.array([3.0, -5.0, 99.0])), [high] * 3)
    np.testing.assert_allclose(cal.confidence(np.array([2.5])), [(low + high) / 2])
    assert np.isnan(cal.confidence(np.array([np.nan]))[0])
    assert cal.n_samples == 5


def test_rows_without_direction_are_ignored() -> None:
    forecast = np.array([1.0, 2.0, 0.0, 3.0, np.nan])
    actual = np.array([0.0, 0.1, 0.1, 0.2, 0.1])  # row 0: flat close; row 2: no call
    assert IsotonicCalibrator().fit(forecast, actual).n_samples == 2
    with pytest.raises(DataError, match="at least 2"):
        IsotonicCalibrator().fit(np.array([1.0, 0.0]), np.array([0.0, 1.0]))


def test_dict_round_trip_is_exact_and_tampering_is_refused() -> None:
    rng = np.random.default_rng(3)
    forecast = rng.standard_normal(500)
    actual = forecast + rng.standard_normal(500) * 2
    cal = IsotonicCalibrator().fit(forecast, actual)
    again = IsotonicCalibrator.from_dict(cal.to_dict())
    probe = rng.standard_normal(100)
    assert np.array_equal(again.confidence(probe), cal.confidence(probe))
    payload = cal.to_dict()
    payload["y"] = payload["y"][::-1]  # no longer non-decreasing
    with pytest.raises(ModelError, match="sorted"):
        IsotonicCalibrator.from_dict(payload)
    with pytest.raises(ModelError, match="not fitted"):
        IsotonicCalibrator().confidence(probe)
