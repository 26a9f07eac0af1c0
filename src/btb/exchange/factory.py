"""create_exchange (seed 000): the one place an exchange adapter is chosen from config.

========================  ===============================================================
name                      adapter
========================  ===============================================================
``bybit``                 :class:`~btb.exchange.bybit.BybitExchange` (ccxt; ``testnet``:
                          Bybit demo trading)
``binance``               :class:`~btb.exchange.binance.BinanceExchange` (ccxt binanceusdm,
                          USDⓈ-M futures; ``testnet``: Binance demo trading)
``bybit_direct``          :class:`~btb.exchange.direct.BybitDirectExchange` (btb's own V5
                          client, no ccxt)
``sim``                   the direct Bybit client pointed at ``btb sim`` (``base_url``,
                          default http://127.0.0.1:8765). Chosen over ccxt because paper
                          trading then starts without importing ccxt and exercises the same
                          client as ``bybit_direct``; ``client: ccxt`` selects ccxt's bybit.
========================  ===============================================================

Adapters are imported only when chosen, so ``import btb`` never loads ccxt.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from btb.errors import ConfigError
from btb.exchange.base import BaseExchange
from btb.exchange.retry import RetryPolicy

DEFAULT_SIM_URL = "http://127.0.0.1:8765"
#: Credentials ``btb sim`` accepts when none are configured (paper money only).
SIM_API_KEY = "btb-sim-key"
SIM_API_SECRET = "btb-sim-secret"

EXCHANGES: dict[str, str] = {
    "bybit": "btb.exchange.bybit:BybitExchange",
    "binance": "btb.exchange.binance:BinanceExchange",
    "bybit_direct": "btb.exchange.direct:BybitDirectExchange",
}


def _load(target: str) -> type[BaseExchange]:
    module_name, attr = target.split(":")
    cls = getattr(importlib.import_module(module_name), attr)
    assert isinstance(cls, type) and issubclass(cls, BaseExchange)
    return cls


def create_exchange(name: str, config: Mapping[str, Any] | None = None) -> BaseExchange:
    """The adapter for ``name`` configured by ``config`` (the ``exchange`` config section).

    ``config`` is the typed :class:`~btb.utils.config_models.ExchangeConfig` of a loaded
    config (``create_exchange(cfg.exchange.name, cfg.exchange)``) or a plain mapping with the
    same keys (its ``retry`` may also be a :class:`~btb.exchange.retry.RetryPolicy`).
    Raises ConfigError naming ``exchange.name`` for an unknown venue.
    """
    settings = exchange_settings(config or {})
    key = str(name).strip().lower()
    client = str(settings.pop("client", None) or "direct")
    if client not in ("direct", "ccxt"):
        raise ConfigError(f"must be 'direct' or 'ccxt', got {client!r}", key_path="exchange.client")
    if key == "sim":
        settings["base_url"] = settings.get("base_url") or DEFAULT_SIM_URL
        settings["api_key"] = settings.get("api_key") or SIM_API_KEY
        settings["api_secret"] = settings.get("api_secret") or SIM_API_SECRET
        return _load(EXCHANGES["bybit" if client == "ccxt" else "bybit_direct"])(settings)
    if key not in EXCHANGES:
        known = ", ".join(sorted([*EXCHANGES, "sim"]))
        raise ConfigError(f"unknown exchange {name!r} (known: {known})", key_path="exchange.name")
    return _load(EXCHANGES[key])(settings)


def exchange_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` as the flat dict the adapters read: None values dropped (so defaults
    apply), ``retry`` as a RetryPolicy; secrets stay wrapped (SecretStr) until a client is
    built."""
    settings = {k: v for k, v in config.items() if v is not None}
    retry = settings.get("retry")
    if isinstance(retry, Mapping):
        try:
            settings["retry"] = RetryPolicy(**retry)
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc), key_path="exchange.retry") from None
    elif retry is not None and not isinstance(retry, RetryPolicy):
        raise ConfigError(f"must be a mapping, got {retry!r}", key_path="exchange.retry")
    return settings


__all__ = [
    "DEFAULT_SIM_URL",
    "EXCHANGES",
    "SIM_API_KEY",
    "SIM_API_SECRET",
    "create_exchange",
    "exchange_settings",
]
