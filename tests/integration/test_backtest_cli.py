"""`btb backtest` end to end: config file -> Parquet store -> metrics, report, result files;
and `--check-lookahead` on a clean and on a leaking strategy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from btb.cli.main import cli
from btb.data.store import OHLCVStore
from btb.strategies.base import BaseStrategy, Param
from btb.strategies.factory import STRATEGY_REGISTRY, register_strategy

from .backtest_data import read_ohlcv

CONFIG = """\
exchange: {{name: sim, testnet: true}}
trading: {{symbols: [ETHUSDT], timeframes: [1h], strategy: {strategy}, max_open_positions: 1}}
strategy_params: {params}
risk: {{stop_loss_pct: 0.02, take_profit_pct: 0.04}}
data: {{data_dir: {data_dir}, exchange: binance}}
backtest: {{initial_capital: 10000, sizing: fixed_notional, fixed_notional: 1000}}
"""


@pytest.fixture(scope="module")
def store(ohlcv_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    df = read_ohlcv(ohlcv_dir / "binance_spot" / "ETH_USDT-1h.csv.gz")
    OHLCVStore(root).write("binance", "ETHUSDT", "1h", df)
    return root


def write_config(
    tmp_path: Path, store: Path, strategy: str = "ema_cross", params: str = "{fast: 9, slow: 21}"
) -> Path:
    path = tmp_path / "bt.yaml"
    path.write_text(CONFIG.format(strategy=strategy, params=params, data_dir=store))
    return path


def test_backtest_prints_metrics_and_writes_the_report(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["backtest", "-c", str(write_config(tmp_path, store)), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "ema_cross on ETHUSDT 1h: 5980 bars" in result.output
    for name in ("total_return", "sharpe", "max_drawdown", "profit_factor", "fees_paid"):
        assert name in result.output
    summary = json.loads((out / "summary.json").read_text())
    trades = pd.read_csv(out / "trades.csv")
    assert summary["metrics"]["trade_count"] == len(trades) > 0
    assert f"trades {len(trades)}," in result.output
    assert (out / "report.html").stat().st_size > 1_000_000  # plotly.js is inlined
    assert (out / "equity.csv").exists() and (out / "config.yaml").exists()


def test_png_report(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "backtest",
            "-c",
            str(write_config(tmp_path, store)),
            "-o",
            str(out),
            "--report",
            "chart.png",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "chart.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_config_is_one_line_exit_2(store: Path, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, store, params="{fast: 30, slow: 21}")
    result = CliRunner().invoke(cli, ["backtest", "-c", str(cfg)])
    assert result.exit_code == 2
    assert "strategy_params.fast" in result.output and "Traceback" not in result.output


class _Leaky(BaseStrategy):
    params_spec: ClassVar = {"stop_loss": Param(float, 0.02)}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        future = df["close"].rolling(5).mean().shift(-5)  # tomorrow's average: a leak
        up = (df["close"] < future).to_numpy()
        none = np.zeros(len(df), dtype=bool)
        return pd.DataFrame(
            {"enter_long": up, "exit_long": ~up, "enter_short": none, "exit_short": none},
            index=df.index,
        )


def test_check_lookahead(store: Path, tmp_path: Path) -> None:
    clean = CliRunner().invoke(
        cli, ["backtest", "-c", str(write_config(tmp_path, store)), "--check-lookahead"]
    )
    assert clean.exit_code == 0, clean.output
    assert "no look-ahead found in ema_cross" in clean.output
    register_strategy("leaky_cli_test")(_Leaky)
    try:
        cfg = write_config(tmp_path, store, strategy="leaky_cli_test", params="{}")
        leaky = CliRunner().invoke(cli, ["backtest", "-c", str(cfg), "--check-lookahead"])
    finally:
        STRATEGY_REGISTRY.pop("leaky_cli_test", None)
    assert leaky.exit_code == 1
    assert "LOOK-AHEAD" in leaky.output and "enter_long" in leaky.output
