"""Load, merge and validate btb's configuration (seed 000's ``btb.utils.config``).

One YAML file plus environment variables becomes one frozen :class:`BTBConfig`
(see :mod:`btb.utils.config_models` for the sections and their limits)::

    config = load_config("configs/paper.yaml")
    config["exchange"]["name"]  # or config.exchange.name

Environment variables (seed 002's names) override the file; each may also be given with a
``BTB_`` prefix, which wins over the bare name (bare names such as ``SYMBOL`` are generic
and may be set for other tools). Values come from the real environment, then a ``.env``
next to the config file, then a ``.env`` in the working directory (the first that has a
name wins; the files never change ``os.environ``); the prefix rule is applied after that,
so ``BTB_LEVERAGE`` in a ``.env`` beats a bare ``LEVERAGE`` in the shell. Empty values
count as unset. See :data:`ENV_VARS` for the table.

Secrets (API keys, database passwords) come only from the environment, ``.env`` or the
encrypted credential store: a secret written in the YAML file is a :class:`ConfigError`.
Every error is a :class:`btb.errors.ConfigError` naming the key path and never the secret.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from dotenv import dotenv_values
from pydantic import ValidationError

from btb.errors import ConfigError
from btb.utils.config_models import (
    REQUIRED_SECTIONS,
    BTBConfig,
    CrossFieldError,
    Section,
)
from btb.utils.config_validator import CheckResult, ConfigValidator, ValidationReport
from btb.utils.logging import register_secret, url_password

_SECRET_KEY = re.compile(
    r"^(api[_-]?key|api[_-]?secret|apikey|secret|secret[_-]?key|password|passphrase|"
    r"token|access[_-]?token|private[_-]?key)$",
    re.IGNORECASE,
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _as_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError("expected true or false")


def _as_int(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError("expected a whole number") from None


def _as_float(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError("expected a number") from None


def _as_symbols(raw: str) -> list[str]:
    return [s.strip().upper() for s in raw.split(",") if s.strip()]


def _as_sqlite_url(raw: str) -> str:
    return f"sqlite+aiosqlite:///{raw.strip()}"


def _as_str(raw: str) -> str:
    return raw.strip()


def _as_level(raw: str) -> str:
    return raw.strip().upper()


#: (variable name without BTB_, key path, converter, bare name accepted). Later rows win
#: over earlier rows for the same key (DATABASE_URL over DB_FILE).
ENV_VARS: tuple[tuple[str, str, Callable[[str], Any], bool], ...] = (
    ("API_KEY", "exchange.api_key", _as_str, True),
    ("API_SECRET", "exchange.api_secret", _as_str, True),
    ("TESTNET", "exchange.testnet", _as_bool, True),
    ("SYMBOL", "trading.symbols", _as_symbols, True),
    ("LEVERAGE", "trading.leverage", _as_int, True),
    ("RISK_PER_TRADE", "risk.risk_per_trade", _as_float, True),
    ("STOPLOSS_PCT", "risk.stop_loss_pct", _as_float, True),
    ("TAKE_PROFIT_PCT", "risk.take_profit_pct", _as_float, True),
    ("DAILY_MAX_LOSS_PCT", "risk.daily_max_loss_pct", _as_float, True),
    ("DB_FILE", "database.url", _as_sqlite_url, True),
    ("DATABASE_URL", "database.url", _as_str, True),
    ("LOG_LEVEL", "logging.level", _as_level, True),
    ("DATA_DIR", "data.data_dir", _as_str, False),  # too generic without the prefix
)
_SECRET_PATHS = frozenset({"exchange.api_key", "exchange.api_secret", "database.url"})


def _environment(config_path: Path | None, env: Mapping[str, str] | None) -> dict[str, str]:
    """The real environment over ``.env`` next to the config over ``.env`` in the CWD."""
    merged: dict[str, str] = {}
    candidates = [Path.cwd() / ".env"]
    if config_path is not None:
        candidates.insert(0, config_path.resolve().parent / ".env")
    for dotenv in reversed(dict.fromkeys(c.resolve() for c in candidates)):
        if dotenv.is_file():
            merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    merged.update(os.environ if env is None else env)
    return merged


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Key path -> converted value, and key path -> the variable it came from."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, path, convert, bare_ok in ENV_VARS:
        names = [f"BTB_{name}", name] if bare_ok else [f"BTB_{name}"]
        chosen = next((n for n in names if environ.get(n, "").strip()), None)
        if chosen is None:
            continue
        try:
            values[path] = convert(environ[chosen])
        except ValueError as exc:
            shown = "" if path in _SECRET_PATHS else f", got {environ[chosen]!r}"
            raise ConfigError(
                f"environment variable {chosen}: {exc}{shown}", key_path=path
            ) from None
        sources[path] = chosen
    return values, sources


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            return  # leave the wrong type for validation to report
        node = child
    node[leaf] = value


def _reject_file_secrets(node: Any, prefix: str = "") -> None:
    """Raise if the file holds a secret: a non-empty secret-named key or a URL password."""
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _reject_file_secrets(value, f"{path}.")
        elif _SECRET_KEY.match(str(key)) and value not in (None, ""):
            hint = {"exchange.api_key": "BTB_API_KEY", "exchange.api_secret": "BTB_API_SECRET"}
            var = hint.get(path, "an environment variable")
            raise ConfigError(
                f"secrets must not be written in the config file; remove it and set {var} "
                "(in the environment or .env)",
                key_path=path,
            )
        elif path == "database.url" and isinstance(value, str) and url_password(value):
            raise ConfigError(
                "a database password must not be written in the config file; "
                "set BTB_DATABASE_URL in the environment or .env instead",
                key_path=path,
            )


def _read_yaml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a config file")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        reason = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ConfigError(f"{where}: malformed YAML: {reason}") from None
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {' '.join(str(exc).split())}") from None
    if data is None:
        raise ConfigError(f"{path}: config file is empty")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: config must be a mapping of sections, not a {type(data).__name__}"
        )
    return data


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


_FRIENDLY = {
    "symbols": "must be an exchange symbol in capitals without separator, like BTCUSDT",
    "strategy": "must be a strategy name like ema_cross (lowercase letters, digits, _)",
}


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    """(key path, reason) for one pydantic error, without echoing secret values."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, CrossFieldError):
        return _loc_to_path((*loc, *cause.field.split("."))), str(cause)
    path = _loc_to_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        return path, "unknown key"
    if kind == "missing":
        return path, "missing required section" if len(loc) == 1 else "missing required key"
    reason = str(error["msg"]).removeprefix("Value error, ")
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "string_pattern_mismatch" and field in _FRIENDLY:
        reason = _FRIENDLY[field]
    top = path.split("[")[0]
    if top not in _SECRET_PATHS and not _SECRET_KEY.match(top.rsplit(".", 1)[-1]):
        shown = repr(error.get("input"))
        reason += f" (got {shown[:60] + '...' if len(shown) > 60 else shown})"
    return path, reason


def _config_error(exc: ValidationError, sources: Mapping[str, str]) -> ConfigError:
    errors = exc.errors(include_url=False)
    # pydantic adds "too short" for a list whose only item failed; the item error says more.
    deeper = {tuple(e["loc"][:-1]) for e in errors if len(e["loc"]) > 1}
    errors = [e for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in deeper)]
    described = [_describe(e) for e in errors]
    path, reason = described[0]
    if path in sources:
        reason += f" (from environment variable {sources[path]})"
    if len(described) > 1:
        others = ", ".join(p for p, _ in described[1:4])
        reason += f"; {len(described) - 1} more error(s) at {others}"
    return ConfigError(reason, key_path=path)


def parse_config(data: Mapping[str, Any], *, sources: Mapping[str, str] | None = None) -> BTBConfig:
    """Validate an already-merged mapping into a :class:`BTBConfig` (no env, no file checks).

    ``sources`` maps key paths to the environment variable that supplied them, for messages.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"config must be a mapping of sections, not a {type(data).__name__}")
    for section in REQUIRED_SECTIONS:
        if section not in data:
            raise ConfigError("missing required section", key_path=section)
    try:
        return BTBConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise _config_error(exc, sources or {}) from None


def load_config(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> BTBConfig:
    """Load a YAML config file, merge environment variables, validate, return a frozen config.

    ``env`` replaces ``os.environ`` (for tests); ``.env`` files are read either way.
    Registers the loaded API key and secret with the log redaction.
    Raises :class:`ConfigError` naming the file/line or key path of the first problem.
    """
    config_path = Path(path)
    data = _read_yaml(config_path)
    _reject_file_secrets(data)
    for section in REQUIRED_SECTIONS:
        if section not in data:
            raise ConfigError(f"missing required section (in {config_path})", key_path=section)
    overrides, sources = _env_overrides(_environment(config_path, env))
    merged = copy.deepcopy(data)
    for key_path, value in overrides.items():
        _set_path(merged, key_path, value)
    config = parse_config(merged, sources=sources)
    for secret in (config.exchange.api_key, config.exchange.api_secret):
        if secret is not None:
            register_secret(secret.get_secret_value())
    if config.database.url:
        register_secret(url_password(config.database.url))
    return config


def override_config(config: BTBConfig, overrides: Mapping[str, Any]) -> BTBConfig:
    """A copy of ``config`` with dotted-key overrides applied and validated again.

    Example: ``override_config(cfg, {"data.data_dir": "demo_out/data"})``.
    """
    data = config.to_dict(redact=False)
    for key_path, value in overrides.items():
        _set_path(data, key_path, value)
    return parse_config(data)


def _jsonable(value: Any) -> Any:
    """YAML/Python values as JSON data: dates and paths become strings, tuples lists."""
    if isinstance(value, Section):
        return value.to_dict()  # secrets as "***": still strings, so the schema accepts them
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _schema_error_path(error: jsonschema.ValidationError) -> tuple[str, str]:
    loc = tuple(error.absolute_path)
    instance, rule = error.instance, error.validator
    if rule == "additionalProperties" and isinstance(instance, Mapping):
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in instance if k not in known)
        return _loc_to_path((*loc, extra[0])), "unknown key"
    if rule == "required" and isinstance(instance, Mapping):
        missing = [str(k) for k in error.validator_value if k not in instance]
        kind = "missing required section" if not loc else "missing required key"
        return _loc_to_path((*loc, missing[0])), kind
    path = _loc_to_path(loc)
    leaf = path.rsplit(".", 1)[-1]
    if path in _SECRET_PATHS or _SECRET_KEY.match(leaf):
        return path, f"invalid value (fails schema rule {rule!r})"
    return path, " ".join(error.message.split())[:200]


def validate_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    """Validate ``config`` against a JSON Schema (Draft 2020-12, formats checked).

    Returns True, or raises :class:`ConfigError` naming the key path of the first problem
    (the seed's ``ValidationError``). Accepts plain mappings or a :class:`BTBConfig`.
    """
    instance = _jsonable(config)
    validator = jsonschema.Draft202012Validator(
        dict(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        path, reason = _schema_error_path(errors[0])
        raise ConfigError(reason, key_path=path or None)
    return True


def _build_schema() -> dict[str, Any]:
    schema = BTBConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "btb trading configuration"
    return schema


TRADING_CONFIG_SCHEMA: dict[str, Any] = _build_schema()
"""JSON Schema of a config file, generated from :class:`BTBConfig` so the two cannot drift."""

__all__ = [
    "ENV_VARS",
    "TRADING_CONFIG_SCHEMA",
    "BTBConfig",
    "CheckResult",
    "ConfigError",
    "ConfigValidator",
    "ValidationReport",
    "load_config",
    "override_config",
    "parse_config",
    "validate_config",
]
