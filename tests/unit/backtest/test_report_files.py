"""Backtester.plot_results / save_results: a self-contained HTML page, a PNG, result files."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml

from btb.backtest.engine import Backtester

from .conftest import backtest_config


@pytest.fixture(scope="module")
def done(btc_1h: pd.DataFrame) -> Backtester:
    cfg = backtest_config()
    cfg["exchange"] = {"name": "sim", "testnet": True, "api_key": "KEY-must-not-leak-123"}
    bt = Backtester(cfg, {"BTCUSDT": btc_1h})
    bt.run()
    return bt


def test_html_report_is_self_contained(done: Backtester, tmp_path) -> None:
    path = tmp_path / "report.html"
    done.plot_results(str(path))
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "plotly.js v" in page or "Plotly" in page  # the library itself is inlined
    assert not re.search(r"<script[^>]+src=", page)  # nothing fetched from elsewhere
    trades = done.results["trades"]  # type: ignore[index]
    for tid in trades["trade_id"].head(3):
        assert tid in page  # trade table
    for title in ("equity", "drawdown", "BTCUSDT", "profit_factor"):
        assert title in page


def test_png_when_the_name_ends_in_png(done: Backtester, tmp_path) -> None:
    path = tmp_path / "report.png"
    done.plot_results(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_results_writes_summary_trades_equity_and_config(done: Backtester, tmp_path) -> None:
    done.save_results(str(tmp_path / "out"))
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    results = done.results or {}
    assert summary["metrics"]["trade_count"] == len(results["trades"])
    assert summary["strategy"] == {
        "name": "ema_cross",
        "params": {
            "fast": 9,
            "slow": 21,
            "stop_loss": 0.02,
            "take_profit": 0.04,
            "allow_short": False,
        },
    }
    trades = pd.read_csv(out / "trades.csv")
    assert list(trades["trade_id"]) == list(results["trades"]["trade_id"])
    equity = pd.read_csv(out / "equity.csv")
    assert len(equity) == len(results["equity"])
    assert equity["equity"].iloc[-1] == pytest.approx(results["equity"].iloc[-1])
    config_text = (out / "config.yaml").read_text()
    assert "KEY-must-not-leak-123" not in config_text
    assert yaml.safe_load(config_text)["trading"]["strategy"] == "ema_cross"
