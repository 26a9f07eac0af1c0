"""Retraining while trading: fit on a rolling window, publish a new version, swap atomically.

The live shell (a later issue) schedules :meth:`RollingRetrainer.retrain`, e.g. once a day on
the last N candles, typically from a worker thread while the strategy keeps predicting:

* the new model trains on the last ``window_rows`` rows only (a rolling window);
* it must pass a gate: enough held-out rows, and (optionally) a held-out direction accuracy of at
  least ``min_holdout_accuracy``; a model that fails is discarded and the old one stays live;
* it is saved as a new version folder ``<root>/v000001``, ``v000002``, … (atomic folder write),
  then ``<root>/CURRENT`` (one line: the version name) is replaced atomically (write a temporary
  file, ``os.replace``), so a process that loads ``<root>`` sees either the old or the new model,
  never a half-written one (:func:`btb.models.load_predictor` follows ``CURRENT``);
* finally the in-memory :class:`ModelSlot` swaps its reference under a lock. Readers take one
  reference per prediction, so a prediction never mixes two models.

Old versions beyond ``keep`` are deleted (never the current one).
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from btb.errors import ConfigError, DataError
from btb.models.artifacts import CURRENT_NAME, write_current_pointer
from btb.models.base import SignalModel

logger = logging.getLogger(__name__)

_VERSION = re.compile(r"^v(\d{6})$")


class ModelSlot:
    """The live model reference; :meth:`swap` replaces it atomically."""

    def __init__(self, model: SignalModel | None = None, version: str | None = None) -> None:
        self._lock = threading.Lock()
        self._model = model
        self._version = version

    @property
    def current(self) -> tuple[SignalModel | None, str | None]:
        """(model, version) as one consistent pair."""
        with self._lock:
            return self._model, self._version

    def swap(self, model: SignalModel, version: str | None = None) -> SignalModel | None:
        """Make ``model`` live; returns the model it replaced."""
        with self._lock:
            previous, self._model, self._version = self._model, model, version
        return previous

    def predict_signal(self, df: pd.DataFrame) -> tuple[float, float]:
        """(prediction, confidence) from the model live at call time; (nan, 0) without one."""
        model, _ = self.current
        if model is None:
            return math.nan, 0.0
        return model.predict_signal(df)


@dataclass
class RetrainResult:
    """What one retraining did."""

    accepted: bool
    reason: str
    version: str | None = None
    path: Path | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    rows: int = 0


class RollingRetrainer:
    """Retrain ``model_factory()`` models on the last ``window_rows`` candles into ``root``."""

    def __init__(
        self,
        model_factory: Callable[[], SignalModel],
        root: str | os.PathLike[str],
        window_rows: int,
        *,
        min_holdout_accuracy: float | None = None,
        min_holdout_rows: int = 100,
        keep: int = 3,
    ) -> None:
        if window_rows < 200:
            raise ConfigError(f"must be >= 200 rows, got {window_rows}", key_path="retrain.window")
        if keep < 1:
            raise ConfigError(f"must be >= 1, got {keep}", key_path="retrain.keep")
        self.model_factory = model_factory
        self.root = Path(root)
        self.window_rows = window_rows
        self.min_holdout_accuracy = min_holdout_accuracy
        self.min_holdout_rows = min_holdout_rows
        self.keep = keep
        self._lock = threading.Lock()  # one retraining at a time

    def retrain(self, data: pd.DataFrame, slot: ModelSlot | None = None) -> RetrainResult:
        """Train on the last ``window_rows`` rows of ``data``; publish and swap if it passes."""
        with self._lock:
            window = data.iloc[-self.window_rows :]
            model = self.model_factory()
            try:
                metrics = model.train(window)
            except DataError as exc:
                logger.warning("retraining failed, keeping the live model: %s", exc)
                return RetrainResult(False, f"training failed: {exc}", rows=len(window))
            reason = self._gate(metrics)
            if reason:
                logger.warning("retrained model rejected, keeping the live model: %s", reason)
                return RetrainResult(False, reason, metrics=metrics, rows=len(window))
            version = self._next_version()
            path = self.root / version
            model.save(path)
            write_current_pointer(self.root, version)
            if slot is not None:
                slot.swap(model, version)
            self._prune(version)
            logger.info("model %s published from %d rows: %s", version, len(window), metrics)
            return RetrainResult(True, "published", version, path, metrics, len(window))

    def _gate(self, metrics: dict[str, Any]) -> str:
        rows = int(metrics.get("rows", 0))
        if rows < self.min_holdout_rows:
            return f"only {rows} held-out rows (need {self.min_holdout_rows})"
        accuracy = metrics.get("direction_accuracy")
        floor = self.min_holdout_accuracy
        if floor is not None and not (accuracy is not None and accuracy >= floor):
            return f"held-out direction accuracy {accuracy} below the floor {floor}"
        return ""

    def versions(self) -> list[str]:
        """Published version folders, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name))

    def _next_version(self) -> str:
        existing = self.versions()
        number = int(existing[-1][1:]) + 1 if existing else 1
        return f"v{number:06d}"

    def _prune(self, current: str) -> None:
        old = [v for v in self.versions() if v != current]
        for version in old[: max(0, len(old) - (self.keep - 1))]:
            shutil.rmtree(self.root / version, ignore_errors=True)


__all__ = ["CURRENT_NAME", "ModelSlot", "RetrainResult", "RollingRetrainer"]
