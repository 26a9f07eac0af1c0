"""``btb config validate`` / ``btb config show``: one-line errors with exit 2, secrets hidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from btb.cli.main import LazyGroup, cli
from btb.errors import AuthenticationError, ExchangeAPIError
from btb.utils.config import ENV_VARS

REPO = Path(__file__).resolve().parents[3]
GOOD = """\
exchange: {name: sim, testnet: true}
trading: {symbols: [BTCUSDT, ETHUSDT], timeframes: [1h], strategy: ema_cross}
risk: {}
data: {}
"""
BAD_KEY = GOOD.replace("risk: {}", "risk: {risk_per_trad: 0.01}")


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Empty CWD and no btb variables in the environment."""
    for name, *_ in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"BTB_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(folder: Path, text: str, name: str = "c.yaml") -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def test_validate_ok(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "validate", "-c", _write(workdir, GOOD)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ")
    assert "exchange sim" in result.stdout and "symbols BTCUSDT,ETHUSDT" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BAD_KEY, "error: risk.risk_per_trad: unknown key"),
        (GOOD.replace("risk: {}", "risk: {risk_per_trade: 0.2}"),
         "error: risk.risk_per_trade: Input should be less than or equal to 0.05 (got 0.2)"),
        (GOOD.replace("risk: {}\n", ""), "error: risk: missing required section"),
        (GOOD.replace("testnet: true", "testnet: 7"), "error: exchange.testnet: "),
        ("exchange: {name: sim\n", "error: "),  # malformed YAML: file and line
    ],
)  # fmt: skip
def test_validate_bad_config_is_one_line_exit_2(workdir: Path, text: str, expected: str) -> None:
    path = _write(workdir, text)
    result = CliRunner().invoke(cli, ["config", "validate", "-c", path])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
    assert result.stdout == ""


def test_malformed_yaml_message_names_file_and_line(workdir: Path) -> None:
    path = _write(workdir, "exchange:\n  name: sim\n  testnet: [true\n")
    result = CliRunner().invoke(cli, ["config", "validate", "-c", path])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:")
    assert "malformed YAML" in result.stderr


def test_missing_file_is_exit_2(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "validate", "-c", "nope.yaml"])
    assert result.exit_code == 2
    assert result.stderr == "error: config file not found: nope.yaml\n"


def test_real_process_prints_no_traceback(workdir: Path) -> None:
    btb = Path(sys.executable).parent / "btb"
    path = _write(workdir, BAD_KEY, "bad.yaml")
    proc = subprocess.run(
        [str(btb), "config", "validate", "-c", path], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr == "error: risk.risk_per_trad: unknown key\n"
    assert proc.stdout == ""


def test_failed_safety_checks_exit_1(workdir: Path) -> None:
    # A valid config, but 300 grid levels exceed the validator's limit of 200.
    text = GOOD.replace("ema_cross", "grid") + "strategy_params: {num_levels: 300}\n"
    result = CliRunner().invoke(cli, ["config", "validate", "-c", _write(workdir, text)])
    assert result.exit_code == 1
    assert "1 safety check(s) failed" in result.stdout
    assert "FAILED strategy.grid_levels: 300 is outside 2..200" in result.stdout


def test_risk_safety_check_from_config(workdir: Path) -> None:
    # min_risk_reward 0.8 is a valid value but below the validator's floor of 1.
    text = GOOD.replace("risk: {}", "risk: {min_risk_reward: 0.8}")
    result = CliRunner().invoke(cli, ["config", "validate", "-c", _write(workdir, text)])
    assert result.exit_code == 1
    assert "FAILED risk.min_risk_reward" in result.stdout


@pytest.mark.parametrize("name", ["demo.yaml", "paper.yaml", "live.example.yaml"])
def test_shipped_configs_validate(workdir: Path, name: str) -> None:
    result = CliRunner().invoke(cli, ["config", "validate", "-c", str(REPO / "configs" / name)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ")


def test_validate_notes_missing_keys_for_real_exchange(workdir: Path) -> None:
    path = str(REPO / "configs" / "live.example.yaml")
    result = CliRunner().invoke(cli, ["config", "validate", "-c", path])
    assert result.exit_code == 0
    assert "note: exchange keys are not set" in result.stdout
    env = {"BTB_API_KEY": "k" * 12, "BTB_API_SECRET": "s" * 12}
    result = CliRunner().invoke(cli, ["config", "validate", "-c", path], env=env)
    assert result.exit_code == 0 and "note:" not in result.stdout


def test_show_merges_env_and_hides_secrets(workdir: Path) -> None:
    key, secret, db_pw = "ShowKey" + "9x8y7z", "ShowSecret" + "1a2b3c", "DbPw" + "5q6r"
    env = {
        "BTB_API_KEY": key,
        "API_SECRET": secret,
        "BTB_LEVERAGE": "3",
        "BTB_DATABASE_URL": f"postgresql+asyncpg://bot:{db_pw}@10.0.0.9/btb",
    }
    path = _write(workdir, GOOD)
    result = CliRunner().invoke(cli, ["config", "show", "-c", path], env=env)
    assert result.exit_code == 0, result.output
    for hidden in (key, secret, db_pw):
        assert hidden not in result.output
    shown = yaml.safe_load(result.stdout)
    assert shown["exchange"]["api_key"] == "***"
    assert shown["exchange"]["api_secret"] == "***"
    assert shown["trading"]["leverage"] == 3  # the environment override is shown
    assert shown["trading"]["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert shown["risk"]["risk_per_trade"] == 0.01  # defaults are filled in
    assert shown["database"]["url"] == "postgresql+asyncpg://bot:***@10.0.0.9/btb"


def test_show_bad_config_exit_2(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "show", "-c", _write(workdir, BAD_KEY)])
    assert result.exit_code == 2
    assert result.stderr == "error: risk.risk_per_trad: unknown key\n"


def test_secret_in_file_message_is_not_mangled_by_masking(workdir: Path) -> None:
    text = GOOD.replace("testnet: true", "testnet: true, api_key: Fil3dK3y99")
    result = CliRunner().invoke(cli, ["config", "validate", "-c", _write(workdir, text)])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: exchange.api_key: secrets must not be written in the config file; remove it "
        "and set BTB_API_KEY (in the environment or .env)\n"
    )


def _failing_group() -> LazyGroup:
    """A LazyGroup (the class ``btb`` uses) with commands that fail the ways commands do."""
    group = LazyGroup("btb-test")

    @group.command("exchange")
    def exchange_fails() -> None:
        # An exchange echoing the signed request it refused.
        raise ExchangeAPIError("bybit: GET /v5/order?api_key=Xk9AbCdE&sign=9f86d0818 refused")

    @group.command("auth")
    def auth_fails() -> None:
        raise AuthenticationError("rejected key, headers {'X-BAPI-API-KEY': 'Xk9AbCdE'}")

    @group.command("disk")
    def disk_fails() -> None:
        raise PermissionError(13, "Permission denied", "/data/btb")

    return group


@pytest.mark.parametrize(
    ("command", "status", "line"),
    [
        ("exchange", 1,
         "error (ExchangeAPIError): bybit: GET /v5/order?api_key=***&sign=*** refused"),
        ("auth", 2, "error: rejected key, headers {'X-BAPI-API-KEY': '***'}"),
        ("disk", 1, "error: [Errno 13] Permission denied: '/data/btb'"),
    ],
)  # fmt: skip
def test_command_errors_are_one_line_with_credentials_masked(
    command: str, status: int, line: str
) -> None:
    result = CliRunner().invoke(_failing_group(), [command])
    assert result.exit_code == status
    assert result.stderr == line + "\n"
    assert "Xk9AbCdE" not in result.output and "Traceback" not in result.output
