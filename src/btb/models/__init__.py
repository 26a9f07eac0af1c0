"""Machine-learning models: the contract, the registry, and loading saved models.

Importing this package is light: LightGBM and torch are imported only when a model of that
kind is created or loaded. Models: ``gbm`` (:class:`btb.models.gbm.PricePredictor`) and
``transformer`` (:class:`btb.models.transformer.TransformerModel`); evaluation:
:mod:`btb.models.evaluation`; files: :mod:`btb.models.artifacts`; retraining:
:mod:`btb.models.retrain`.
"""

from btb.models.base import BaseModel, SignalModel, forward_returns
from btb.models.registry import (
    MODEL_REGISTRY,
    available_models,
    create_model,
    get_model_class,
    load_model,
    load_predictor,
    register_model,
)

__all__ = [
    "MODEL_REGISTRY",
    "BaseModel",
    "SignalModel",
    "available_models",
    "create_model",
    "forward_returns",
    "get_model_class",
    "load_model",
    "load_predictor",
    "register_model",
]
