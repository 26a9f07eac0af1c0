"""The numbers a :class:`~btb.risk.manager.RiskManager` enforces, read from any config shape.

:func:`resolve_limits` accepts what callers have at hand:

* the whole validated config (:class:`btb.utils.config_models.BTBConfig`, or anything with
  ``risk`` and optionally ``trading`` sections, including a nested plain dict);
* only its risk section (:class:`~btb.utils.config_models.RiskConfig` or a flat dict of its keys,
  optionally with ``max_open_positions`` and ``leverage`` beside them);
* an object with seed 002's upper-case attributes (``RISK_PER_TRADE``, ``STOPLOSS_PCT``,
  ``TAKE_PROFIT_PCT``, ``DAILY_MAX_LOSS_PCT``, ``MAX_OPEN_POSITIONS``, ``MIN_BALANCE_THRESHOLD``,
  ``LEVERAGE``);
* ``None`` (all defaults).

Values are validated with the same pydantic model as the YAML config, so the ranges agree
(``risk_per_trade`` at most 5 %, …); anything wrong raises ConfigError naming the key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from btb.errors import ConfigError
from btb.utils.config_models import RiskConfig, TradingConfig

__all__ = ["RiskLimits", "resolve_limits"]

# Bounds of the trading section's fields (btb.utils.config_models.TradingConfig).
_TRADING_BOUNDS = {"max_open_positions": (1, 1000), "leverage": (1, 125)}
_TRADING_DEFAULTS = {key: TradingConfig.model_fields[key].default for key in _TRADING_BOUNDS}
_SEED_ATTRS = {
    "RISK_PER_TRADE": "risk_per_trade",
    "STOPLOSS_PCT": "stop_loss_pct",
    "TAKE_PROFIT_PCT": "take_profit_pct",
    "DAILY_MAX_LOSS_PCT": "daily_max_loss_pct",
    "MIN_BALANCE_THRESHOLD": "min_balance_threshold",
    "MAX_OPEN_POSITIONS": "max_open_positions",
    "LEVERAGE": "leverage",
}


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Risk settings as plain numbers (fractions: 0.01 = 1 %).

    No defaults here on purpose: :func:`resolve_limits` fills them from the config models
    (:class:`RiskConfig`, :class:`TradingConfig`), the one place btb's defaults live.
    """

    risk_per_trade: float
    stop_loss_pct: float
    take_profit_pct: float
    daily_max_loss_pct: float
    max_exposure: float
    min_risk_reward: float
    min_balance_threshold: float
    min_signal_strength: float
    min_ml_confidence: float
    max_open_positions: int
    leverage: int


def _risk_section(values: Mapping[str, Any], where: str) -> dict[str, float]:
    try:
        section = RiskConfig.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(err["msg"], key_path=f"{where}.{key}" if key else where) from None
    return {name: float(getattr(section, name)) for name in RiskConfig.model_fields}


def _trading_values(values: Mapping[str, Any], where: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, (low, high) in _TRADING_BOUNDS.items():
        if key not in values or values[key] is None:
            continue
        value = values[key]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"must be an integer in [{low}, {high}], got {values[key]!r}",
                key_path=f"{where}.{key}",
            )
        out[key] = value
    return out


def _as_mapping(section: Any, where: str) -> Mapping[str, Any]:
    if section is None:
        return {}
    if isinstance(section, Mapping):
        return section
    raise ConfigError(f"must be a mapping, got {type(section).__name__}", key_path=where)


def _from_seed_object(config: Any) -> dict[str, Any]:
    return {
        key: getattr(config, attr) for attr, key in _SEED_ATTRS.items() if hasattr(config, attr)
    }


def resolve_limits(config: Any = None) -> RiskLimits:
    """Build :class:`RiskLimits` from a whole config, a risk section, a dict or a seed object."""
    if isinstance(config, RiskLimits):
        return config
    if config is None:
        config = {}
    if isinstance(config, Mapping) and "risk" in config:
        risk = _as_mapping(config["risk"], "risk")
        trading = _as_mapping(config.get("trading"), "trading")
        risk_where, trading_where = "risk", "trading"
    elif isinstance(config, Mapping):
        flat = dict(config)
        trading = {k: flat.pop(k) for k in list(flat) if k in _TRADING_BOUNDS}
        risk, risk_where, trading_where = flat, "risk", "risk"
    else:
        seed = _from_seed_object(config)
        if not seed:
            raise ConfigError(
                f"cannot read risk settings from {type(config).__name__}: expected the config, "
                "its risk section, a dict or an object with RISK_PER_TRADE/STOPLOSS_PCT/...",
                key_path="risk",
            )
        trading = {k: seed.pop(k) for k in list(seed) if k in _TRADING_BOUNDS}
        risk, risk_where, trading_where = seed, "risk", "risk"
    values: dict[str, Any] = {**_risk_section(risk, risk_where)}
    values.update(_TRADING_DEFAULTS)
    values.update(_trading_values(trading, trading_where))
    return RiskLimits(**values)
