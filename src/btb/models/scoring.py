"""Scoring out-of-sample forecasts: direction accuracy with a 95 % interval, errors, buckets.

All figures are computed on the rows a walk-forward test fold scored. Definitions:

* **scored rows**: finite forecast and realised return, realised return != 0 (an unchanged
  close has no direction). Every direction figure (model and baselines) uses the same rows.
* **direction accuracy**: share of scored rows where ``sign(forecast) == sign(actual)``.
* **95 % interval**: Wilson score interval. Labels over ``horizon`` bars overlap, so rows are not
  independent: the interval uses an effective sample size ``n / horizon`` (one independent
  label per ``horizon`` rows), which widens it honestly; for ``horizon = 1`` it is ``n``.
* **RMSE / MAE**: of ``forecast - actual`` over rows with both finite (zero returns included).
* **baselines**: *always up* (every row called up), *last direction* (the sign of the return
  over the previous ``horizon`` bars, also used as a return forecast for RMSE/MAE), *zero
  return* (forecast 0: RMSE/MAE only, it calls no direction).
* **confidence buckets**: scored rows grouped by confidence ``(low, high]`` (the first bucket
  includes its low edge); each with its accuracy, interval and mean confidence.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Z_95 = 1.959963984540054
DEFAULT_BUCKETS: tuple[float, ...] = (0.0, 0.5, 0.55, 0.6, 0.7, 1.0)


def wilson_interval(hits: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``hits / n`` (both may be effective, non-integer
    counts)."""
    if n <= 0:
        return math.nan, math.nan
    p = min(max(hits / n, 0.0), 1.0)
    denom = 1.0 + z * z / n
    center = (p + z * z / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


def accuracy_stats(hit: BoolArray, horizon: int = 1) -> dict[str, Any]:
    """Accuracy of 0/1 outcomes with its Wilson interval on ``n / horizon`` effective rows."""
    n = int(hit.size)
    if n == 0:
        return {"accuracy": None, "ci_low": None, "ci_high": None, "n": 0, "n_effective": 0.0}
    p = float(hit.mean())
    n_eff = n / horizon
    low, high = wilson_interval(p * n_eff, n_eff) if n_eff >= 1 else (math.nan, math.nan)
    return {"accuracy": p, "ci_low": low, "ci_high": high, "n": n, "n_effective": n_eff}


def error_stats(forecast: FloatArray, actual: FloatArray) -> dict[str, Any]:
    """RMSE and MAE over rows where both are finite."""
    ok = np.isfinite(forecast) & np.isfinite(actual)
    if not ok.any():
        return {"rmse": None, "mae": None}
    err = forecast[ok] - actual[ok]
    return {"rmse": float(np.sqrt(np.mean(err * err))), "mae": float(np.mean(np.abs(err)))}


def bucket_stats(
    confidence: FloatArray,
    hit: BoolArray,
    edges: Sequence[float] = DEFAULT_BUCKETS,
    horizon: int = 1,
) -> list[dict[str, Any]]:
    """Accuracy per confidence bucket (scored rows only)."""
    rows = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        inside = (confidence > low) & (confidence <= high)
        if i == 0:
            inside |= confidence == low
        stats = accuracy_stats(hit[inside], horizon)
        mean_conf = float(confidence[inside].mean()) if inside.any() else None
        rows.append({"low": float(low), "high": float(high), "mean_confidence": mean_conf, **stats})
    return rows


def score_forecasts(
    forecast: FloatArray,
    confidence: FloatArray,
    actual: FloatArray,
    past: FloatArray,
    *,
    horizon: int,
    threshold: float = 0.5,
    edges: Sequence[float] = DEFAULT_BUCKETS,
) -> dict[str, Any]:
    """Model and baseline figures for aligned arrays of out-of-sample rows (see module doc).

    ``past`` is the realised return over the ``horizon`` bars before each row (the *last
    direction* baseline); ``threshold`` selects the "confident" rows (confidence > threshold).
    """
    scored = np.isfinite(forecast) & np.isfinite(actual) & (actual != 0)
    f, a, c, p = forecast[scored], actual[scored], confidence[scored], past[scored]
    hit = np.sign(f) == np.sign(a)
    up = a > 0
    last = np.sign(np.nan_to_num(p)) == np.sign(a)
    confident = c > threshold
    model = {**accuracy_stats(hit, horizon), **error_stats(forecast, actual)}
    return {
        "rows_scored": int(scored.sum()),
        "rows_zero_return": int((np.isfinite(actual) & (actual == 0)).sum()),
        "share_up": float(up.mean()) if up.size else None,
        "model": model,
        "confident": {
            "threshold": threshold,
            "coverage": float(confident.mean()) if confident.size else None,
            **accuracy_stats(hit[confident], horizon),
            "always_up_accuracy": float(up[confident].mean()) if confident.any() else None,
        },
        "baselines": {
            "always_up": accuracy_stats(up, horizon),
            "last_direction": {**accuracy_stats(last, horizon), **error_stats(past, actual)},
            "zero_return": error_stats(np.zeros_like(actual), actual),
        },
        "buckets": bucket_stats(c, hit, edges, horizon),
    }
