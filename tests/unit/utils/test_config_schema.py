"""validate_config and TRADING_CONFIG_SCHEMA: the JSON Schema and the typed models agree."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from btb.errors import ConfigError
from btb.utils.config import TRADING_CONFIG_SCHEMA, parse_config, validate_config
from btb.utils.config_models import TIMEFRAMES, BTBConfig

REPO = Path(__file__).resolve().parents[3]

# Seed 000's schema, copied from the seed: ours must keep its required lists.
SEED_REQUIRED = {
    (): ["exchange", "trading", "risk", "data"],
    ("exchange",): ["name", "testnet"],
    ("trading",): ["symbols", "timeframes", "strategy"],
}


def _minimal() -> dict[str, Any]:
    return {
        "exchange": {"name": "sim", "testnet": True},
        "trading": {"symbols": ["BTCUSDT"], "timeframes": ["1h"], "strategy": "ema_cross"},
        "risk": {},
        "data": {},
    }


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    if value is _DELETE:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return data


_DELETE = object()

# (case, dotted key, value, expected valid?, expected key path when invalid)
# Expectations come from the field table in the brief/DESIGN, not from running the code.
TABLE: list[tuple[str, str, Any, bool, str | None]] = [
    ("minimal", "risk.risk_per_trade", 0.01, True, None),
    ("risk at the 5 % cap", "risk.risk_per_trade", 0.05, True, None),
    ("risk above the cap", "risk.risk_per_trade", 0.0501, False, "risk.risk_per_trade"),
    ("risk zero", "risk.risk_per_trade", 0, False, "risk.risk_per_trade"),
    ("risk as text", "risk.risk_per_trade", "0.01", False, "risk.risk_per_trade"),
    ("risk as bool", "risk.risk_per_trade", True, False, "risk.risk_per_trade"),
    ("unknown risk key", "risk.risk_per_trad", 0.01, False, "risk.risk_per_trad"),
    ("unknown section", "strategy", "x", False, "strategy"),
    ("unknown exchange key", "exchange.apikey2", "x", False, "exchange.apikey2"),
    ("missing risk section", "risk", _DELETE, False, "risk"),
    ("missing data section", "data", _DELETE, False, "data"),
    ("missing testnet", "exchange.testnet", _DELETE, False, "exchange.testnet"),
    ("missing exchange name", "exchange.name", _DELETE, False, "exchange.name"),
    ("missing symbols", "trading.symbols", _DELETE, False, "trading.symbols"),
    ("missing timeframes", "trading.timeframes", _DELETE, False, "trading.timeframes"),
    ("missing strategy", "trading.strategy", _DELETE, False, "trading.strategy"),
    ("leverage 125", "trading.leverage", 125, True, None),
    ("leverage 5.0", "trading.leverage", 5.0, True, None),
    ("leverage 2.5", "trading.leverage", 2.5, False, "trading.leverage"),
    ("leverage 0", "trading.leverage", 0, False, "trading.leverage"),
    ("leverage 126", "trading.leverage", 126, False, "trading.leverage"),
    ("all timeframes", "trading.timeframes", list(TIMEFRAMES), True, None),
    ("timeframe 2m", "trading.timeframes", ["2m"], False, "trading.timeframes[0]"),
    ("no timeframes", "trading.timeframes", [], False, "trading.timeframes"),
    ("timeframes as string", "trading.timeframes", "1h", False, "trading.timeframes"),
    ("two symbols", "trading.symbols", ["BTCUSDT", "1000PEPEUSDT"], True, None),
    ("symbol with slash", "trading.symbols", ["BTC/USDT"], False, "trading.symbols[0]"),
    ("duplicate symbols", "trading.symbols", ["ETHUSDT", "ETHUSDT"], False, "trading.symbols"),
    ("position size null", "trading.position_size", None, True, None),
    ("position size text", "trading.position_size", "big", False, "trading.position_size"),
    ("mode live on bybit", "exchange.name", "bybit", True, None),
    ("mode bogus", "trading.mode", "real", False, "trading.mode"),
    ("testnet as string", "exchange.testnet", "true", False, "exchange.testnet"),
    ("base url", "exchange.base_url", "http://127.0.0.1:8765", True, None),
    ("base url no scheme", "exchange.base_url", "127.0.0.1:8765", False, "exchange.base_url"),
    ("ws url", "exchange.ws_url", "ws://127.0.0.1:8765/v5/public/linear", True, None),
    ("ws url over http", "exchange.ws_url", "http://127.0.0.1:8765", False, "exchange.ws_url"),
    ("poll interval", "exchange.poll_interval_s", 2.5, True, None),
    ("poll interval zero", "exchange.poll_interval_s", 0, False, "exchange.poll_interval_s"),
    ("poll interval text", "exchange.poll_interval_s", "5", False, "exchange.poll_interval_s"),
    ("poll interval 2 h", "exchange.poll_interval_s", 7200, False, "exchange.poll_interval_s"),
    ("retry attempts", "exchange.retry.attempts", 6, True, None),
    ("retry attempts 0", "exchange.retry.attempts", 0, False, "exchange.retry.attempts"),
    ("retry attempts 2.5", "exchange.retry.attempts", 2.5, False, "exchange.retry.attempts"),
    ("retry delay negative", "exchange.retry.base_delay", -1, False, "exchange.retry.base_delay"),
    ("retry wait 10 min", "exchange.retry.max_rate_limit_wait", 600, True, None),
    ("retry unknown key", "exchange.retry.tries", 3, False, "exchange.retry.tries"),
    ("retry as number", "exchange.retry", 3, False, "exchange.retry"),
    ("client ccxt", "exchange.client", "ccxt", True, None),
    ("client pybit", "exchange.client", "pybit", False, "exchange.client"),
    ("maker rebate", "backtest.maker_fee", -0.0002, True, None),
    ("taker fee 2 %", "backtest.taker_fee", 0.02, False, "backtest.taker_fee"),
    ("sizing bogus", "backtest.sizing", "martingale", False, "backtest.sizing"),
    ("start date string", "data.start_date", "2024-01-31", True, None),
    ("start date object", "data.start_date", dt.date(2024, 1, 31), True, None),
    ("start date invalid", "data.start_date", "2024-02-30", False, "data.start_date"),
    ("start date number", "data.start_date", 20240131, False, "data.start_date"),
    ("data dir number", "data.data_dir", 5, False, "data.data_dir"),
    ("log level lower", "logging.level", "info", False, "logging.level"),
    ("strategy params list", "strategy_params", [1], False, "strategy_params"),
    ("strategy params nested", "strategy_params", {"a": {"b": [1, "x"]}}, True, None),
    ("database url", "database.url", "postgresql+asyncpg://postgres@127.0.0.1/btb", True, None),
    ("model path", "model.path", "models/gbm.json", True, None),
    ("exposure 10x", "risk.max_exposure", 10, True, None),
    ("exposure 11x", "risk.max_exposure", 11, False, "risk.max_exposure"),
    ("confidence 1.2", "risk.min_ml_confidence", 1.2, False, "risk.min_ml_confidence"),
]


def _outcome_model(data: dict[str, Any]) -> tuple[bool, str | None]:
    try:
        parse_config(data)
    except ConfigError as exc:
        return False, exc.key_path
    return True, None


def _outcome_schema(data: dict[str, Any]) -> tuple[bool, str | None]:
    try:
        validate_config(data, TRADING_CONFIG_SCHEMA)
    except ConfigError as exc:
        return False, exc.key_path
    return True, None


@pytest.mark.parametrize(("key", "value", "valid", "path"), [t[1:] for t in TABLE],
                         ids=[t[0] for t in TABLE])  # fmt: skip
def test_model_and_schema_agree_on_table(
    key: str, value: Any, valid: bool, path: str | None
) -> None:
    base = _minimal()
    if key == "exchange.name":
        base["trading"]["mode"] = "live"  # a real exchange may trade live
    data = _set(base, key, value)
    assert _outcome_model(data) == (valid, path)
    assert _outcome_schema(data) == (valid, path)


def test_schema_keeps_the_seed_required_lists() -> None:
    defs = TRADING_CONFIG_SCHEMA["$defs"]
    assert set(SEED_REQUIRED[()]) <= set(TRADING_CONFIG_SCHEMA["required"])
    assert set(SEED_REQUIRED[("exchange",)]) <= set(defs["ExchangeConfig"]["required"])
    assert set(SEED_REQUIRED[("trading",)]) <= set(defs["TradingConfig"]["required"])
    assert TRADING_CONFIG_SCHEMA["additionalProperties"] is False
    for name, section in defs.items():
        assert section["additionalProperties"] is False, name
    assert TRADING_CONFIG_SCHEMA["$schema"].endswith("2020-12/schema")


def test_secrets_are_write_only_in_schema() -> None:
    props = TRADING_CONFIG_SCHEMA["$defs"]["ExchangeConfig"]["properties"]
    formats = [s.get("format") for s in props["api_key"]["anyOf"]]
    assert "password" in formats


def test_validate_config_with_custom_schema() -> None:
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
    assert validate_config({"a": 1}, schema) is True
    with pytest.raises(ConfigError, match=r"^a: missing required section"):
        validate_config({}, schema)
    with pytest.raises(ConfigError, match=r"^a: 'x' is not of type 'integer'"):
        validate_config({"a": "x"}, schema)


def test_validate_config_accepts_loaded_config_and_shipped_yaml() -> None:
    for name in ("demo.yaml", "paper.yaml", "live.example.yaml"):
        raw = yaml.safe_load((REPO / "configs" / name).read_text())
        assert validate_config(raw, TRADING_CONFIG_SCHEMA) is True
        assert validate_config(parse_config(raw), TRADING_CONFIG_SCHEMA) is True


# --- property test: random single-field edits are judged the same by both --------------------

_FIELD_PATHS = [
    f"{section}.{field}"
    for section, info in BTBConfig.model_fields.items()
    if section != "strategy_params"
    for field in info.annotation.model_fields  # type: ignore[union-attr]
]
_VALUES = st.sampled_from(
    [-1, 0, 1, 2, 5.0, 0.5, 0.03, 126, 1e9, 2.5, True, False, None, "", "x", "1h", "2m",
     "BTCUSDT", "sim", "bybit", "INFO", "2024-01-01", "2024-1-1", "http://127.0.0.1:1",
     [], ["1h"], ["BTCUSDT", "ETHUSDT"], ["1h", "1h"], {}, {"a": 1}]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_FIELD_PATHS), _VALUES), min_size=1, max_size=3))
def test_model_and_schema_agree_on_random_edits(edits: list[tuple[str, Any]]) -> None:
    data = _minimal()
    data["exchange"]["name"] = "bybit"  # so mode: live is not a cross-field error
    for path, value in edits:
        data = _set(data, path, value)
    if data["data"].get("start_date") and data["data"].get("end_date"):
        data["data"].pop("end_date")  # ordering of dates is a model-only (cross-field) rule
    if data.get("backtest", {}).get("sizing") == "fixed_notional":
        data["backtest"]["sizing"] = "risk_per_trade"  # likewise model-only
    if data["exchange"].get("name") == "sim":
        data["trading"]["mode"] = "paper"  # likewise model-only
    model_ok, _ = _outcome_model(data)
    schema_ok, _ = _outcome_schema(data)
    assert model_ok == schema_ok, data
