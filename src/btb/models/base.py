"""The model contract (seed 000's :class:`BaseModel`) and btb's return-forecasting base class.

:class:`BaseModel` is the seed's abstract interface, unchanged: ``train`` returns a metrics dict,
``predict`` an ndarray, ``save``/``load`` persist it. :class:`SignalModel` is what btb's own
models (:class:`~btb.models.gbm.PricePredictor`, :class:`~btb.models.transformer.TransformerModel`)
share: they forecast the **forward return** over ``horizon`` bars,

    target[t] = close[t + horizon] / close[t] - 1      (NaN for the last ``horizon`` rows)

from causal features (:func:`btb.data.features.compute_features`, row t uses rows 0..t), and
give a confidence in [0, 1] = calibrated P(the forecast's direction is right) (see
:mod:`btb.models.calibration`). Training holds out the tail of the training window
(``calibration_fraction``, after a gap of ``horizon`` rows so no training label overlaps it):
the model is fitted on the rest and the calibrator on the tail. The metrics ``train`` returns are
measured on that tail, which the model never saw. For the figure to expect going forward use
the purged walk-forward evaluation (:mod:`btb.models.evaluation`).

This module imports neither torch nor lightgbm: ``import btb.models`` stays light.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from btb.data.features import FeatureEngineering
from btb.errors import ConfigError, DataError, ModelError
from btb.models.artifacts import (
    build_manifest,
    check_feature_names,
    json_safe,
    read_files,
    read_manifest,
    write_model_dir,
)
from btb.models.calibration import IsotonicCalibrator

FloatArray = npt.NDArray[np.float64]
#: progress callback: (step number from 1, total steps, figures of that step).
ProgressFn = Callable[[int, int, dict[str, float]], None]


class BaseModel(ABC):
    """Abstract base class for all models."""

    @abstractmethod
    def __init__(self, config: dict[str, Any]):
        """Initialize model with configuration."""

    @abstractmethod
    def train(self, train_data: Any, validation_data: Any | None = None) -> dict[str, Any]:
        """Train the model and return training metrics."""

    @abstractmethod
    def predict(self, data: Any) -> np.ndarray:
        """Generate predictions for the input data."""

    @abstractmethod
    def save(self, path: str) -> None:
        """Save model to disk."""

    @classmethod
    @abstractmethod
    def load(cls, path: str) -> BaseModel:
        """Load model from disk."""


def forward_returns(close: pd.Series, horizon: int) -> pd.Series:
    """``close[t + horizon] / close[t] - 1`` (the label); NaN where the future is unknown."""
    return (close.shift(-horizon) / close - 1.0).rename(f"forward_return_{horizon}")


def check_int(config: dict[str, Any], key: str, low: int, high: int | None = None) -> int:
    """``config[key]`` as an int in ``[low, high]``, else ConfigError naming the key."""
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"must be an integer, got {value!r}", key_path=f"model.{key}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ConfigError(f"must be {bound}, got {value}", key_path=f"model.{key}")
    return int(value)


def check_float(config: dict[str, Any], key: str, low: float, high: float) -> float:
    """``config[key]`` as a float in ``(low, high)`` exclusive of low, inclusive of high."""
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
        raise ConfigError(
            f"must be a number in ({low}, {high}], got {value!r}", key_path=f"model.{key}"
        )
    return float(value)


def merge_config(
    defaults: dict[str, Any], config: dict[str, Any] | None, owner: str
) -> dict[str, Any]:
    """Defaults overridden by ``config``; an unknown key raises ConfigError naming it."""
    given = dict(config or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ConfigError(
            f"unknown setting for {owner} (known: {', '.join(sorted(defaults))})",
            key_path=f"model.{unknown[0]}",
        )
    return {**defaults, **given}


class SignalModel(BaseModel):
    """A model of the forward return with a calibrated direction confidence (see module doc).

    Subclasses implement :meth:`_fit`, :meth:`_forecast` and persistence. ``context_rows`` is
    how many rows before a row its forecast needs (0 for per-row models, window - 1 for
    sequence models).
    """

    model_type: ClassVar[str] = ""
    #: settings every SignalModel understands, merged into each subclass's defaults.
    COMMON_DEFAULTS: ClassVar[dict[str, Any]] = {
        "horizon": 1,
        "calibration_fraction": 0.2,
        "features": {},
    }
    context_rows: int = 0
    #: rows of history used to compute the features of the bar :meth:`predict_signal` scores.
    PREDICT_HISTORY: ClassVar[int] = 500

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.horizon = check_int(self.config, "horizon", 1)
        self.calibration_fraction = check_float(self.config, "calibration_fraction", 0.0, 0.5)
        features = self.config["features"]
        if not isinstance(features, dict):
            raise ConfigError("must be a mapping of feature settings", key_path="model.features")
        self.feature_engineering = FeatureEngineering(features)
        self.feature_names: list[str] = self.feature_engineering.feature_names
        self.calibrator = IsotonicCalibrator()
        self.metrics: dict[str, Any] = {}
        self.training_window: dict[str, Any] = {}
        #: walk-forward figures of the procedure that produced this model (set by btb train).
        self.evaluation: dict[str, Any] = {}

    # ---- seed 002's data preparation ----------------------------------------------------

    def create_features(self, df: pd.DataFrame) -> pd.DataFrame:
        """The feature frame of an OHLCV frame (causal; warm-up rows are NaN)."""
        return self.feature_engineering.compute_features(df)

    def prepare_features(self, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """Features and forward-return target of ``df``, rows where both are known."""
        features = self.create_features(df)
        target = forward_returns(df["close"].astype(np.float64), self.horizon)
        keep = np.isfinite(features.to_numpy()).all(axis=1) & np.isfinite(target.to_numpy())
        return features.loc[keep], target.loc[keep]

    # ---- training -----------------------------------------------------------------------

    def train(
        self, train_data: pd.DataFrame, validation_data: pd.DataFrame | None = None
    ) -> dict[str, Any]:
        """Train on an OHLCV frame; metrics are measured on held-out rows (see module doc).

        ``validation_data`` (a later OHLCV frame) replaces the held-out tail when given.
        """
        features = self.create_features(train_data)
        target = forward_returns(train_data["close"].astype(np.float64), self.horizon)
        validation = None
        if validation_data is not None:
            validation = (
                self.create_features(validation_data),
                forward_returns(validation_data["close"].astype(np.float64), self.horizon),
            )
        return self.fit_features(features, target, validation)

    def fit_features(
        self,
        features: pd.DataFrame,
        target: pd.Series,
        validation: tuple[pd.DataFrame, pd.Series] | None = None,
        progress: ProgressFn | None = None,
    ) -> dict[str, Any]:
        """Train on a feature frame and its aligned forward returns (rows in time order).

        Rows whose features or target are not finite are not trained on. Without
        ``validation`` the last ``calibration_fraction`` of the rows is held out, after a gap
        of ``horizon`` rows. The frame's columns become the model's feature list.
        """
        if len(features) != len(target):
            raise DataError("features and target differ in length")
        self.feature_names = [str(c) for c in features.columns]
        if validation is None:
            fit, validation = self._split_tail(features, target)
        else:
            fit = (features, target)
        self._fit(fit[0], fit[1], validation, progress)
        forecast = self._forecast(validation[0])
        actual = validation[1].to_numpy(dtype=np.float64)
        self.calibrator.fit(forecast, actual)
        self.metrics = holdout_metrics(forecast, actual)
        self.training_window = _window(fit[0], validation[0], int(np.isfinite(actual).sum()))
        return dict(self.metrics)

    def _split_tail(
        self, features: pd.DataFrame, target: pd.Series
    ) -> tuple[tuple[pd.DataFrame, pd.Series], tuple[pd.DataFrame, pd.Series]]:
        """(fit rows, held-out tail). The tail keeps ``context_rows`` rows before it as
        context (features only: their targets are blanked), so every tail row is forecast."""
        n_val = int(len(features) * self.calibration_fraction)
        fit_end = len(features) - n_val - self.horizon
        if n_val < 20 or fit_end < 50:
            raise DataError(
                f"too few rows to train with a held-out tail: {len(features)} rows "
                f"(need ~{int(70 / self.calibration_fraction) + self.horizon})"
            )
        start = max(0, len(features) - n_val - self.context_rows)
        tail_target = target.iloc[start:].copy()
        tail_target.iloc[: len(features) - n_val - start] = np.nan
        fit = (features.iloc[:fit_end], target.iloc[:fit_end])
        return fit, (features.iloc[start:], tail_target)

    @abstractmethod
    def _fit(
        self,
        features: pd.DataFrame,
        target: pd.Series,
        validation: tuple[pd.DataFrame, pd.Series],
        progress: ProgressFn | None,
    ) -> None:
        """Fit the forecaster (the validation pair may be used for early stopping)."""

    @abstractmethod
    def _forecast(self, features: pd.DataFrame) -> FloatArray:
        """Forecast forward return per row of ``features`` (NaN where it cannot)."""

    # ---- prediction ---------------------------------------------------------------------

    def _ordered(self, features: pd.DataFrame) -> pd.DataFrame:
        """``features`` with exactly the model's columns in its order (no copy if already)."""
        if list(features.columns) == self.feature_names:
            return features
        missing = [n for n in self.feature_names if n not in features.columns]
        if missing:
            raise DataError(f"feature frame lacks the model's feature(s): {', '.join(missing)}")
        return features[self.feature_names]

    def predict_features(self, features: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
        """(forecast return, confidence) per row of a feature frame.

        A row without a forecast (warm-up, too little history) has prediction NaN and
        confidence 0: no opinion, never a trade signal.
        """
        forecast = self._forecast(self._ordered(features))
        confidence = self.calibrator.confidence(forecast)
        return forecast, np.where(np.isfinite(forecast), confidence, 0.0)

    def predict_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Columns ``prediction`` and ``confidence`` for every row of an OHLCV frame.

        Row t uses rows 0..t only (the strategy's vectorised path can call this once);
        warm-up rows have prediction NaN and confidence 0.
        """
        forecast, confidence = self.predict_features(self.create_features(df))
        return pd.DataFrame({"prediction": forecast, "confidence": confidence}, index=df.index)

    def predict_signal(self, df: pd.DataFrame) -> tuple[float, float]:
        """(prediction, confidence) for the last row of ``df`` (seed 002's ``predict``).

        Features are computed on the last :attr:`PREDICT_HISTORY` rows (recursive indicators
        such as EMA-50 or ADX forget their seed long before that: the last row's features
        match those computed on the full history to ~1e-7 relative). With too little history
        for the features (:attr:`min_history` rows) the answer is ``(nan, 0.0)``: no opinion.
        """
        if len(df) < self.min_history:
            return math.nan, 0.0
        features = self._ordered(self.create_features(df.iloc[-self.PREDICT_HISTORY :]))
        forecast, confidence = self.predict_features(features.iloc[-(self.context_rows + 1) :])
        return float(forecast[-1]), float(confidence[-1])

    @property
    def min_history(self) -> int:
        """Candles needed before the last one has a prediction (feature warm-up + context)."""
        return self.feature_engineering.warmup_rows + self.context_rows + 1

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """``[prediction, confidence]`` for the last candle of an OHLCV frame.

        An ndarray (the :class:`BaseModel` contract) that unpacks like seed 002's tuple:
        ``prediction, confidence = model.predict(df)``.
        """
        return np.array(self.predict_signal(data), dtype=np.float64)

    # ---- persistence --------------------------------------------------------------------

    @property
    def is_trained(self) -> bool:
        return self.calibrator.is_fitted

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model folder ``path``: weight file(s) + manifest (see artifacts)."""
        if not self.is_trained:
            raise ModelError(f"cannot save an untrained {type(self).__name__}; train it first")
        files = self._serialize()
        fields = {
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "config": self.config,
            "feature_names": self.feature_names,
            "label": {
                "kind": "forward_return",
                "horizon": self.horizon,
                "definition": "close[t + horizon] / close[t] - 1",
            },
            "calibration": self.calibrator.to_dict(),
            "scaler": self._scaler_dict(),
            "training_window": self.training_window,
            "metrics": self.metrics,
            "evaluation": self.evaluation,
        }
        write_model_dir(path, files, build_manifest(self.model_type, files, json_safe(fields)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SignalModel:
        """Load a model folder written by :meth:`save`; every check failure is ModelError."""
        manifest = read_manifest(path)
        if manifest["model_type"] != cls.model_type:
            raise ModelError(
                f"{path}: holds a {manifest['model_type']!r} model, not {cls.model_type!r}"
            )
        files = read_files(path, manifest)
        try:
            model = cls(manifest["config"])
        except ConfigError as exc:
            raise ModelError(f"{path}: manifest config is not valid here: {exc}") from None
        check_feature_names(manifest["feature_names"], model.feature_names, path)
        model.calibrator = IsotonicCalibrator.from_dict(manifest.get("calibration"))
        model._restore(files, manifest)
        model.metrics = dict(manifest.get("metrics") or {})
        model.training_window = dict(manifest.get("training_window") or {})
        model.evaluation = dict(manifest.get("evaluation") or {})
        return model

    def save_model(self, filepath: str | os.PathLike[str]) -> None:
        """Seed 002's name for :meth:`save`."""
        self.save(filepath)

    def load_model(self, filepath: str | os.PathLike[str]) -> None:
        """Seed 002: load the model folder ``filepath`` into this object."""
        self.__dict__.update(type(self).load(filepath).__dict__)

    def _scaler_dict(self) -> dict[str, Any] | None:
        """Input scaler parameters for the manifest (None: the model needs no scaling)."""
        return None

    @abstractmethod
    def _serialize(self) -> dict[str, bytes]:
        """Weight files to save: file name -> bytes (no pickle)."""

    @abstractmethod
    def _restore(self, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        """Rebuild the fitted forecaster from verified files and the manifest."""


def holdout_metrics(forecast: FloatArray, actual: FloatArray) -> dict[str, Any]:
    """Direction accuracy (rows with a direction), RMSE and MAE of forecasts vs outcomes."""
    ok = np.isfinite(forecast) & np.isfinite(actual)
    f, a = forecast[ok], actual[ok]
    directed = (a != 0) & (f != 0)
    hits = np.sign(f[directed]) == np.sign(a[directed])
    return {
        "rows": int(ok.sum()),
        "direction_accuracy": float(hits.mean()) if hits.size else float("nan"),
        "rmse": float(np.sqrt(np.mean((f - a) ** 2))) if f.size else float("nan"),
        "mae": float(np.mean(np.abs(f - a))) if f.size else float("nan"),
    }


def _window(fit: pd.DataFrame, validation: pd.DataFrame, scored: int) -> dict[str, Any]:
    """First and last candle the model saw (features of the last ones, without labels) and
    the row counts of its two parts."""

    def stamp(frame: pd.DataFrame, pos: int) -> str | int:
        label = frame.index[pos]
        return label.isoformat() if isinstance(label, pd.Timestamp) else int(label)

    return {
        "start": stamp(fit, 0),
        "end": stamp(validation, -1),
        "fit_rows": len(fit),
        "holdout_rows": scored,
    }
