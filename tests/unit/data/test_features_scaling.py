"""Normalisation: fit on a training window, apply unchanged later, JSON round trip, edge cases.

Expected values come from pandas (min/max, mean/std(ddof=0), median/quantile) computed here
on the training window, or by hand on crafted columns.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.data.features import METHODS, FeatureEngineering, Scaler, compute_features
from btb.errors import ConfigError, DataError, ModelError


def read_ohlcv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    index = pd.to_datetime(frame.pop("timestamp"), unit="ms", utc=True)
    frame.index = pd.DatetimeIndex(index, name="timestamp")
    return frame.astype("float64")


@pytest.fixture(scope="module")
def split(ohlcv_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    feats = compute_features(read_ohlcv(ohlcv_dir / "binance_spot" / "SOL_USDT-1h.csv.gz"))
    cut = int(len(feats) * 0.7)
    return feats.iloc[:cut], feats.iloc[cut:]  # the training part keeps its warm-up NaN rows


def reference_params(train: pd.DataFrame, method: str) -> tuple[pd.Series, pd.Series]:
    if method == "min_max":
        return train.min(), train.max() - train.min()
    if method == "z_score":
        return train.mean(), train.std(ddof=0)
    return train.median(), train.quantile(0.75) - train.quantile(0.25)


@pytest.mark.parametrize("method", METHODS)
def test_fit_on_train_then_apply_unchanged_to_test(
    split: tuple[pd.DataFrame, pd.DataFrame], method: str
) -> None:
    train, test = split
    scaled_train, scaler = FeatureEngineering().normalize_features(train, method=method)
    center, scale = reference_params(train, method)
    scale = scale.where(scale > 0, 1.0)  # constant columns (none expected here but be exact)
    pd.testing.assert_frame_equal(scaled_train, (train - center) / scale, rtol=1e-9)
    # Later data uses the training parameters, not its own.
    pd.testing.assert_frame_equal(scaler.transform(test), (test - center) / scale, rtol=1e-9)
    assert scaled_train["rsi_14"].iloc[:14].isna().all()  # warm-up NaN stays NaN
    assert not scaled_train.iloc[49:].isna().any().any()


def test_min_max_maps_training_range_to_unit_interval(
    split: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = split
    scaled, scaler = FeatureEngineering().normalize_features(train)
    assert np.allclose(scaled.min(), 0.0) and np.allclose(scaled.max(), 1.0)
    # The test window is not refitted: its price changes exceed the training range somewhere.
    later = scaler.transform(test)
    assert not np.allclose(later.min(), 0.0)


@pytest.mark.parametrize("method", METHODS)
def test_json_round_trip_is_exact(
    split: tuple[pd.DataFrame, pd.DataFrame], method: str, tmp_path: Path
) -> None:
    train, test = split
    _, scaler = FeatureEngineering().normalize_features(train, method=method)
    expected = scaler.transform(test)
    text = scaler.to_json()
    assert json.loads(text)["method"] == method
    pd.testing.assert_frame_equal(Scaler.from_json(text).transform(test), expected, rtol=0, atol=0)
    path = scaler.save(tmp_path / "scaler.json")
    assert path.read_text(encoding="utf-8").startswith("{")  # plain JSON text, not a pickle
    loaded = Scaler.load(path)
    assert loaded.method == method and loaded.columns == scaler.columns
    pd.testing.assert_frame_equal(loaded.transform(test), expected, rtol=0, atol=0)


def test_robust_uses_median_and_iqr() -> None:
    # median 3, q25 2, q75 4 (linear interpolation) -> IQR 2; the outlier 100 -> (100 - 3) / 2.
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0]})
    scaled, _ = FeatureEngineering().normalize_features(frame, method="robust")
    assert scaled["x"].tolist() == [-1.0, -0.5, 0.0, 0.5, 48.5]


def test_z_score_and_min_max_by_hand() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    z, _ = FeatureEngineering().normalize_features(frame, method="z_score")
    sd = (2.0 / 3.0) ** 0.5  # population std
    assert z["x"].tolist() == pytest.approx([-1 / sd, 0.0, 1 / sd])
    mm, _ = FeatureEngineering().normalize_features(frame, method="min_max")
    assert mm["x"].tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("method", METHODS)
def test_constant_column_maps_to_zero_without_nan(method: str) -> None:
    frame = pd.DataFrame({"flat": [0.1] * 7, "x": [1.0, 5.0, 2.0, 8.0, 3.0, 4.0, 9.0]})
    scaled, scaler = FeatureEngineering().normalize_features(frame, method=method)
    assert scaled["flat"].tolist() == [0.0] * 7
    later = scaler.transform(pd.DataFrame({"flat": [1.1], "x": [2.0]}))
    assert later["flat"].tolist() == [pytest.approx(1.0)]
    assert np.isfinite(later.to_numpy()).all()


def test_columns_choice_and_untouched_columns() -> None:
    frame = pd.DataFrame({"a": [1.0, 3.0], "b": [10.0, 30.0], "label": ["x", "y"]})
    scaled, _ = FeatureEngineering().normalize_features(frame, columns=["a"])
    assert scaled["a"].tolist() == [0.0, 1.0]
    assert scaled["b"].tolist() == [10.0, 30.0] and scaled["label"].tolist() == ["x", "y"]
    default = Scaler().fit(frame)
    assert default.columns == ["a", "b"]  # all numeric columns
    back = default.inverse_transform(default.transform(frame))
    pd.testing.assert_frame_equal(back, frame)


def test_unknown_method_is_named() -> None:
    with pytest.raises(ConfigError, match="'l2_norm'"):
        FeatureEngineering().normalize_features(pd.DataFrame({"x": [1.0]}), method="l2_norm")
    with pytest.raises(ConfigError, match="min_max, z_score, robust"):
        Scaler("minmax")


def test_misuse_is_reported() -> None:
    with pytest.raises(ModelError, match="not fitted"):
        Scaler().transform(pd.DataFrame({"x": [1.0]}))
    scaler = Scaler().fit(pd.DataFrame({"x": [1.0, 2.0], "y": [0.0, 1.0]}))
    with pytest.raises(DataError, match="y"):
        scaler.transform(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(DataError, match="inf"):
        Scaler().fit(pd.DataFrame({"x": [1.0, np.inf]}))
    with pytest.raises(DataError, match="no finite values"):
        Scaler().fit(pd.DataFrame({"x": [np.nan, np.nan]}))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format="pickle"), "not a btb scaler"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d.update(method="magic"), "unknown method"),
        (lambda d: d.update(scale=[0.0]), "scale > 0"),
        (lambda d: d.update(center=[1.0, 2.0]), "length"),
        (lambda d: d.update(center=["a"]), "non-numeric"),
        (lambda d: d.update(columns=[1]), "list of strings"),
    ],
)
def test_tampered_documents_are_rejected(edit: object, message: str) -> None:
    payload = Scaler().fit(pd.DataFrame({"x": [1.0, 2.0]})).to_dict()
    edit(payload)  # type: ignore[operator]
    with pytest.raises(ModelError, match=message):
        Scaler.from_json(json.dumps(payload))


def test_unreadable_files_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        Scaler.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        Scaler.load(tmp_path / "bad.json")
