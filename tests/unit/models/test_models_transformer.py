"""TransformerModel: seed 000's config keys, determinism, early stopping, safe weights."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from btb.errors import ConfigError, ModelError
from btb.models import load_predictor
from btb.models.artifacts import build_manifest, manifest_text
from btb.models.base import forward_returns
from btb.models.transformer import TransformerModel

from .conftest import TINY_TRANSFORMER

DATA_ROWS = 1200


@pytest.fixture(scope="module")
def trained(btc_1h: pd.DataFrame) -> TransformerModel:
    model = TransformerModel(TINY_TRANSFORMER)
    model.train(btc_1h.iloc[:DATA_ROWS])
    return model


def test_seed_000_config_keys_shape_the_network() -> None:
    config = {**TINY_TRANSFORMER, "hidden_dim": 12, "num_layers": 3, "nhead": 3, "dropout": 0.2}
    model = TransformerModel(config)
    net = model.model
    assert net.project.in_features == model.config["input_dim"] == len(model.feature_names)
    assert len(net.encoder.layers) == 3
    assert net.encoder.layers[0].self_attn.num_heads == 3
    assert net.encoder.layers[0].dropout.p == 0.2
    assert net.head.out_features == model.config["output_dim"] == 1
    assert model.context_rows == TINY_TRANSFORMER["window"] - 1
    with pytest.raises(ConfigError, match=r"model\.output_dim"):
        TransformerModel({"output_dim": 3})
    with pytest.raises(ConfigError, match=r"model\.hidden_dim"):
        TransformerModel({"hidden_dim": 10, "nhead": 4})
    with pytest.raises(ConfigError, match=r"model\.dropout"):
        TransformerModel({"dropout": 1.5})


def test_training_is_deterministic_and_leaves_torch_state_alone(
    btc_1h: pd.DataFrame, trained: TransformerModel
) -> None:
    rng_before = torch.get_rng_state()
    threads_before = torch.get_num_threads()
    flag_before = torch.are_deterministic_algorithms_enabled()
    again = TransformerModel(TINY_TRANSFORMER)
    again.train(btc_1h.iloc[:DATA_ROWS])
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.get_num_threads() == threads_before
    assert torch.are_deterministic_algorithms_enabled() == flag_before
    for (name, a), (_, b) in zip(
        trained.model.state_dict().items(), again.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    frame = btc_1h.iloc[:1500]
    assert (
        trained.predict_frame(frame).to_numpy().tobytes()
        == again.predict_frame(frame).to_numpy().tobytes()
    )


def test_scaler_is_fitted_on_the_training_rows_only(
    btc_1h: pd.DataFrame, trained: TransformerModel
) -> None:
    features = trained.create_features(btc_1h.iloc[:DATA_ROWS])
    fit_rows = trained.training_window["fit_rows"]  # rows before the held-out tail
    assert fit_rows == DATA_ROWS - int(DATA_ROWS * 0.2) - 1
    fit = features.iloc[:fit_rows]
    target = forward_returns(btc_1h["close"].iloc[:DATA_ROWS], 1).iloc[:fit_rows]
    usable = fit.notna().all(axis=1) & target.notna()
    assert trained.scaler is not None and trained.scaler.center is not None
    np.testing.assert_allclose(trained.scaler.center, fit.loc[usable].mean().to_numpy(), rtol=1e-9)
    assert trained.target_scale == pytest.approx(float(np.std(target[usable])), rel=1e-12)


def test_early_stopping_keeps_the_best_epoch(btc_1h: pd.DataFrame) -> None:
    config = {**TINY_TRANSFORMER, "epochs": 12, "patience": 2, "learning_rate": 0.05}
    stopped = TransformerModel(config)
    stopped.train(btc_1h.iloc[:DATA_ROWS])
    losses = [h["val_loss"] for h in stopped.history]
    best = int(np.argmin(losses)) + 1
    assert len(losses) < 12, "validation loss never stalled: pick a harsher learning rate"
    assert len(losses) == best + 2  # stopped `patience` epochs after the best one
    # A run that stops at the best epoch by itself ends with the same weights.
    short = TransformerModel({**config, "epochs": best, "patience": 99})
    short.train(btc_1h.iloc[:DATA_ROWS])
    for key, value in stopped.model.state_dict().items():
        assert torch.equal(value, short.model.state_dict()[key]), key


def test_windows_warm_up_and_predictions_are_causal(
    btc_1h: pd.DataFrame, trained: TransformerModel
) -> None:
    full = trained.predict_frame(btc_1h.iloc[:600])
    first = 49 + TINY_TRANSFORMER["window"] - 1  # feature warm-up, then a full window
    assert full["prediction"].iloc[:first].isna().all() and full.iloc[first:].notna().all().all()
    assert (full["confidence"].iloc[:first] == 0.0).all()
    assert trained.min_history == first + 1
    prefix = trained.predict_frame(btc_1h.iloc[:300])
    pd.testing.assert_frame_equal(prefix, full.iloc[:300])
    prediction, confidence = trained.predict(btc_1h.iloc[:600])
    assert np.isfinite(prediction) and 0.0 <= confidence <= 1.0


def test_save_load_round_trip_uses_a_tensor_only_state_dict(
    btc_1h: pd.DataFrame, trained: TransformerModel, tmp_path: Path
) -> None:
    trained.save(tmp_path / "tf")
    manifest = json.loads((tmp_path / "tf" / "manifest.json").read_text())
    assert manifest["model_type"] == "transformer"
    assert manifest["scaler"]["input"]["method"] == "z_score"
    state = torch.load(tmp_path / "tf" / "model.pt", weights_only=True)
    assert all(torch.is_tensor(v) for v in state.values())
    loaded = load_predictor(tmp_path / "tf")
    frame = btc_1h.iloc[:800]
    assert (
        loaded.predict_frame(frame).to_numpy().tobytes()
        == trained.predict_frame(frame).to_numpy().tobytes()
    )


class _Boom:
    """Unpickling this runs a command (creates ``marker``): a malicious 'model' file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (subprocess.call, (["touch", str(self.marker)],))


def test_a_pickled_payload_is_refused_without_running_it(
    trained: TransformerModel, tmp_path: Path
) -> None:
    trained.save(tmp_path / "tf")
    buffer = io.BytesIO()
    marker = tmp_path / "PWNED"
    torch.save({"project.weight": _Boom(marker)}, buffer)
    payload = buffer.getvalue()
    manifest = json.loads((tmp_path / "tf" / "manifest.json").read_text())
    (tmp_path / "tf" / "model.pt").write_bytes(payload)
    fields = {
        k: v
        for k, v in manifest.items()
        if k not in ("format", "format_version", "model_type", "btb_version", "created_at")
        and k not in ("files", "checksum")
    }
    resealed = build_manifest("transformer", {"model.pt": payload}, fields)
    (tmp_path / "tf" / "manifest.json").write_text(manifest_text(resealed))
    with pytest.raises(ModelError, match="not a loadable state dict"):
        load_predictor(tmp_path / "tf")
    assert not marker.exists()


def test_state_dict_for_another_network_is_refused(
    trained: TransformerModel, tmp_path: Path
) -> None:
    trained.save(tmp_path / "tf")
    manifest = json.loads((tmp_path / "tf" / "manifest.json").read_text())
    other = TransformerModel({**TINY_TRANSFORMER, "hidden_dim": 16})
    buffer = io.BytesIO()
    torch.save(other.model.state_dict(), buffer)
    fields = {
        k: v
        for k, v in manifest.items()
        if k not in ("format", "format_version", "model_type", "btb_version", "created_at")
        and k not in ("files", "checksum")
    }
    resealed = build_manifest("transformer", {"model.pt": buffer.getvalue()}, fields)
    (tmp_path / "tf" / "model.pt").write_bytes(buffer.getvalue())
    (tmp_path / "tf" / "manifest.json").write_text(manifest_text(resealed))
    with pytest.raises(ModelError, match="does not match the configured network"):
        load_predictor(tmp_path / "tf")
