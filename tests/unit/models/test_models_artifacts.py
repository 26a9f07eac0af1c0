"""Model files: no pickle, manifest contents, and every tamper/mismatch case is a ModelError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb import __version__
from btb.data.features import FEATURE_NAMES
from btb.errors import ModelError
from btb.models import load_predictor
from btb.models.artifacts import build_manifest, manifest_text, sha256_bytes
from btb.models.gbm import PricePredictor
from btb.models.transformer import TransformerModel

from .conftest import FAST_GBM


@pytest.fixture(scope="module")
def saved(btc_1h: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = PricePredictor({**FAST_GBM, "horizon": 2})
    model.train(btc_1h.iloc[:2500])
    path = tmp_path_factory.mktemp("models") / "btc_gbm"
    model.save(path)
    return path


@pytest.fixture()
def copy(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    target.mkdir()
    for item in saved.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    return target


def rewrite_manifest(folder: Path, **changes: object) -> None:
    """Edit the manifest and re-seal it with a valid checksum (as an older btb would have)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(changes)
    files = {name: (folder / name).read_bytes() for name in manifest["files"]}
    keep = {k: v for k, v in manifest.items() if k not in ("files", "checksum")}
    for key in ("format", "format_version", "model_type", "btb_version", "created_at"):
        keep.pop(key)
    sealed = build_manifest(manifest["model_type"], files, keep)
    sealed["format_version"] = manifest["format_version"]
    sealed["checksum"] = manifest_checksum(sealed)
    (folder / "manifest.json").write_text(manifest_text(sealed))


def manifest_checksum(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return sha256_bytes(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def test_folder_holds_lightgbm_text_and_a_complete_manifest(saved: Path) -> None:
    assert sorted(p.name for p in saved.iterdir()) == ["manifest.json", "model.txt"]
    assert (saved / "model.txt").read_text().startswith("tree\nversion=")  # LightGBM text
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["model_type"] == "gbm" and manifest["btb_version"] == __version__
    assert manifest["feature_names"] == FEATURE_NAMES
    assert manifest["label"]["horizon"] == 2 and manifest["config"]["horizon"] == 2
    assert manifest["scaler"] is None  # trees need no scaling
    assert manifest["calibration"]["format"] == "btb.isotonic"
    assert set(manifest["training_window"]) >= {"start", "end", "fit_rows", "holdout_rows"}
    assert set(manifest["metrics"]) == {"rows", "direction_accuracy", "rmse", "mae"}
    data = (saved / "model.txt").read_bytes()
    assert manifest["files"]["model.txt"] == {"sha256": sha256_bytes(data), "bytes": len(data)}
    assert manifest["checksum"] == manifest_checksum(manifest)


def test_reload_predicts_identically(saved: Path, btc_1h: pd.DataFrame) -> None:
    model = load_predictor(saved)
    assert isinstance(model, PricePredictor)
    again = PricePredictor.load(saved)
    a = model.predict_frame(btc_1h.iloc[2500:3000]).to_numpy()
    b = again.predict_frame(btc_1h.iloc[2500:3000]).to_numpy()
    assert a.tobytes() == b.tobytes()
    seed_style = PricePredictor()
    seed_style.load_model(saved)  # seed 002: load into an existing object
    assert seed_style.horizon == 2 and seed_style.predict_signal(btc_1h) == model.predict_signal(
        btc_1h
    )


def test_one_changed_byte_in_the_model_file(copy: Path) -> None:
    data = bytearray((copy / "model.txt").read_bytes())
    middle = len(data) // 2
    data[middle] = ord("7") if data[middle] != ord("7") else ord("8")
    (copy / "model.txt").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model\.txt: checksum mismatch"):
        load_predictor(copy)


def test_truncated_model_file(copy: Path) -> None:
    data = (copy / "model.txt").read_bytes()
    (copy / "model.txt").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match=rf"truncated: {len(data) // 3} bytes.* {len(data)}"):
        load_predictor(copy)


def test_truncated_or_edited_manifest(copy: Path) -> None:
    text = (copy / "manifest.json").read_text()
    (copy / "manifest.json").write_text(text.replace('"horizon": 2', '"horizon": 3', 1))
    with pytest.raises(ModelError, match="manifest checksum mismatch"):
        load_predictor(copy)
    (copy / "manifest.json").write_text(text[: len(text) // 2])
    with pytest.raises(ModelError, match="unreadable manifest"):
        load_predictor(copy)


def test_feature_list_differs_from_the_pipeline(copy: Path) -> None:
    old = [n for n in FEATURE_NAMES if n != "mfi"] + ["rsi_28"]
    rewrite_manifest(copy, feature_names=old)
    with pytest.raises(ModelError) as info:
        load_predictor(copy)
    message = str(info.value)
    assert "feature list differs" in message
    assert "pipeline lacks: rsi_28" in message and "model lacks: mfi" in message


def test_feature_order_differs(copy: Path) -> None:
    swapped = list(FEATURE_NAMES)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    rewrite_manifest(copy, feature_names=swapped)
    with pytest.raises(ModelError, match=r"different order \(position 0"):
        load_predictor(copy)


def test_unknown_format_type_and_bad_file_names(copy: Path) -> None:
    rewrite_manifest(copy, format_version=2)
    with pytest.raises(ModelError, match="format version 2 is not supported"):
        load_predictor(copy)
    rewrite_manifest(copy, format_version=1, model_type="mystery")
    with pytest.raises(ModelError, match="'mystery' is not registered"):
        load_predictor(copy)
    rewrite_manifest(copy, model_type="gbm")
    with pytest.raises(ModelError, match="holds a 'gbm' model, not 'transformer'"):
        TransformerModel.load(copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"] = {"../../etc/passwd": {"sha256": "0", "bytes": 1}}
    manifest["checksum"] = manifest_checksum(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="invalid file"):
        load_predictor(copy)


def test_missing_folder_and_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"manifest\.json not found"):
        load_predictor(tmp_path / "nothing")
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelError, match="not a btb model manifest"):
        load_predictor(tmp_path)


def test_saving_over_a_model_replaces_it_and_never_over_other_data(
    btc_1h: pd.DataFrame, copy: Path, tmp_path: Path
) -> None:
    model = PricePredictor({**FAST_GBM, "horizon": 1})
    model.train(btc_1h.iloc[:1500])
    model.save(copy)
    assert load_predictor(copy).horizon == 1
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]  # no leftovers
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ModelError, match="not a btb model folder"):
        model.save(other)
    assert (other / "cat.jpg").read_bytes() == b"\xff\xd8"


def test_nan_metrics_are_stored_as_null(btc_1h: pd.DataFrame, tmp_path: Path) -> None:
    model = PricePredictor(FAST_GBM)
    model.train(btc_1h.iloc[:1500])
    model.metrics["direction_accuracy"] = float("nan")
    model.save(tmp_path / "m")
    assert load_predictor(tmp_path / "m").metrics["direction_accuracy"] is None
    assert np.isfinite(load_predictor(tmp_path / "m").predict(btc_1h.iloc[:200])).all()


def test_numpy_settings_from_a_parameter_grid_save_as_plain_numbers(
    btc_1h: pd.DataFrame, tmp_path: Path
) -> None:
    grid = np.arange(10, 40, 10)  # e.g. an optimiser's grid: np.int64 values
    model = PricePredictor({"n_estimators": grid[1], "num_threads": 1})
    model.train(btc_1h.iloc[:1500])
    model.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["config"]["n_estimators"] == 20
    loaded = load_predictor(tmp_path / "m")
    frame = btc_1h.iloc[1500:1800]
    assert loaded.predict_frame(frame).equals(model.predict_frame(frame))
