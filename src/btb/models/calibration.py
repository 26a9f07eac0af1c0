"""Confidence of a return forecast: a calibrated probability that its direction is right.

A model forecasts the forward return ``r̂``; its direction is ``sign(r̂)``. How often that
direction is right depends on the forecast's size: a model that is worth anything is right more
often when ``|r̂|`` is large. :class:`IsotonicCalibrator` learns that relation on rows the model
did not train on (a held-out tail of the training window, or a validation frame): it fits the
monotone non-decreasing step function of ``|r̂|`` that best matches the 0/1 "direction was right"
outcomes (isotonic regression, pool-adjacent-violators). The confidence of a forecast is the
fitted value at its ``|r̂|``:

    confidence = P(direction of the forecast is right | |r̂|)   in [0, 1]

So ``confidence > 0.5`` means "on held-out data, forecasts this large were right more often than
not", and accuracy by confidence bucket should track the bucket's confidence when the relation
holds going forward (the walk-forward report shows whether it does). Each pooled block's value is
shrunk towards 1/2 with one pseudo-win and one pseudo-loss ((wins + 1) / (n + 2)), so a block of
three lucky rows does not claim certainty; a running maximum keeps the result monotone.

Between block edges the value is interpolated linearly (as scikit-learn's isotonic regression
does); beyond the fitted range it is held constant. The fitted steps are plain floats stored in
the model manifest (JSON), never pickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from btb.errors import DataError, ModelError

FloatArray = npt.NDArray[np.float64]
_FORMAT = "btb.isotonic"


def pool_adjacent_violators(
    x: FloatArray, y: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Isotonic (non-decreasing) fit of ``y`` on sorted ``x`` with unit weights.

    Ties in ``x`` are pooled first (one block per distinct x); adjacent blocks with equal
    means are pooled as well. Returns per block:
    ``(x_low, x_high, sum_y, count)``.
    """
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    distinct, start = np.unique(xs, return_index=True)
    sums = np.add.reduceat(ys, start)
    counts = np.diff(np.append(start, len(xs))).astype(np.float64)
    # Stack of blocks; merge while the last block's mean is not above the one before it (equal
    # neighbours are pooled too: same fit, larger blocks for the shrinkage below).
    lo: list[float] = []
    hi: list[float] = []
    s: list[float] = []
    c: list[float] = []
    for xv, sv, cv in zip(distinct, sums, counts, strict=True):
        lo.append(float(xv))
        hi.append(float(xv))
        s.append(float(sv))
        c.append(float(cv))
        while len(s) > 1 and s[-2] * c[-1] >= s[-1] * c[-2]:  # mean[-2] >= mean[-1]
            last_s, last_c, last_hi = s.pop(), c.pop(), hi.pop()
            lo.pop()
            s[-1] += last_s
            c[-1] += last_c
            hi[-1] = last_hi
    return np.array(lo), np.array(hi), np.array(s), np.array(c)


class IsotonicCalibrator:
    """Maps ``|forecast|`` to the probability that the forecast's direction is right."""

    def __init__(self) -> None:
        self.x: FloatArray | None = None  # knots (block edges), non-decreasing
        self.y: FloatArray | None = None  # calibrated probability at each knot
        self.n_samples = 0

    @property
    def is_fitted(self) -> bool:
        return self.x is not None

    def fit(self, forecast: FloatArray, actual: FloatArray) -> IsotonicCalibrator:
        """Learn from held-out forecasts and realised returns (rows with actual == 0 or a
        zero forecast carry no direction and are ignored)."""
        forecast = np.asarray(forecast, dtype=np.float64)
        actual = np.asarray(actual, dtype=np.float64)
        if forecast.shape != actual.shape:
            raise DataError("calibration: forecast and actual returns differ in length")
        keep = np.isfinite(forecast) & np.isfinite(actual) & (actual != 0) & (forecast != 0)
        if int(keep.sum()) < 2:
            raise DataError(
                f"calibration needs at least 2 held-out rows with a direction, got {keep.sum()}"
            )
        size = np.abs(forecast[keep])
        right = (np.sign(forecast[keep]) == np.sign(actual[keep])).astype(np.float64)
        lo, hi, sums, counts = pool_adjacent_violators(size, right)
        values = np.maximum.accumulate((sums + 1.0) / (counts + 2.0))
        # Each block contributes its two edges: flat inside a block, linear between blocks.
        self.x = np.column_stack([lo, hi]).ravel()
        self.y = np.repeat(values, 2)
        self.n_samples = int(keep.sum())
        return self

    def confidence(self, forecast: FloatArray) -> FloatArray:
        """Calibrated P(direction right) per forecast; NaN where the forecast is NaN."""
        x, y = self._fitted()
        forecast = np.asarray(forecast, dtype=np.float64)
        out = np.interp(np.abs(forecast), x, y)
        out[~np.isfinite(forecast)] = np.nan
        return out

    def to_dict(self) -> dict[str, Any]:
        x, y = self._fitted()
        return {"format": _FORMAT, "x": x.tolist(), "y": y.tolist(), "n_samples": self.n_samples}

    @classmethod
    def from_dict(cls, payload: Any) -> IsotonicCalibrator:
        """Rebuild from :meth:`to_dict` output; anything malformed raises ModelError."""
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ModelError("calibration: not a btb isotonic calibration document")
        try:
            x = np.asarray(payload["x"], dtype=np.float64)
            y = np.asarray(payload["y"], dtype=np.float64)
            n = int(payload.get("n_samples", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"calibration: malformed knots ({exc})") from None
        valid = (
            x.ndim == 1
            and x.shape == y.shape
            and x.size >= 2
            and bool(np.isfinite(x).all() and np.isfinite(y).all())
            and bool((np.diff(x) >= 0).all() and (np.diff(y) >= 0).all())
            and bool(((y >= 0) & (y <= 1)).all())
        )
        if not valid:
            raise ModelError("calibration: knots must be finite, sorted, probabilities in [0, 1]")
        calibrator = cls()
        calibrator.x, calibrator.y, calibrator.n_samples = x, y, n
        return calibrator

    def _fitted(self) -> tuple[FloatArray, FloatArray]:
        if self.x is None or self.y is None:
            raise ModelError("calibrator is not fitted; train the model first")
        return self.x, self.y
