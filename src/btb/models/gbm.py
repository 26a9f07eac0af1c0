"""PricePredictor: gradient boosting (LightGBM) on btb's causal features (seed 002's interface).

The model regresses the forward return over ``horizon`` bars (L2 loss, so RMSE is what it
minimises) on the 37 features of :func:`btb.data.features.compute_features`; its direction is
the sign of the forecast and its confidence the calibrated probability that this direction is
right (:mod:`btb.models.calibration`). Defaults follow seed 002: 100 trees, depth 5, learning
rate 0.1, seed 42; everything else is LightGBM's default except what makes training repeatable:
``deterministic=True``, row-wise histograms and a fixed thread count (``num_threads``, 2).
Trees do not need scaled inputs, so the manifest's scaler is null.

Seed 002 validated with a shuffled ``cross_val_score(cv=5)``; btb does not (shuffling lets a
model learn from rows next to each test row whose labels overlap it). Use
:func:`btb.models.evaluation.walk_forward` for the figure to expect going forward.

Files: ``model.txt`` (LightGBM text format) beside ``manifest.json``. LightGBM is imported
only when a model is trained or loaded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from btb.errors import DataError, ModelError
from btb.models.base import (
    FloatArray,
    ProgressFn,
    SignalModel,
    check_float,
    check_int,
    merge_config,
)

if TYPE_CHECKING:
    import lightgbm

logger = logging.getLogger(__name__)

MODEL_FILE = "model.txt"
_PARALLEL_ROWS = 2_000

DEFAULTS: dict[str, Any] = {
    **SignalModel.COMMON_DEFAULTS,
    "n_estimators": 100,
    "max_depth": 5,
    "learning_rate": 0.1,
    "random_state": 42,
    "num_leaves": 31,
    "min_child_samples": 20,
    "num_threads": 2,
}


class PricePredictor(SignalModel):
    """LightGBM forecaster of the forward return with a calibrated direction confidence.

    Seed 002's methods: :meth:`create_features`, :meth:`prepare_features`, :meth:`train`
    (-> metrics), :meth:`predict` (-> prediction, confidence), :meth:`save_model`,
    :meth:`load_model`. Config keys: see :data:`DEFAULTS` (``horizon``: label horizon in bars;
    ``calibration_fraction``: held-out tail; ``features``: feature settings).
    """

    model_type: ClassVar[str] = "gbm"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        merged = merge_config(DEFAULTS, config, "gbm")
        super().__init__(merged)
        for key in ("n_estimators", "max_depth", "num_leaves", "min_child_samples"):
            check_int(merged, key, 1 if key != "num_leaves" else 2)
        check_int(merged, "random_state", 0)
        check_int(merged, "num_threads", 1)
        check_float(merged, "learning_rate", 0.0, 1.0)
        self.booster: lightgbm.Booster | None = None

    # ---- fitting ------------------------------------------------------------------------

    def lgb_params(self) -> dict[str, Any]:
        """The LightGBM parameters this config trains with."""
        c = self.config
        return {
            "objective": "regression",
            "learning_rate": c["learning_rate"],
            "max_depth": c["max_depth"],
            "num_leaves": c["num_leaves"],
            "min_data_in_leaf": c["min_child_samples"],
            "seed": c["random_state"],
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": c["num_threads"],
            "verbosity": -1,
        }

    def _fit(
        self,
        features: pd.DataFrame,
        target: pd.Series,
        validation: tuple[pd.DataFrame, pd.Series],
        progress: ProgressFn | None,
    ) -> None:
        import lightgbm as lgb

        x = features.to_numpy(dtype=np.float64)
        y = target.to_numpy(dtype=np.float64)
        keep = np.isfinite(x).all(axis=1) & np.isfinite(y)
        if int(keep.sum()) < 50:
            raise DataError(
                f"GBM needs at least 50 rows with features and target, got {keep.sum()}"
            )
        dataset = lgb.Dataset(
            x[keep], label=y[keep], feature_name=self.feature_names, free_raw_data=True
        )
        self.booster = lgb.train(
            self.lgb_params(), dataset, num_boost_round=int(self.config["n_estimators"])
        )

    def _forecast(self, features: pd.DataFrame) -> FloatArray:
        booster = self._booster()
        x = features.to_numpy(dtype=np.float64)
        out = np.full(len(x), np.nan)
        ok = np.isfinite(x).all(axis=1)
        if ok.any():
            # A few rows (live, one bar): one thread. Waking an OpenMP pool costs more than
            # the trees; each row's sum over trees is the same whatever the thread count.
            threads = int(self.config["num_threads"]) if ok.sum() >= _PARALLEL_ROWS else 1
            raw = booster.predict(x[ok], num_threads=threads)
            out[ok] = np.asarray(raw, dtype=np.float64)
        return out

    def feature_importance(self) -> dict[str, float]:
        """Total split gain per feature, largest first."""
        gains = self._booster().feature_importance(importance_type="gain")
        pairs = sorted(zip(self.feature_names, gains, strict=True), key=lambda p: -p[1])
        return {name: float(gain) for name, gain in pairs}

    def _booster(self) -> lightgbm.Booster:
        if self.booster is None:
            raise ModelError("PricePredictor is not trained; call train() or load() first")
        return self.booster

    # ---- persistence --------------------------------------------------------------------

    def _serialize(self) -> dict[str, bytes]:
        return {MODEL_FILE: self._booster().model_to_string().encode("utf-8")}

    def _restore(self, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        import lightgbm as lgb

        if MODEL_FILE not in files:
            raise ModelError(f"gbm model folder lacks {MODEL_FILE}")
        try:
            booster = lgb.Booster(model_str=files[MODEL_FILE].decode("utf-8"))
        except (lgb.basic.LightGBMError, UnicodeDecodeError, ValueError) as exc:
            raise ModelError(f"{MODEL_FILE} is not a valid LightGBM model: {exc}") from None
        if list(booster.feature_name()) != list(manifest["feature_names"]):
            raise ModelError(f"{MODEL_FILE}: its feature names differ from the manifest's")
        self.booster = booster
