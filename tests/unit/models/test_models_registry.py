"""Registry: built-ins by name, user models, lazy heavy imports, loading by manifest type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from btb.errors import ConfigError, ModelError
from btb.models import (
    MODEL_REGISTRY,
    BaseModel,
    available_models,
    create_model,
    get_model_class,
    load_model,
    load_predictor,
    register_model,
)
from btb.models.gbm import PricePredictor
from btb.models.transformer import TransformerModel


class MeanModel(BaseModel):
    """A user model: predicts the training mean return; saved as one line of text."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.mean = 0.0

    def train(self, train_data: Any, validation_data: Any | None = None) -> dict[str, Any]:
        self.mean = float(train_data["close"].pct_change().mean())
        return {"mean": self.mean}

    def predict(self, data: Any) -> np.ndarray:
        return np.full(len(data), self.mean)

    def save(self, path: str) -> None:
        Path(path).write_text(repr(self.mean))

    @classmethod
    def load(cls, path: str) -> MeanModel:
        model = cls({})
        model.mean = float(Path(path).read_text())
        return model


@pytest.fixture()
def user_model() -> Any:
    register_model("mean", MeanModel)
    yield MeanModel
    MODEL_REGISTRY.pop("mean", None)


def test_builtins_resolve_by_name() -> None:
    assert {"gbm", "transformer"} <= set(available_models())
    assert get_model_class("gbm") is PricePredictor
    assert get_model_class("transformer") is TransformerModel
    model = create_model("gbm", {"n_estimators": 7})
    assert isinstance(model, PricePredictor) and model.config["n_estimators"] == 7


def test_user_models_by_class_or_path(
    user_model: Any, btc_1h: pd.DataFrame, tmp_path: Path
) -> None:
    model = create_model("mean")
    assert model.train(btc_1h)["mean"] == pytest.approx(btc_1h["close"].pct_change().mean())
    model.save(str(tmp_path / "mean.txt"))
    assert MeanModel.load(str(tmp_path / "mean.txt")).mean == model.mean  # type: ignore[attr-defined]
    register_model("gbm-alias", "btb.models.gbm:PricePredictor")
    try:
        assert get_model_class("gbm-alias") is PricePredictor
    finally:
        MODEL_REGISTRY.pop("gbm-alias")


def test_bad_names_and_targets() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'forest'.*gbm"):
        get_model_class("forest")
    with pytest.raises(ConfigError, match="module:Class"):
        register_model("x", "no_colon")
    with pytest.raises(ConfigError, match="not a BaseModel subclass"):
        register_model("x", dict)  # type: ignore[arg-type]
    register_model("broken", "btb.models.gbm:Nope")
    try:
        with pytest.raises(ConfigError, match="cannot import model 'broken'"):
            get_model_class("broken")
    finally:
        MODEL_REGISTRY.pop("broken")


def test_load_predictor_refuses_models_without_confidence(
    user_model: Any, tmp_path: Path, btc_1h: pd.DataFrame
) -> None:
    gbm = PricePredictor({"n_estimators": 5, "num_threads": 1})
    gbm.train(btc_1h.iloc[:1000])
    gbm.save(tmp_path / "m")
    assert isinstance(load_model(tmp_path / "m"), PricePredictor)
    import json

    from btb.models.artifacts import build_manifest, manifest_text

    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    files = {"model.txt": (tmp_path / "m" / "model.txt").read_bytes()}
    keep = {k: v for k, v in manifest.items() if k in ("config", "feature_names", "calibration")}
    (tmp_path / "m" / "manifest.json").write_text(
        manifest_text(build_manifest("mean", files, keep))
    )
    with pytest.raises(ModelError, match="gives no \\(prediction, confidence\\)"):
        load_predictor(tmp_path / "m")


def test_importing_btb_models_loads_no_heavy_library() -> None:
    code = (
        "import sys, btb.models, btb.models.base, btb.models.evaluation, btb.models.retrain;"
        "print(sorted(m for m in ('torch', 'lightgbm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
