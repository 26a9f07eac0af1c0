"""Purged walk-forward evaluation: the accuracy a user would have seen trading the model.

Seed 002 scored its model with a shuffled 5-fold ``cross_val_score``. With forward-return
labels that is leakage: a test row's label overlaps the labels of its neighbours, which sit in
the training folds, so the model is graded on answers it has half seen. btb instead trains only
on the past and tests on the block that follows, like a user who retrains and trades forward:

    fold k:  [ train ............ ] purge | embargo [ test k ]
             expanding: train starts at the first usable row; rolling: the last train_size rows

* **purge** (>= horizon rows): dropped between train and test so no training label (which looks
  ``horizon`` bars ahead) reaches into the test block.
* **embargo** (>= horizon rows): a further gap, for features and returns that are serially
  correlated beyond the label horizon.

The usable rows (after the feature warm-up) are cut into ``n_folds + 1`` equal blocks unless
``test_size`` says otherwise; the first block (or ``train_size`` rows) only trains. Each fold
trains a fresh model (the model itself holds out the tail of its training window to calibrate
confidence, see :mod:`btb.models.base`), so no test row ever influences a choice. Figures are
pooled over every test row (:mod:`btb.models.scoring`) and also given per fold.

A caller-supplied feature function is first run through the look-ahead checker
(:func:`btb.data.features.find_lookahead`); one that looks ahead is refused with DataError.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from btb.data.features import find_lookahead
from btb.errors import ConfigError, DataError
from btb.models.base import ProgressFn, SignalModel, forward_returns
from btb.models.scoring import DEFAULT_BUCKETS, accuracy_stats, error_stats, score_forecasts

MODES = ("expanding", "rolling")


@dataclass(frozen=True)
class Fold:
    """Row positions of one fold: ``train`` and ``test`` are half-open [start, stop)."""

    index: int
    train: tuple[int, int]
    test: tuple[int, int]


def walk_forward_splits(
    n_rows: int,
    n_folds: int,
    *,
    first: int = 0,
    gap: int = 0,
    test_size: int | None = None,
    train_size: int | None = None,
    mode: str = "expanding",
) -> list[Fold]:
    """Folds over rows ``[first, n_rows)``: each trains before its test block, ``gap`` rows apart.

    This is the bare splitter (any ``gap >= 0``); :func:`walk_forward` enforces the purge.
    """
    usable = n_rows - first
    size = test_size or usable // (n_folds + 1)
    initial = usable - n_folds * size
    if n_folds < 1 or size < 1 or initial - gap < 1:
        raise DataError(
            f"cannot make {n_folds} walk-forward folds of {size} test rows from {usable} usable "
            f"rows with a gap of {gap}"
        )
    folds = []
    for k in range(n_folds):
        test_start = first + initial + k * size
        train_stop = test_start - gap
        train_start = first if mode == "expanding" else max(first, train_stop - (train_size or 0))
        test_stop = test_start + size if k < n_folds - 1 else n_rows
        folds.append(Fold(k, (train_start, train_stop), (test_start, test_stop)))
    return folds


@dataclass(frozen=True)
class WalkForwardConfig:
    """How to walk forward; ``None`` sizes are derived (see module doc)."""

    n_folds: int = 5
    mode: str = "expanding"
    train_size: int | None = None
    test_size: int | None = None
    purge: int | None = None  # default: the label horizon
    embargo: int | None = None  # default: the label horizon
    confidence_threshold: float = 0.5
    buckets: tuple[float, ...] = DEFAULT_BUCKETS

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> WalkForwardConfig:
        """Build from a config mapping; unknown keys and bad values raise ConfigError."""
        given = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(
                f"unknown walk-forward setting (known: {', '.join(sorted(known))})",
                key_path=f"walk_forward.{unknown[0]}",
            )
        if "buckets" in given:
            given["buckets"] = _bucket_edges(given["buckets"])
        config = cls(**given)
        config.check()
        return config

    def check(self, horizon: int | None = None) -> None:
        """ConfigError for impossible settings (and a purge/embargo below ``horizon``)."""
        if self.mode not in MODES:
            raise ConfigError(
                f"must be one of {MODES}, got {self.mode!r}", key_path="walk_forward.mode"
            )
        for key in ("n_folds", "train_size", "test_size", "purge", "embargo"):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError(
                    f"must be a positive integer, got {value!r}", key_path=f"walk_forward.{key}"
                )
        threshold = self.confidence_threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not 0.0 <= threshold < 1.0
        ):
            raise ConfigError(
                f"must be in [0, 1), got {self.confidence_threshold!r}",
                key_path="walk_forward.confidence_threshold",
            )
        if self.mode == "rolling" and self.train_size is None:
            raise ConfigError("rolling mode needs train_size", key_path="walk_forward.train_size")
        edges = self.buckets
        if len(edges) < 2 or list(edges) != sorted(edges) or edges[0] < 0 or edges[-1] > 1:
            raise ConfigError(
                "must be ascending edges within [0, 1]", key_path="walk_forward.buckets"
            )
        if horizon is not None:
            for key in ("purge", "embargo"):
                value = getattr(self, key)
                if value is not None and value < horizon:
                    raise ConfigError(
                        f"must be at least the label horizon ({horizon}), got {value}",
                        key_path=f"walk_forward.{key}",
                    )


def _bucket_edges(value: Any) -> tuple[float, ...]:
    """Confidence bucket edges from a config list; ConfigError for anything else."""
    numbers = isinstance(value, list | tuple) and all(
        isinstance(b, int | float) and not isinstance(b, bool) for b in value
    )
    if not numbers:
        raise ConfigError(
            f"must be a list of numbers, got {value!r}", key_path="walk_forward.buckets"
        )
    return tuple(float(b) for b in value)


@dataclass
class WalkForwardReport:
    """Pooled and per-fold results; ``predictions`` holds every scored test row."""

    setup: dict[str, Any]
    pooled: dict[str, Any]
    folds: list[dict[str, Any]]
    predictions: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-row predictions, JSON-ready (NaN -> None)."""
        from btb.models.artifacts import json_safe

        return json_safe({"setup": self.setup, **self.pooled, "folds": self.folds})

    def summary(self) -> dict[str, Any]:
        """The headline figures stored in a model manifest."""
        pooled = self.pooled
        return {
            "direction_accuracy": pooled["model"],
            "confident": pooled["confident"],
            "always_up": pooled["baselines"]["always_up"]["accuracy"],
            "last_direction": pooled["baselines"]["last_direction"]["accuracy"],
            "n_folds": self.setup["n_folds"],
            "rows_scored": pooled["rows_scored"],
        }


def check_feature_function(
    feature_fn: Callable[[pd.DataFrame], pd.DataFrame], data: pd.DataFrame, n_cuts: int = 4
) -> None:
    """DataError when ``feature_fn`` changes past rows once later rows exist (look-ahead)."""
    cuts = np.linspace(len(data) // 4, len(data) - 2, n_cuts).astype(int).tolist()
    leaks = find_lookahead(feature_fn, data, cuts)
    if leaks:
        raise DataError(
            f"feature function looks ahead ({len(leaks)} finding(s)); refusing to evaluate: "
            + str(leaks[0])
        )


def walk_forward(
    model_factory: Callable[[], SignalModel],
    data: pd.DataFrame,
    config: WalkForwardConfig | dict[str, Any] | None = None,
    *,
    feature_fn: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    progress: ProgressFn | None = None,
    fit_progress: ProgressFn | None = None,
) -> WalkForwardReport:
    """Purged walk-forward evaluation of fresh models from ``model_factory`` on OHLCV ``data``.

    ``feature_fn`` replaces the model's own features (it is look-ahead checked first).
    ``progress(fold, n_folds, figures)`` is called after each fold; ``fit_progress`` is
    passed to each model's training (per-epoch callbacks of the transformer).
    """
    wf = config if isinstance(config, WalkForwardConfig) else WalkForwardConfig.from_dict(config)
    probe = model_factory()
    horizon = probe.horizon
    wf.check(horizon)
    features = _features(probe, data, feature_fn)
    close = data["close"].astype(np.float64)
    target = forward_returns(close, horizon).to_numpy()
    past = (close / close.shift(horizon) - 1.0).to_numpy()
    folds = _folds(features, wf, horizon)
    parts, fold_rows = [], []
    for fold in folds:
        started = time.perf_counter()
        part = _run_fold(model_factory(), features, target, past, fold, fit_progress)
        parts.append(part)
        row = _fold_row(fold, part, horizon, data.index, time.perf_counter() - started)
        fold_rows.append(row)
        if progress is not None:
            accuracy = row["accuracy"]
            progress(fold.index + 1, len(folds), {"accuracy": _or_nan(accuracy)})
    predictions = pd.concat(parts)
    pooled = score_forecasts(
        *(predictions[c].to_numpy() for c in ("forecast", "confidence", "actual", "past")),
        horizon=horizon,
        threshold=wf.confidence_threshold,
        edges=wf.buckets,
    )
    return WalkForwardReport(_setup(probe, wf, data, folds), pooled, fold_rows, predictions)


def _features(
    probe: SignalModel,
    data: pd.DataFrame,
    feature_fn: Callable[[pd.DataFrame], pd.DataFrame] | None,
) -> pd.DataFrame:
    """The model's features of ``data``, or ``feature_fn``'s once it passed the look-ahead
    check."""
    if feature_fn is None:
        return probe.create_features(data)
    check_feature_function(feature_fn, data)
    return feature_fn(data)


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _setup(
    probe: SignalModel, wf: WalkForwardConfig, data: pd.DataFrame, folds: list[Fold]
) -> dict[str, Any]:
    """The report's description of what was evaluated and how."""
    horizon = probe.horizon
    return {
        "model_type": probe.model_type,
        "model_config": probe.config,
        "horizon": horizon,
        "rows": len(data),
        "first": _stamp(data.index, 0),
        "last": _stamp(data.index, -1),
        **asdict(wf),
        "purge": wf.purge or horizon,
        "embargo": wf.embargo or horizon,
        "test_rows_per_fold": folds[0].test[1] - folds[0].test[0],
    }


def _folds(features: pd.DataFrame, wf: WalkForwardConfig, horizon: int) -> list[Fold]:
    """The folds over the rows after the feature warm-up, with purge + embargo as the gap."""
    finite = np.isfinite(features.to_numpy(dtype=np.float64)).all(axis=1)
    if not finite.any():
        raise DataError("no row has all features finite (too little data for the warm-up)")
    return walk_forward_splits(
        len(features),
        wf.n_folds,
        first=int(np.argmax(finite)),
        gap=(wf.purge or horizon) + (wf.embargo or horizon),
        test_size=wf.test_size,
        train_size=wf.train_size,
        mode=wf.mode,
    )


def _run_fold(
    model: SignalModel,
    features: pd.DataFrame,
    target: Any,
    past: Any,
    fold: Fold,
    fit_progress: ProgressFn | None,
) -> pd.DataFrame:
    (a, b), (c, d) = fold.train, fold.test
    train_target = pd.Series(target[a:b], index=features.index[a:b])
    model.fit_features(features.iloc[a:b], train_target, progress=fit_progress)
    context = max(0, c - model.context_rows)
    forecast, confidence = model.predict_features(features.iloc[context:d])
    n = d - c
    return pd.DataFrame(
        {
            "forecast": forecast[-n:],
            "confidence": confidence[-n:],
            "actual": target[c:d],
            "past": past[c:d],
            "fold": fold.index,
        },
        index=features.index[c:d],
    )


def _fold_row(
    fold: Fold, part: pd.DataFrame, horizon: int, index: pd.Index, seconds: float
) -> dict[str, Any]:
    f, a = part["forecast"].to_numpy(), part["actual"].to_numpy()
    scored = np.isfinite(f) & np.isfinite(a) & (a != 0)
    stats = accuracy_stats(np.sign(f[scored]) == np.sign(a[scored]), horizon)
    return {
        "fold": fold.index,
        "train": [_stamp(index, fold.train[0]), _stamp(index, fold.train[1] - 1)],
        "test": [_stamp(index, fold.test[0]), _stamp(index, fold.test[1] - 1)],
        "train_rows": fold.train[1] - fold.train[0],
        "test_rows": fold.test[1] - fold.test[0],
        "always_up": float((a[scored] > 0).mean()) if scored.any() else None,
        "seconds": seconds,
        **stats,
        **error_stats(f, a),
    }


def _stamp(index: pd.Index, pos: int) -> Any:
    label = index[pos]
    return label.isoformat() if isinstance(label, pd.Timestamp) else int(label)


def format_report(report: WalkForwardReport | dict[str, Any]) -> str:
    """A plain-text summary for terminals and logs."""
    r = report.to_dict() if isinstance(report, WalkForwardReport) else report
    s, m, base = r["setup"], r["model"], r["baselines"]
    lines = [
        f"walk-forward: {s['model_type']}, horizon {s['horizon']} bar(s), {s['n_folds']} "
        f"{s['mode']} folds, purge {s['purge']} + embargo {s['embargo']} rows, "
        f"{r['rows_scored']} test rows scored ({s['first'][:10]} .. {s['last'][:10]})",
        f"  model          direction {_acc(m)}   RMSE {_num(m['rmse'])}  MAE {_num(m['mae'])}",
        f"  conf > {r['confident']['threshold']:<5}    direction {_acc(r['confident'])}   "
        f"coverage {_pct(r['confident']['coverage'])}",
        f"  always up      direction {_acc(base['always_up'])}",
        f"  last direction direction {_acc(base['last_direction'])}   "
        f"RMSE {_num(base['last_direction']['rmse'])}",
        f"  zero return    RMSE {_num(base['zero_return']['rmse'])}  "
        f"MAE {_num(base['zero_return']['mae'])}",
        "  accuracy by confidence bucket:",
    ]
    for b in r["buckets"]:
        lines.append(f"    ({b['low']:.2f}, {b['high']:.2f}]  {_acc(b)}")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.5f}"


def _acc(stats: dict[str, Any]) -> str:
    if stats.get("accuracy") is None:
        return "  n/a (no rows)      "
    low, high = stats.get("ci_low"), stats.get("ci_high")
    ci = f"[{_pct(low).strip()}, {_pct(high).strip()}]" if low is not None else "[n/a]"
    return f"{_pct(stats['accuracy'])} {ci:<16} n={stats['n']}"
