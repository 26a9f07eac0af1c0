"""load_config: YAML + environment into a frozen, dict-like config; bad files raise ConfigError."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from btb.errors import ConfigError
from btb.utils.config import load_config, override_config, parse_config
from btb.utils.config_models import BTBConfig
from btb.utils.logging import redact

from .conftest import MINIMAL_YAML

REPO = Path(__file__).resolve().parents[3]
WriteConfig = Callable[..., Path]


def _with(section_line: str, replacement: str) -> str:
    assert section_line in MINIMAL_YAML
    return MINIMAL_YAML.replace(section_line, replacement)


# --- bad files: each names the key path (or file and line) -----------------------------

BAD_CASES = [
    # (description, yaml text, expected key_path, fragment expected in the message)
    ("unknown key", _with("risk: {}", "risk: {risk_per_trad: 0.01}"),
     "risk.risk_per_trad", "unknown key"),
    ("unknown top-level key", MINIMAL_YAML + "strategy: ema\n", "strategy", "unknown key"),
    ("wrong type", _with("risk: {}", "risk: {risk_per_trade: abc}"),
     "risk.risk_per_trade", "valid number"),
    ("number as string", _with("risk: {}", "risk: {risk_per_trade: '0.01'}"),
     "risk.risk_per_trade", "valid number"),
    ("out of range", _with("risk: {}", "risk: {risk_per_trade: 0.1}"),
     "risk.risk_per_trade", "less than or equal to 0.05"),
    ("leverage above 125", _with("strategy: ema_cross", "strategy: ema_cross\n  leverage: 126"),
     "trading.leverage", "125"),
    ("bad timeframe", _with("timeframes: [1h]", "timeframes: [2m]"),
     "trading.timeframes[0]", "'1h'"),
    ("no timeframes", _with("timeframes: [1h]", "timeframes: []"),
     "trading.timeframes", "at least 1"),
    ("lowercase symbol", _with("symbols: [BTCUSDT]", "symbols: [btc/usdt]"),
     "trading.symbols[0]", "like BTCUSDT"),
    ("duplicate symbols", _with("symbols: [BTCUSDT]", "symbols: [BTCUSDT, BTCUSDT]"),
     "trading.symbols", "unique"),
    ("testnet as string", _with("testnet: true", "testnet: 'yes'"),
     "exchange.testnet", "valid boolean"),
    ("unknown exchange", _with("name: sim", "name: kraken"), "exchange.name", "'bybit'"),
    ("missing testnet", _with("  testnet: true\n", ""), "exchange.testnet", "missing required key"),
    ("missing strategy", _with("  strategy: ema_cross\n", ""),
     "trading.strategy", "missing required key"),
    ("bad date", _with("data: {}", "data: {start_date: '2024-13-01'}"),
     "data.start_date", "date"),
    ("end before start", _with("data: {}", "data: {start_date: 2024-05-01, end_date: 2024-01-01}"),
     "data.end_date", "not be before"),
    ("sizing needs parameter", MINIMAL_YAML + "backtest: {sizing: fixed_notional}\n",
     "backtest.fixed_notional", "required when sizing"),
    ("retry delays reversed",
     _with("  testnet: true\n", "  testnet: true\n  retry: {base_delay: 5, max_delay: 1}\n"),
     "exchange.retry.max_delay", "not be below retry.base_delay"),
    ("section of wrong type", _with("risk: {}", "risk: [1, 2]"), "risk", "valid dictionary"),
    ("live on the simulator", _with("strategy: ema_cross", "strategy: ema_cross\n  mode: live"),
     "trading.mode", "real exchange"),
    # YAML spells infinity and NaN .inf and .nan; no amount of money or limit is either.
    ("infinite capital", MINIMAL_YAML + "backtest: {initial_capital: .inf}\n",
     "backtest.initial_capital", "finite number"),
    ("NaN limit", _with("risk: {}", "risk: {min_risk_reward: .nan}"),
     "risk.min_risk_reward", "finite number"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "key_path", "fragment"), [c[1:] for c in BAD_CASES],
                         ids=[c[0] for c in BAD_CASES])  # fmt: skip
def test_bad_config_names_key_path(
    write_config: WriteConfig, text: str, key_path: str, fragment: str
) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.key_path == key_path
    assert str(info.value).startswith(f"{key_path}: ")
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("section", ["exchange", "trading", "risk", "data"])
def test_missing_required_section_is_named(write_config: WriteConfig, section: str) -> None:
    lines = MINIMAL_YAML.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{section}:"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), None)
    kept = lines[:start] + (lines[end:] if end is not None else [])
    path = write_config("\n".join(kept) + "\n")
    with pytest.raises(ConfigError, match=f"^{section}: missing required section") as info:
        load_config(path, env={})
    assert info.value.key_path == section


def test_malformed_yaml_names_file_and_line(write_config: WriteConfig) -> None:
    # Line 3 opens a flow mapping that is never closed.
    path = write_config("exchange:\n  name: sim\ntrading: {symbols: [BTCUSDT]\nrisk: {}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert "malformed YAML" in message
    line = int(message[len(str(path)) + 1 :].split(":")[0])
    assert line in (3, 4)  # the error is reported where the parser notices it
    assert "\n" not in message


def test_duplicate_key_is_an_error(write_config: WriteConfig) -> None:
    path = write_config(MINIMAL_YAML + "risk: {risk_per_trade: 0.02}\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:10:1: malformed YAML: duplicate key"):
        load_config(path, env={})


@pytest.mark.parametrize(
    ("text", "fragment"), [("", "empty"), ("- a\n- b\n", "not a list"), ("42\n", "not a int")]
)
def test_non_mapping_file(write_config: WriteConfig, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_config(write_config(text), env={})


def test_missing_file(clean_env: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml"):
        load_config(clean_env / "nope.yaml", env={})
    (clean_env / "folder.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"folder\.yaml is a folder, not a config file"):
        load_config(clean_env / "folder.yaml", env={})


def test_several_errors_are_summarised_on_one_line(write_config: WriteConfig) -> None:
    text = _with("risk: {}", "risk: {risk_per_trade: 0.5, stop_loss_pct: 2, max_exposure: -1}")
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text), env={})
    assert info.value.key_path == "risk.risk_per_trade"
    assert "2 more error(s) at risk.stop_loss_pct, risk.max_exposure" in str(info.value)


# --- secrets ------------------------------------------------------------------------------

SECRET = "Sk-7f3a9c" + "E2d4b6A8"  # split so the source holds no key-like literal


@pytest.mark.parametrize(
    ("line", "key_path", "variable"),
    [
        ("  api_key: {s}", "exchange.api_key", "BTB_API_KEY"),
        ("  api_secret: '{s}'", "exchange.api_secret", "BTB_API_SECRET"),
    ],
)
def test_secret_in_yaml_is_rejected_without_echoing_it(
    write_config: WriteConfig, line: str, key_path: str, variable: str
) -> None:
    text = _with("  testnet: true\n", "  testnet: true\n" + line.format(s=SECRET) + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text), env={})
    assert info.value.key_path == key_path
    assert variable in str(info.value)
    assert SECRET not in str(info.value)


def test_secret_named_strategy_param_and_db_password_are_rejected(
    write_config: WriteConfig,
) -> None:
    text = MINIMAL_YAML + f"strategy_params:\n  webhook:\n    token: {SECRET}\n"
    with pytest.raises(ConfigError, match=r"^strategy_params\.webhook\.token: secrets"):
        load_config(write_config(text), env={})
    text = MINIMAL_YAML + f"database: {{url: 'postgresql://bot:{SECRET}@db.example.com/btb'}}\n"
    with pytest.raises(ConfigError, match=r"^database\.url: a database password") as info:
        load_config(write_config(text), env={})
    assert SECRET not in str(info.value)


def test_empty_secret_placeholders_are_allowed(write_config: WriteConfig) -> None:
    text = _with("  testnet: true\n", "  testnet: true\n  api_key: null\n  api_secret: ''\n")
    assert load_config(write_config(text), env={}).exchange.api_key is None


def test_secrets_never_in_repr_str_or_dict(write_config: WriteConfig) -> None:
    db_password = "Pw9" + "xK2mQ7vL"
    env = {
        "BTB_API_KEY": SECRET,
        "API_SECRET": SECRET + "X",
        "BTB_DATABASE_URL": f"postgresql+asyncpg://bot:{db_password}@10.0.0.5/btb",
    }
    config = load_config(write_config(), env=env)
    # The real values are there for the exchange client ...
    assert config.exchange.api_key is not None
    assert config.exchange.api_key.get_secret_value() == SECRET
    assert config.to_dict(redact=False)["exchange"]["api_secret"] == SECRET + "X"
    # ... but no textual form shows them.
    for text in (repr(config), str(config), repr(config.exchange), repr(config.database),
                 str(config.to_dict()), str(config["exchange"]["api_key"])):  # fmt: skip
        assert SECRET not in text
        assert db_password not in text
    assert config.to_dict()["exchange"]["api_key"] == "***"
    assert config.to_dict()["database"]["url"] == "postgresql+asyncpg://bot:***@10.0.0.5/btb"
    # pydantic's own JSON output (an API or dashboard might send it) hides them too.
    dumped = config.model_dump_json()
    assert SECRET not in dumped and db_password not in dumped
    assert '"url":"postgresql+asyncpg://bot:***@10.0.0.5/btb"' in dumped


@pytest.mark.parametrize(
    ("url", "password", "shown"),
    [
        # A password with "/" or "@" (unencoded) and a Redis URL without a user name.
        ("postgresql+asyncpg://bot:pa55/w0rd@db.example/btb", "pa55/w0rd",
         "postgresql+asyncpg://bot:***@db.example/btb"),
        ("postgresql+asyncpg://bot:p@ss@w0rd@db.example:5432/btb", "p@ss@w0rd",
         "postgresql+asyncpg://bot:***@db.example:5432/btb"),
        ("redis://:r3d1s-pw@cache.example:6379/0", "r3d1s-pw", "redis://:***@cache.example:6379/0"),
    ],
)  # fmt: skip
def test_unusual_database_passwords_are_hidden_and_masked_in_logs(
    write_config: WriteConfig, url: str, password: str, shown: str
) -> None:
    config = load_config(write_config(), env={"BTB_DATABASE_URL": url})
    assert config.database.url == url  # the real value is kept for the database driver
    assert config.to_dict()["database"]["url"] == shown
    assert password not in repr(config) and password not in config.model_dump_json()
    assert redact(f"connecting with {password}") == "connecting with ***"  # registered


def test_validation_error_on_secret_does_not_echo_it() -> None:
    data = _minimal_dict()
    data["exchange"]["api_key"] = 987654321987
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert info.value.key_path == "exchange.api_key"
    assert "987654321987" not in str(info.value)


# --- environment ---------------------------------------------------------------------------


def test_every_seed_002_variable_is_merged(write_config: WriteConfig) -> None:
    env = {
        "API_KEY": "key-" + "abc123",
        "API_SECRET": "sec-" + "def456",
        "TESTNET": "False",
        "SYMBOL": "ethusdt",
        "LEVERAGE": "5",
        "RISK_PER_TRADE": "0.02",
        "STOPLOSS_PCT": "0.015",
        "TAKE_PROFIT_PCT": "0.045",
        "DAILY_MAX_LOSS_PCT": "0.025",
        "DB_FILE": "state/bot.db",
        "LOG_LEVEL": "debug",
        "BTB_DATA_DIR": "/srv/btb-data",
    }
    config = load_config(write_config(), env=env)
    assert config.exchange.api_key is not None and config.exchange.api_secret is not None
    assert config.exchange.api_key.get_secret_value() == "key-abc123"
    assert config.exchange.api_secret.get_secret_value() == "sec-def456"
    assert config.exchange.testnet is False
    assert config.trading.symbols == ("ETHUSDT",)
    assert config.trading.leverage == 5
    assert config.risk.risk_per_trade == 0.02
    assert config.risk.stop_loss_pct == 0.015
    assert config.risk.take_profit_pct == 0.045
    assert config.risk.daily_max_loss_pct == 0.025
    assert config.database.url == "sqlite+aiosqlite:///state/bot.db"
    assert config.logging.level == "DEBUG"
    assert config.data.data_dir == Path("/srv/btb-data")


def test_btb_prefix_wins_over_bare_name(write_config: WriteConfig) -> None:
    env = {"LEVERAGE": "3", "BTB_LEVERAGE": "7", "SYMBOL": "ETHUSDT", "BTB_SYMBOL": "SOLUSDT"}
    config = load_config(write_config(), env=env)
    assert config.trading.leverage == 7
    assert config.trading.symbols == ("SOLUSDT",)


def test_unprefixed_data_dir_and_empty_values_are_ignored(write_config: WriteConfig) -> None:
    config = load_config(write_config(), env={"DATA_DIR": "/elsewhere", "BTB_LEVERAGE": " "})
    assert config.data.data_dir == Path("user_data/data")
    assert config.trading.leverage == 1


def test_database_url_beats_db_file(write_config: WriteConfig) -> None:
    env = {"DB_FILE": "x.db", "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/btb"}
    config = load_config(write_config(), env=env)
    assert config.database_url == "postgresql+asyncpg://postgres@127.0.0.1/btb"


def test_comma_separated_symbols(write_config: WriteConfig) -> None:
    config = load_config(write_config(), env={"SYMBOL": "BTCUSDT, ethusdt"})
    assert config.trading.symbols == ("BTCUSDT", "ETHUSDT")


@pytest.mark.parametrize(
    ("env", "key_path", "variable", "reason"),
    [
        ({"TESTNET": "perhaps"}, "exchange.testnet", "TESTNET", "expected true or false"),
        ({"BTB_LEVERAGE": "five"}, "trading.leverage", "BTB_LEVERAGE", "expected a whole number"),
        ({"RISK_PER_TRADE": "1%"}, "risk.risk_per_trade", "RISK_PER_TRADE", "expected a number"),
        ({"STOPLOSS_PCT": "nan"}, "risk.stop_loss_pct", "STOPLOSS_PCT", "finite number"),
    ],
)
def test_unparsable_env_value(
    write_config: WriteConfig, env: dict[str, str], key_path: str, variable: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(), env=env)
    assert info.value.key_path == key_path
    assert f"environment variable {variable}" in str(info.value)
    assert reason in str(info.value)
    assert "invalid literal" not in str(info.value)  # Python's wording is not for users


def test_env_value_out_of_range_names_variable(write_config: WriteConfig) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(), env={"RISK_PER_TRADE": "0.1"})
    assert info.value.key_path == "risk.risk_per_trade"
    assert "(from environment variable RISK_PER_TRADE)" in str(info.value)


def test_os_environ_is_the_default(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config()
    monkeypatch.setenv("BTB_LEVERAGE", "4")
    assert load_config(path).trading.leverage == 4


def test_dotenv_files(write_config: WriteConfig, clean_env: Path) -> None:
    path = write_config()
    (clean_env / ".env").write_text("BTB_LEVERAGE=2\nSYMBOL=ETHUSDT\nRISK_PER_TRADE=0.02\n")
    (path.parent / ".env").write_text("BTB_LEVERAGE=3\nAPI_KEY=from-dotenv-1\n")
    before = dict(os.environ)
    config = load_config(path, env={"RISK_PER_TRADE": "0.03"})
    assert config.trading.leverage == 3  # the .env next to the config wins over the CWD one
    assert config.trading.symbols == ("ETHUSDT",)  # the CWD .env is read too
    assert config.risk.risk_per_trade == 0.03  # the real environment wins over .env
    assert config.exchange.api_key is not None
    assert config.exchange.api_key.get_secret_value() == "from-dotenv-1"
    assert dict(os.environ) == before  # .env files never change the process environment


def test_prefixed_dotenv_beats_bare_real_env(write_config: WriteConfig) -> None:
    path = write_config()
    (path.parent / ".env").write_text("BTB_LEVERAGE=9\n")
    assert load_config(path, env={"LEVERAGE": "2"}).trading.leverage == 9


# --- the object: frozen, typed, dict-like ----------------------------------------------------


def _minimal_dict() -> dict[str, Any]:
    return {
        "exchange": {"name": "sim", "testnet": True},
        "trading": {"symbols": ["BTCUSDT"], "timeframes": ["1h"], "strategy": "ema_cross"},
        "risk": {},
        "data": {},
    }


def test_seed_000_dict_access(write_config: WriteConfig) -> None:
    config = load_config(write_config(MINIMAL_YAML + "strategy_params: {fast: 9}\n"), env={})
    assert isinstance(config, BTBConfig)
    assert config["exchange"]["name"] == "sim"
    assert config["trading"]["strategy"] == "ema_cross"
    assert config["strategy_params"] == {"fast": 9}
    assert "exchange" in config and "backtest" in config and "x" not in config
    assert "risk_per_trade" in config["risk"] and "nope" not in config["risk"]
    assert config.get("x") is None and config.get("x", 5) == 5
    assert config["risk"].get("risk_per_trade") == 0.01
    with pytest.raises(KeyError):
        config["x"]
    assert list(config)[:4] == ["exchange", "trading", "strategy_params", "risk"]
    assert dict(config["exchange"])["testnet"] is True
    assert len(config["logging"]) == 2


def test_defaults_follow_the_design(write_config: WriteConfig) -> None:
    config = load_config(write_config(), env={})
    assert config.trading.mode == "paper"
    assert config.risk.risk_per_trade == 0.01  # DESIGN: 1 %, not the seed's 10 %
    assert config.risk.daily_max_loss_pct == 0.03
    assert config.exchange.recv_window_ms == 10_000
    assert config.backtest.sizing == "risk_per_trade"
    assert config.database_url == "sqlite+aiosqlite:///user_data/data/btb.db"
    assert config.strategy_params == {}


def test_config_is_frozen(write_config: WriteConfig) -> None:
    config = load_config(write_config(), env={})
    with pytest.raises(ValidationError, match="frozen"):
        config.risk.risk_per_trade = 0.5
    with pytest.raises(ValidationError, match="frozen"):
        config.trading = config.trading
    with pytest.raises(TypeError):
        config["risk"]["risk_per_trade"] = 0.5
    with pytest.raises(AttributeError):
        config.trading.symbols.append("ETHUSDT")  # type: ignore[attr-defined]
    assert config.risk.risk_per_trade == 0.01


def test_override_config_revalidates(write_config: WriteConfig) -> None:
    config = load_config(write_config(), env={})
    moved = override_config(config, {"data.data_dir": "demo_out/data", "trading.leverage": 2})
    assert moved.data.data_dir == Path("demo_out/data") and moved.trading.leverage == 2
    assert config.data.data_dir == Path("user_data/data")  # the original is untouched
    with pytest.raises(ConfigError, match=r"^trading\.leverage: "):
        override_config(config, {"trading.leverage": 0})


def test_integral_float_is_accepted_for_integers(write_config: WriteConfig) -> None:
    text = _with("strategy: ema_cross", "strategy: ema_cross\n  leverage: 5.0")
    assert load_config(write_config(text), env={}).trading.leverage == 5


# --- shipped configs ---------------------------------------------------------------------------


def test_shipped_configs_load(clean_env: Path) -> None:
    demo = load_config(REPO / "configs" / "demo.yaml", env={})
    assert (demo.exchange.name, demo.trading.mode, demo.trading.strategy) == (
        "sim", "paper", "enhanced",
    )  # fmt: skip
    assert demo.trading.symbols == ("BTCUSDT", "ETHUSDT")
    assert demo.trading.timeframes == ("1h",)
    assert demo.strategy_params == {}
    assert demo.data.data_dir == Path("user_data/data")

    paper = load_config(REPO / "configs" / "paper.yaml", env={})
    assert (paper.exchange.name, paper.trading.mode, paper.trading.strategy) == (
        "sim", "paper", "ema_cross",
    )  # fmt: skip

    live = load_config(REPO / "configs" / "live.example.yaml", env={})
    assert (live.exchange.name, live.exchange.testnet, live.trading.mode) == (
        "bybit",
        False,
        "live",
    )
    assert live.exchange.api_key is None  # keys come from the environment only
    text = (REPO / "configs" / "live.example.yaml").read_text()
    assert "BTB_API_KEY" in text and "BTB_API_SECRET" in text


def test_import_stays_light() -> None:
    code = (
        "import sys, btb.utils.config, btb.utils.logging, btb.utils.security_audit\n"
        "heavy = ('pandas', 'numpy', 'torch', 'lightgbm', 'ccxt', 'sqlalchemy', 'aiohttp')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
