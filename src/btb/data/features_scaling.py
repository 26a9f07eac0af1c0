"""Feature scalers fitted on a training window and stored as JSON (never pickle).

A :class:`Scaler` learns one ``center`` and one ``scale`` per column from the data given to
:meth:`Scaler.fit` and maps ``x -> (x - center) / scale`` unchanged on any later data, so test
or live rows are scaled with the training window's parameters (no look-ahead through the scaler).

========== ======================== ==============================
method     center                   scale
========== ======================== ==============================
min_max    min                      max - min
z_score    mean                     population std (ddof=0)
robust     median                   IQR = q75 - q25 (linear interpolation)
========== ======================== ==============================

Statistics ignore NaN (the warm-up rows of features). A column whose scale is 0 (constant in the
training window) gets scale 1, so it maps to ``x - center`` (0 on the training data) instead of
NaN/inf. Later values may fall outside ``[0, 1]`` for ``min_max``: they are not clipped, because
clipping would hide a drift the model should not be trusted on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from btb.errors import ConfigError, DataError, ModelError

METHODS = ("min_max", "z_score", "robust")
_Arr = npt.NDArray[np.float64]
_FORMAT = "btb.scaler"
_VERSION = 1


def check_method(method: str) -> str:
    """Return ``method`` if it is a known normalisation method, else raise ConfigError."""
    if method not in METHODS:
        raise ConfigError(
            f"unknown normalisation method {method!r}; expected one of {', '.join(METHODS)}",
            key_path="method",
        )
    return method


class Scaler:
    """Per-column affine scaler; fit once on a training window, apply unchanged afterwards."""

    METHODS: ClassVar[tuple[str, ...]] = METHODS

    def __init__(self, method: str = "min_max", columns: Sequence[str] | None = None) -> None:
        self.method = check_method(method)
        self.columns: list[str] | None = list(columns) if columns is not None else None
        self.center: _Arr | None = None
        self.scale: _Arr | None = None

    @property
    def is_fitted(self) -> bool:
        return self.center is not None

    def __repr__(self) -> str:
        n = len(self.columns) if self.columns is not None else "?"
        return f"Scaler(method={self.method!r}, columns={n}, fitted={self.is_fitted})"

    def fit(self, data: pd.DataFrame) -> Scaler:
        """Learn center/scale per column from ``data`` (default columns: all numeric ones)."""
        if self.columns is None:
            self.columns = [str(c) for c in data.select_dtypes(include="number").columns]
        values = _matrix(data, self.columns)
        for j, name in enumerate(self.columns):
            col = values[:, j]
            if np.isinf(col).any():
                raise DataError(f"column {name!r} contains inf; cannot fit a {self.method} scaler")
            if np.isnan(col).all():
                raise DataError(f"column {name!r} has no finite values in the training data")
        center, scale = _statistics(values, self.method)
        # A constant column has scale 0 (z_score: rounding noise ~1e-17 relative): scale 1 and
        # center = its value (a float mean of equal values can be off by one ulp) -> exactly 0.
        degenerate = ~(scale > 1e-12 * np.abs(center))
        self.center = np.where(degenerate, np.nanmin(values, axis=0), center)
        self.scale = np.where(degenerate, 1.0, scale)
        return self

    def transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of ``data`` with the fitted columns scaled; other columns untouched."""
        center, scale, columns = self._fitted()
        out = data.copy()
        out[columns] = (_matrix(data, columns) - center) / scale
        return out

    def fit_transform(self, data: pd.DataFrame) -> pd.DataFrame:
        return self.fit(data).transform(data)

    def inverse_transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """Undo :meth:`transform` on the fitted columns."""
        center, scale, columns = self._fitted()
        out = data.copy()
        out[columns] = _matrix(data, columns) * scale + center
        return out

    def to_dict(self) -> dict[str, Any]:
        center, scale, columns = self._fitted()
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "method": self.method,
            "columns": columns,
            "center": center.tolist(),
            "scale": scale.tolist(),
        }

    def to_json(self) -> str:
        """JSON text; floats are written with ``repr`` so a round trip is exact."""
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_dict(cls, payload: Any) -> Scaler:
        """Rebuild a fitted scaler; a malformed or tampered payload raises ModelError."""
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ModelError("not a btb scaler document (missing format 'btb.scaler')")
        if payload.get("version") != _VERSION:
            raise ModelError(f"unsupported scaler version {payload.get('version')!r}")
        method, columns = payload.get("method"), payload.get("columns")
        if method not in METHODS:
            raise ModelError(f"scaler document has unknown method {method!r}")
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise ModelError("scaler document 'columns' must be a list of strings")
        try:
            center = np.asarray(payload.get("center"), dtype=np.float64)
            scale = np.asarray(payload.get("scale"), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"scaler document has non-numeric parameters: {exc}") from None
        if center.shape != (len(columns),) or scale.shape != (len(columns),):
            raise ModelError("scaler document: center/scale length differs from columns")
        if not (np.isfinite(center).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ModelError("scaler document: parameters must be finite and scale > 0")
        scaler = cls(method, columns)
        scaler.center, scaler.scale = center, scale
        return scaler

    @classmethod
    def from_json(cls, text: str) -> Scaler:
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"scaler document is not valid JSON: {exc}") from None
        return cls.from_dict(payload)

    def save(self, path: str | Path) -> Path:
        """Write the scaler as JSON to ``path`` and return the path."""
        target = Path(path)
        target.write_text(self.to_json(), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> Scaler:
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"cannot read scaler file {source}: {exc.strerror}") from None
        return cls.from_json(text)

    def _fitted(
        self,
    ) -> tuple[_Arr, _Arr, list[str]]:
        if self.center is None or self.scale is None or self.columns is None:
            raise ModelError("scaler is not fitted; call fit() on the training window first")
        return self.center, self.scale, self.columns


def _matrix(data: pd.DataFrame, columns: list[str]) -> _Arr:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataError(f"scaler columns missing from data: {', '.join(missing)}")
    try:
        return data[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"scaler columns must be numeric: {exc}") from None


def _statistics(values: _Arr, method: str) -> tuple[_Arr, _Arr]:
    if method == "min_max":
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        return low, high - low
    if method == "z_score":
        return np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    q25, median, q75 = np.nanpercentile(values, [25.0, 50.0, 75.0], axis=0)
    return median, q75 - q25
