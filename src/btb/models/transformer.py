"""TransformerModel: a small PyTorch transformer encoder over windows of feature rows.

Input: for row t, the ``window`` feature rows ``t-window+1 .. t`` (z-scored with a
:class:`~btb.data.features.Scaler` fitted on the training rows, clipped to ±10), projected to
``hidden_dim``, plus a sinusoidal positional encoding; ``num_layers`` encoder layers with
``nhead`` heads and ``dropout``; the last position's state goes through a layer norm and a
linear head to ``output_dim`` (= 1) value: the forward return over ``horizon`` bars, in units of
the training targets' standard deviation (multiplied back on output). Loss: MSE; optimiser:
AdamW; early stopping when the validation loss has not improved for ``patience`` epochs (the
best epoch's weights are kept). The held-out tail of the training window is the validation set
for early stopping and then calibrates the confidence, as for the GBM
(:mod:`btb.models.calibration`); that reuse makes the held-out metrics of ``train`` slightly
optimistic, which is one more reason to read the walk-forward figures instead.

Repeatable: weights, dropout and batch order are seeded (``seed``) in a forked RNG (the caller's
torch RNG is left untouched); on CPU, training and inference run with
``torch.use_deterministic_algorithms(True)`` and ``num_threads`` threads (both restored after),
so the same data and config give the same weights and bit-identical predictions. ``device``
``"auto"`` uses CUDA when present (not bit-for-bit repeatable there). Inference is batched.

Files: ``model.pt`` is a state dict of tensors only, read back with
``torch.load(weights_only=True)`` (no pickle of code); the scaler and target scale are in the
manifest. torch is imported only when a transformer is built.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from btb.data.features import Scaler
from btb.errors import ConfigError, DataError, ModelError
from btb.models.base import (
    FloatArray,
    ProgressFn,
    SignalModel,
    check_float,
    check_int,
    merge_config,
)

MODEL_FILE = "model.pt"
CLIP = 10.0

DEFAULTS: dict[str, Any] = {
    **SignalModel.COMMON_DEFAULTS,
    "input_dim": None,  # None: the number of features
    "hidden_dim": 64,
    "num_layers": 2,
    "nhead": 4,
    "dropout": 0.1,
    "output_dim": 1,
    "window": 32,
    "epochs": 20,
    "batch_size": 256,
    "learning_rate": 1e-3,
    "weight_decay": 1e-4,
    "patience": 3,
    "seed": 42,
    "num_threads": 2,
    "device": "auto",
}


@functools.cache
def _net_class() -> Any:
    """The nn.Module class, defined on first use so importing this module needs no torch."""
    import torch
    from torch import nn

    class TimeSeriesTransformer(nn.Module):
        def __init__(self, c: dict[str, Any]) -> None:
            super().__init__()
            hidden = c["hidden_dim"]
            self.project = nn.Linear(c["input_dim"], hidden)
            position = torch.arange(c["window"], dtype=torch.float32).unsqueeze(1)
            freq = torch.exp(torch.arange(0, hidden, 2).float() * (-math.log(10000.0) / hidden))
            pe = torch.zeros(c["window"], hidden)
            pe[:, 0::2] = torch.sin(position * freq)
            pe[:, 1::2] = torch.cos(position * freq[: hidden // 2])
            self.register_buffer("positional", pe, persistent=False)
            layer = nn.TransformerEncoderLayer(
                hidden, c["nhead"], 2 * hidden, c["dropout"], batch_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, c["num_layers"], enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden)
            self.head = nn.Linear(hidden, c["output_dim"])

        def forward(self, x: Any) -> Any:
            h = self.project(x) + self.get_buffer("positional")[: x.shape[1]]
            return self.head(self.norm(self.encoder(h)[:, -1]))

    return TimeSeriesTransformer


class TransformerModel(SignalModel):
    """Transformer forecaster of the forward return (seed 000's config keys, see module doc)."""

    model_type: ClassVar[str] = "transformer"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        merged = merge_config(DEFAULTS, config, "transformer")
        super().__init__(merged)
        merged = self.config
        if merged["input_dim"] is None:
            merged["input_dim"] = len(self.feature_names)
        for key, low in (("input_dim", 1), ("hidden_dim", 2), ("num_layers", 1), ("nhead", 1)):
            check_int(merged, key, low)
        for key in ("window", "epochs", "batch_size", "patience", "num_threads"):
            check_int(merged, key, 1)
        check_int(merged, "output_dim", 1, 1)  # one value: the forward return
        check_int(merged, "seed", 0)
        check_float(merged, "learning_rate", 0.0, 1.0)
        if merged["hidden_dim"] % (2 * merged["nhead"]):
            raise ConfigError(
                "hidden_dim must be a multiple of 2 * nhead", key_path="model.hidden_dim"
            )
        for key, ok in (
            ("dropout", lambda v: 0.0 <= v < 1.0),
            ("weight_decay", lambda v: v >= 0.0),
        ):
            value = merged[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not ok(value):
                raise ConfigError(f"out of range: {value!r}", key_path=f"model.{key}")
        if merged["device"] not in ("auto", "cpu", "cuda"):
            raise ConfigError("must be auto, cpu or cuda", key_path="model.device")
        self.context_rows = merged["window"] - 1
        self.scaler: Scaler | None = None
        self.target_scale = 1.0
        self.history: list[dict[str, float]] = []
        self.model = self._build_model()

    # ---- torch plumbing -----------------------------------------------------------------

    @property
    def device(self) -> str:
        import torch

        wanted = self.config["device"]
        if wanted == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return str(wanted)

    @contextlib.contextmanager
    def _torch_env(self) -> Iterator[None]:
        """Seeded, forked RNG; on CPU deterministic kernels and a fixed thread count."""
        import torch

        threads, deterministic = (
            torch.get_num_threads(),
            torch.are_deterministic_algorithms_enabled(),
        )
        on_cpu = self.device == "cpu"
        devices = [torch.cuda.current_device()] if not on_cpu else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.config["seed"])
            if on_cpu:
                torch.set_num_threads(self.config["num_threads"])
                torch.use_deterministic_algorithms(True)
            try:
                yield
            finally:
                torch.set_num_threads(threads)
                torch.use_deterministic_algorithms(deterministic)

    def _build_model(self) -> Any:
        """Build and return the PyTorch model (weights seeded by ``seed``)."""
        with self._torch_env():
            return _net_class()(self.config).to(self.device)

    # ---- data ---------------------------------------------------------------------------

    def _matrix(self, features: pd.DataFrame) -> tuple[Any, np.ndarray]:
        """Scaled float32 tensor of ``features`` and the mask of rows whose window is finite."""
        import torch

        if self.scaler is None:
            raise ModelError("TransformerModel is not trained; call train() or load() first")
        x = self.scaler.transform(features).to_numpy(dtype=np.float64)
        finite = np.isfinite(x).all(axis=1)
        w = self.config["window"]
        ends = np.zeros(len(x), dtype=bool)
        if len(x) >= w:
            run = np.convolve(finite.astype(np.int64), np.ones(w, dtype=np.int64), "valid")
            ends[w - 1 :] = run == w
        x = np.clip(np.nan_to_num(x, nan=0.0), -CLIP, CLIP).astype(np.float32)
        return torch.from_numpy(x), ends

    def _windows(self, x: Any, rows: Any) -> Any:
        """Batch of windows ending at ``rows``: shape (len(rows), window, features)."""
        w = self.config["window"]
        return x.unfold(0, w, 1)[rows - (w - 1)].transpose(1, 2).to(self.device)

    # ---- fitting ------------------------------------------------------------------------

    def _fit(
        self,
        features: pd.DataFrame,
        target: pd.Series,
        validation: tuple[pd.DataFrame, pd.Series],
        progress: ProgressFn | None,
    ) -> None:
        import torch

        if features.shape[1] != self.config["input_dim"]:
            raise ConfigError(
                f"input_dim is {self.config['input_dim']} but there are {features.shape[1]} "
                "features",
                key_path="model.input_dim",
            )
        y = target.to_numpy(dtype=np.float64)
        usable = np.isfinite(features.to_numpy(dtype=np.float64)).all(axis=1) & np.isfinite(y)
        if int(usable.sum()) < 50:
            raise DataError(f"transformer needs at least 50 rows to train, got {usable.sum()}")
        self.scaler = Scaler("z_score", self.feature_names).fit(features.loc[usable])
        self.target_scale = float(np.std(y[usable])) or 1.0
        train = self._tensors(features, y)
        val = self._tensors(*validation)
        with self._torch_env():
            self.model = _net_class()(self.config).to(self.device)
            optimizer = torch.optim.AdamW(
                self.model.parameters(),
                lr=self.config["learning_rate"],
                weight_decay=self.config["weight_decay"],
            )
            self.history = self._epochs(optimizer, train, val, progress)

    def _tensors(self, features: pd.DataFrame, target: Any) -> tuple[Any, Any, Any]:
        import torch

        y = np.asarray(target, dtype=np.float64)
        x, ends = self._matrix(features)
        rows = np.flatnonzero(ends & np.isfinite(y))
        if rows.size == 0:
            raise DataError(f"no complete {self.config['window']}-row window with a target")
        scaled = torch.from_numpy((y[rows] / self.target_scale).astype(np.float32))
        return x, torch.from_numpy(rows), scaled.to(self.device)

    def _epochs(
        self,
        optimizer: Any,
        train: tuple[Any, Any, Any],
        val: tuple[Any, Any, Any],
        progress: ProgressFn | None,
    ) -> list[dict[str, float]]:
        import torch

        best, best_state, stale, history = math.inf, None, 0, []
        generator = torch.Generator().manual_seed(self.config["seed"])
        epochs = self.config["epochs"]
        for epoch in range(1, epochs + 1):
            train_loss = self._train_epoch(optimizer, train, generator)
            val_loss = self._loss(val)
            history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
            if progress is not None:
                progress(epoch, epochs, {"train_loss": train_loss, "val_loss": val_loss})
            if val_loss < best:
                best, stale = val_loss, 0
                best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            else:
                stale += 1
                if stale >= self.config["patience"]:
                    break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        return history

    def _train_epoch(self, optimizer: Any, data: tuple[Any, Any, Any], generator: Any) -> float:
        import torch

        x, rows, y = data
        self.model.train()
        order = torch.randperm(len(rows), generator=generator)
        total = 0.0
        for start in range(0, len(rows), self.config["batch_size"]):
            batch = order[start : start + self.config["batch_size"]]
            optimizer.zero_grad(set_to_none=True)
            out = self.model(self._windows(x, rows[batch]))[:, 0]
            loss = torch.nn.functional.mse_loss(out, y[batch])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        return total / len(rows)

    def _loss(self, data: tuple[Any, Any, Any]) -> float:
        x, rows, y = data
        out = self._infer(x, rows)
        return float(((out - y) ** 2).mean())

    def _infer(self, x: Any, rows: Any) -> Any:
        """Model output (scaled units) for windows ending at ``rows``, in batches."""
        import torch

        self.model.eval()
        outs = []
        with torch.inference_mode():
            for start in range(0, len(rows), self.config["batch_size"]):
                batch = rows[start : start + self.config["batch_size"]]
                outs.append(self.model(self._windows(x, batch))[:, 0])
        return torch.cat(outs) if outs else torch.zeros(0, device=self.device)

    def _forecast(self, features: pd.DataFrame) -> FloatArray:
        import torch

        x, ends = self._matrix(features)
        out = np.full(len(features), np.nan)
        rows = np.flatnonzero(ends)
        if rows.size:
            with self._torch_env():
                pred = self._infer(x, torch.from_numpy(rows)).cpu().numpy().astype(np.float64)
            out[rows] = pred * self.target_scale
        return out

    # ---- persistence --------------------------------------------------------------------

    def _scaler_dict(self) -> dict[str, Any] | None:
        if self.scaler is None:
            return None
        return {"input": self.scaler.to_dict(), "target_scale": self.target_scale}

    def _serialize(self) -> dict[str, bytes]:
        buffer = io.BytesIO()
        import torch

        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        torch.save(state, buffer)
        return {MODEL_FILE: buffer.getvalue()}

    def _restore(self, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
        import torch

        scaler = manifest.get("scaler")
        if not isinstance(scaler, dict) or "input" not in scaler:
            raise ModelError("transformer manifest lacks its input scaler")
        self.scaler = Scaler.from_dict(scaler["input"])
        self.target_scale = float(scaler.get("target_scale", 1.0))
        if MODEL_FILE not in files:
            raise ModelError(f"transformer model folder lacks {MODEL_FILE}")
        try:
            state = torch.load(io.BytesIO(files[MODEL_FILE]), map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types (UnpicklingError, RuntimeError)
            raise ModelError(f"{MODEL_FILE} is not a loadable state dict: {exc}") from None
        if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
            raise ModelError(f"{MODEL_FILE} does not hold a state dict of tensors")
        try:
            self.model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelError(f"{MODEL_FILE} does not match the configured network: {exc}") from None
        self.model.to(self.device)
