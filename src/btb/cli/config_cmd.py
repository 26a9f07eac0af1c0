"""``btb config``: check a configuration file and show the effective configuration.

``btb config validate -c FILE`` loads the file with its environment overrides, then runs the
pre-deployment sanity checks (:class:`btb.utils.config.ConfigValidator`) on the risk section
and, for the grid and dca strategies, on ``strategy_params``. It prints ``OK: ...`` and exits
0, or lists the failed checks and exits 1. ``btb config show -c FILE`` prints the merged
configuration as YAML with secrets shown as ``***``. A bad file (syntax, unknown key, wrong
type, out of range, secret in the file) is one ``error: ...`` line on stderr, exit status 2.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import yaml

from btb.utils.config import BTBConfig, ConfigValidator, ValidationReport, load_config
from btb.utils.config_models import mask_url_password
from btb.utils.config_validator import ValidationLimits

CHECKS_FAILED_EXIT = 1

_config_option = click.option(
    "--config", "-c", "config_path", required=True, help="Path to the YAML configuration file."
)


@click.group("config")
def config() -> None:
    """Validate or show a configuration file (YAML plus environment variables)."""


def run_checks(cfg: BTBConfig) -> ValidationReport:
    """Run ConfigValidator on the config's risk section and grid/dca strategy params."""
    from decimal import Decimal

    limits = ValidationLimits(fee_rate=Decimal(str(cfg.backtest.taker_fee)))
    risk: dict[str, Any] = {
        "risk_per_trade": cfg.risk.risk_per_trade,
        "max_exposure": cfg.risk.max_exposure,
        "max_daily_loss": cfg.risk.daily_max_loss_pct,
        "min_risk_reward": cfg.risk.min_risk_reward,
    }
    strategy = cfg.trading.strategy
    grid = cfg.strategy_params if strategy == "grid" else None
    dca = cfg.strategy_params if strategy == "dca" else None
    return ConfigValidator(limits).run_full_validation(risk=risk, grid=grid, dca=dca)


@config.command("validate")
@_config_option
def validate(config_path: str) -> None:
    """Check a config file; exit 2 if it is invalid, 1 if a safety check fails."""
    cfg = load_config(config_path)
    report = run_checks(cfg)
    summary = (
        f"{config_path}: exchange {cfg.exchange.name}"
        f"{' (testnet)' if cfg.exchange.testnet else ''}, mode {cfg.trading.mode}, "
        f"strategy {cfg.trading.strategy}, symbols {','.join(cfg.trading.symbols)}, "
        f"timeframes {','.join(cfg.trading.timeframes)}"
    )
    if report.passed:
        click.echo(f"OK: {summary}; {len(report.checks)} safety checks passed")
        if cfg.exchange.name != "sim" and not (cfg.exchange.api_key and cfg.exchange.api_secret):
            click.echo(
                "note: exchange keys are not set; set BTB_API_KEY and BTB_API_SECRET "
                "(environment or .env) before trading"
            )
        return
    failed = report.failed_checks
    click.echo(f"{config_path}: valid, but {len(failed)} safety check(s) failed:")
    for check in failed:
        click.echo(f"  FAILED {check.category}.{check.name}: {check.reason}")
    sys.exit(CHECKS_FAILED_EXIT)


@config.command("show")
@_config_option
def show(config_path: str) -> None:
    """Print the effective configuration (file plus environment) as YAML, secrets hidden."""
    cfg = load_config(config_path)
    data = cfg.to_dict(redact=True)
    click.echo(f"# effective configuration of {config_path}; secrets shown as ***")
    click.echo(f"# database: {mask_url_password(cfg.database_url)}")
    click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())
