"""Model registry: names -> model classes, imported only when asked for.

Built-ins are registered as ``"module:Class"`` strings so that importing :mod:`btb.models`
loads neither LightGBM nor torch. Users add their own :class:`~btb.models.base.BaseModel`
subclasses with :func:`register_model` (a class or a ``"module:Class"`` string) and then use the
name anywhere a model type is asked for (``btb train --model NAME``, :func:`create_model`).

:func:`load_predictor` opens a saved model folder: it reads the manifest, picks the class
registered under the manifest's ``model_type`` (never a class path written in the file, so a
model folder cannot make btb import arbitrary code), and runs that class's checked ``load``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from btb.errors import ConfigError, ModelError
from btb.models.artifacts import read_manifest, resolve_model_dir
from btb.models.base import BaseModel, SignalModel

#: name -> model class or "module:Class" (resolved on first use).
MODEL_REGISTRY: dict[str, type[BaseModel] | str] = {
    "gbm": "btb.models.gbm:PricePredictor",
    "transformer": "btb.models.transformer:TransformerModel",
}


def register_model(name: str, model: type[BaseModel] | str) -> None:
    """Register ``model`` (a BaseModel subclass or ``"module:Class"``) under ``name``."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(
            f"model names are letters, digits, '-' and '_', got {name!r}", key_path="model"
        )
    if isinstance(model, str):
        if model.count(":") != 1:
            raise ConfigError(f"expected 'module:Class', got {model!r}", key_path=f"models.{name}")
    elif not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(f"{model!r} is not a BaseModel subclass", key_path=f"models.{name}")
    MODEL_REGISTRY[name] = model


def available_models() -> list[str]:
    """Registered model names."""
    return sorted(MODEL_REGISTRY)


def get_model_class(name: str) -> type[BaseModel]:
    """The class registered under ``name`` (imported now if registered as a string)."""
    target = MODEL_REGISTRY.get(name)
    if target is None:
        raise ConfigError(
            f"unknown model {name!r} (registered: {', '.join(available_models())})",
            key_path="model",
        )
    if isinstance(target, str):
        module_name, attr = target.split(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"cannot import model {name!r} from {target}: {exc}", key_path="model"
            ) from None
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            raise ConfigError(f"{target} is not a BaseModel subclass", key_path="model")
        MODEL_REGISTRY[name] = cls
        return cls
    return target


def create_model(name: str, config: dict[str, Any] | None = None) -> BaseModel:
    """A new, untrained model of type ``name`` with ``config``."""
    return get_model_class(name)(config or {})


def _manifest_class(path: Path) -> type[BaseModel]:
    """The registered class for the model type a manifest names."""
    model_type = read_manifest(path)["model_type"]
    if not isinstance(model_type, str) or model_type not in MODEL_REGISTRY:
        raise ModelError(
            f"{path}: model type {model_type!r} is not registered here "
            f"(registered: {', '.join(available_models())}); register_model() it first"
        )
    return get_model_class(model_type)


def load_model(path: str | os.PathLike[str]) -> BaseModel:
    """Load any registered model type from its folder (the manifest says which).

    ``path`` may also be a versions folder written by :mod:`btb.models.retrain`: its
    ``CURRENT`` version is loaded.
    """
    folder = resolve_model_dir(path)
    return _manifest_class(folder).load(str(folder))


def load_predictor(path: str | os.PathLike[str]) -> SignalModel:
    """Load a model that yields (prediction, confidence): what strategies call.

    The result has ``predict_signal(df) -> (prediction, confidence)`` for the last candle,
    ``predict(df)`` (the same two numbers as an ndarray, unpackable) and
    ``predict_frame(df)`` (both columns for every row, causal). ModelError if the folder is
    missing, tampered with, built for other features, or not a forecasting model.
    """
    folder = resolve_model_dir(path)
    cls = _manifest_class(folder)
    if not issubclass(cls, SignalModel):
        raise ModelError(
            f"{folder}: a {cls.__name__} gives no (prediction, confidence); strategies "
            "need a SignalModel such as gbm or transformer"
        )
    return cls.load(folder)
