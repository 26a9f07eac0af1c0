"""Typed, frozen configuration objects of btb (one pydantic model per YAML section).

Every section is a frozen pydantic model with ``extra="forbid"`` (an unknown key is an
error) and ``strict=True`` (a YAML string is never silently turned into a number or a
boolean, so the models accept exactly what the JSON Schema generated from them accepts,
see :data:`btb.utils.config.TRADING_CONFIG_SCHEMA`). Sections are also read-only
mappings, so code written for the seed's plain dictionaries keeps working::

    config["exchange"]["name"]      # same as config.exchange.name
    "backtest" in config            # True: every section always exists
    config.risk.get("risk_per_trade")

Choices worth knowing:

* ``exchange.name`` and ``exchange.testnet`` have no default: the seed's schema requires
  them, and which venue to use and whether real money is at stake must be written down
  (or given by ``TESTNET``/``BTB_TESTNET``), never guessed.
* List values (``trading.symbols``, ``trading.timeframes``) are stored as tuples so a
  shared config cannot be mutated in place; accept ``Sequence[str]`` when consuming them.
  ``strategy_params`` is a plain dict (strategies validate it); treat it as read-only.
* Rules that span fields (live mode needs a real exchange, start before end, a sizing
  mode needs its parameter) are checked here but cannot be expressed in the JSON Schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

from btb.utils.logging import mask_url_password

TIMEFRAMES: tuple[str, ...] = (
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w",
)  # fmt: skip
"""Candle intervals btb understands (the Literal below must list the same)."""

Timeframe = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w"]
ExchangeName = Literal["sim", "bybit", "binance", "bybit_direct"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CrossFieldError(ValueError):
    """A rule spanning several fields failed; ``field`` is the key path below the section."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def _list_to_tuple(value: Any) -> Any:
    # YAML gives lists; strict mode accepts only tuples for tuple fields.
    return tuple(value) if isinstance(value, list) else value


def _str_to_path(value: Any) -> Any:
    return Path(value) if isinstance(value, str) else value


def _iso_to_date(value: Any) -> Any:
    # YAML turns unquoted 2024-01-01 into a date; a quoted one stays a string.
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            raise ValueError("must be an ISO date like 2024-01-31")
        return date.fromisoformat(value)
    return value


def _integral_float_to_int(value: Any) -> Any:
    # JSON Schema's "integer" accepts 5.0; accept it here too so both validators agree.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_integral_float_to_int)]
PathValue = Annotated[Path, BeforeValidator(_str_to_path)]
DateValue = Annotated[date, BeforeValidator(_iso_to_date)]
Symbol = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,30}$")]
SymbolTuple = Annotated[tuple[Symbol, ...], BeforeValidator(_list_to_tuple)]
TimeframeTuple = Annotated[tuple[Timeframe, ...], BeforeValidator(_list_to_tuple)]


def _plain(value: Any, redact: bool) -> Any:
    """Convert a config value to plain YAML/JSON-friendly data, hiding secrets if asked."""
    if isinstance(value, SecretStr):
        return "***" if redact else value.get_secret_value()
    if isinstance(value, Section):
        return {
            name: mask_url_password(field)
            if redact and name in value._url_fields and isinstance(field, str)
            else _plain(field, redact)
            for name, field in value.items()
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, redact) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class Section(BaseModel, Mapping[str, Any]):
    """Base of all config models: frozen, strict, no unknown keys, a read-only Mapping.

    ``keys()``, ``items()``, ``values()``, ``get()`` and ``==`` come from the base classes
    (equality is pydantic's: same type and same values).
    """

    # allow_inf_nan=False: YAML's .inf / .nan (or NAN in an env variable) are never a
    # sensible amount of money or a limit, and JSON Schema cannot express them either.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)
    #: str fields holding URLs whose password is masked in repr() and to_dict().
    _url_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name in self._url_fields and isinstance(value, str):
                value = mask_url_password(value)
            yield name, value

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        # Iterate keys like a Mapping (pydantic's default yields (key, value) pairs).
        return iter(type(self).model_fields)

    def __len__(self) -> int:
        return len(type(self).model_fields)

    def to_dict(self, *, redact: bool = True) -> dict[str, Any]:
        """Plain nested dict (lists, strings for paths and dates); secrets become ``"***"``.

        ``redact=False`` returns the secret values: only for handing them to an exchange
        client, never for printing or logging.
        """
        result = _plain(self, redact)
        assert isinstance(result, dict)
        return result


class RetryConfig(Section):
    """How exchange calls are retried: only network errors and rate limits, never others.

    ``attempts`` counts the first try; waits grow exponentially from ``base_delay`` (with
    random jitter of the same size) up to ``max_delay`` seconds; a rate-limit answer that says
    when the limit resets is waited for, but never longer than ``max_rate_limit_wait``.
    """

    attempts: Int = Field(default=4, ge=1, le=20)
    base_delay: float = Field(default=0.5, ge=0, le=60)
    max_delay: float = Field(default=15.0, ge=0, le=600)
    max_rate_limit_wait: float = Field(default=60.0, ge=0, le=600)

    @model_validator(mode="after")
    def _delays_ordered(self) -> RetryConfig:
        if self.max_delay < self.base_delay:
            raise CrossFieldError("max_delay", "must not be below retry.base_delay")
        return self


class ExchangeConfig(Section):
    """Which venue to trade on and how to talk to it. Keys come only from env/credentials.

    ``base_url`` / ``ws_url`` replace the venue's REST / websocket host (``btb sim``, a
    proxy); ``poll_interval_s`` is how often closed candles are polled over REST while the
    websocket is down (default: a quarter of the candle, between 0.5 and 15 s); ``client``
    picks the client ``name: sim`` uses: btb's direct Bybit client or ccxt's bybit.
    """

    name: ExchangeName
    testnet: bool
    rate_limit: bool = True
    market_type: Literal["linear", "spot"] = "linear"
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    base_url: str | None = Field(default=None, pattern=r"^(https?|wss?)://\S+$")
    ws_url: str | None = Field(default=None, pattern=r"^wss?://\S+$")
    recv_window_ms: Int = Field(default=10_000, gt=0, le=60_000)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    poll_interval_s: float | None = Field(default=None, gt=0, le=3600)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    client: Literal["direct", "ccxt"] = "direct"


class TradingConfig(Section):
    """What to trade: symbols, timeframes, strategy, mode (paper unless live is chosen)."""

    mode: Literal["paper", "live"] = "paper"
    symbols: SymbolTuple = Field(min_length=1, json_schema_extra={"uniqueItems": True})
    timeframes: TimeframeTuple = Field(min_length=1, json_schema_extra={"uniqueItems": True})
    # A registered name (``ema_cross``) or a user's strategy file (``my/strat.py:MyStrategy``).
    strategy: str = Field(pattern=r"^([a-z][a-z0-9_]*|[^:\s]+\.py:[A-Za-z_][A-Za-z0-9_]*)$")
    position_size: float | None = Field(default=None, gt=0)
    max_open_positions: Int = Field(default=3, ge=1, le=1000)
    leverage: Int = Field(default=1, ge=1, le=125)

    @field_validator("symbols", "timeframes")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("items must be unique")
        return value


class RiskConfig(Section):
    """Risk limits as fractions (0.01 = 1 %). Default risk per trade is 1 %, not the seed's 10 %."""

    risk_per_trade: float = Field(default=0.01, gt=0, le=0.05)
    stop_loss_pct: float = Field(default=0.02, gt=0, lt=1)
    take_profit_pct: float = Field(default=0.04, gt=0, lt=10)
    daily_max_loss_pct: float = Field(default=0.03, gt=0, lt=1)
    max_exposure: float = Field(default=1.0, gt=0, le=10)
    min_risk_reward: float = Field(default=1.5, ge=0)
    min_balance_threshold: float = Field(default=10.0, ge=0)
    min_signal_strength: float = Field(default=0.3, ge=0, le=1)
    min_ml_confidence: float = Field(default=0.5, ge=0, le=1)


class DataConfig(Section):
    """Where candles live: ``<data_dir>/<exchange>/...``; optional date window (UTC days)."""

    data_dir: PathValue = Path("user_data/data")
    exchange: str = Field(default="binance", pattern=r"^[a-z0-9_]+$")
    start_date: DateValue | None = None
    end_date: DateValue | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DataConfig:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise CrossFieldError("end_date", "must not be before data.start_date")
        return self


class BacktestConfig(Section):
    """Backtest venue settings. Negative maker fees (rebates) down to -0.1 % are allowed."""

    initial_capital: float = Field(default=10_000.0, gt=0)
    taker_fee: float = Field(default=0.001, ge=0, le=0.01)
    maker_fee: float = Field(default=0.001, ge=-0.001, le=0.01)
    slippage_bps: float = Field(default=0.0, ge=0, le=1000)
    sizing: Literal["fixed_notional", "equity_fraction", "risk_per_trade"] = "risk_per_trade"
    fixed_notional: float | None = Field(default=None, gt=0)
    equity_fraction: float = Field(default=0.1, gt=0, le=1)
    market_type: Literal["spot", "linear"] = "spot"
    funding: bool = False

    @model_validator(mode="after")
    def _sizing_has_parameter(self) -> BacktestConfig:
        if self.sizing == "fixed_notional" and self.fixed_notional is None:
            raise CrossFieldError("fixed_notional", "required when sizing is fixed_notional")
        return self


class DatabaseConfig(Section):
    """Database URL; ``None`` means the SQLite file ``<data.data_dir>/btb.db``."""

    _url_fields: ClassVar[frozenset[str]] = frozenset({"url"})

    url: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9+]*://\S*$")
    echo: bool = False

    @field_serializer("url", when_used="json")
    def _url_for_json(self, url: str | None) -> str | None:
        # JSON output is for showing (API, logs); like SecretStr, the password stays hidden.
        return None if url is None else mask_url_password(url)


class LoggingConfig(Section):
    """Log level and optional log file."""

    level: LogLevel = "INFO"
    file: PathValue | None = None


class ModelConfig(Section):
    """Optional trained model to load (path to an artifact and its kind)."""

    path: str | None = None
    kind: str | None = None


class BTBConfig(Section):
    """The whole validated configuration. Sections exchange, trading, risk, data are required."""

    exchange: ExchangeConfig
    trading: TradingConfig
    strategy_params: dict[str, Any] = Field(default_factory=dict)
    risk: RiskConfig
    data: DataConfig
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)

    @model_validator(mode="after")
    def _live_needs_real_exchange(self) -> BTBConfig:
        if self.trading.mode == "live" and self.exchange.name == "sim":
            raise CrossFieldError(
                "trading.mode", "live trading needs a real exchange, not exchange.name sim"
            )
        return self

    @property
    def database_url(self) -> str:
        """The effective database URL (the SQLite file under the data dir by default)."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.data.data_dir / 'btb.db'}"


REQUIRED_SECTIONS: tuple[str, ...] = ("exchange", "trading", "risk", "data")
"""Top-level sections a config file must contain (seed 000's schema)."""

__all__ = [
    "REQUIRED_SECTIONS",
    "TIMEFRAMES",
    "BTBConfig",
    "BacktestConfig",
    "CrossFieldError",
    "DataConfig",
    "DatabaseConfig",
    "ExchangeConfig",
    "LoggingConfig",
    "ModelConfig",
    "RetryConfig",
    "RiskConfig",
    "Section",
    "TradingConfig",
    "mask_url_password",
]
