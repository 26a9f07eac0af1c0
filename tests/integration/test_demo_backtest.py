"""`btb demo` ends with a backtest of `enhanced` and prints the path of a self-contained report."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from btb.cli.main import cli


def test_demo_backtests_enhanced_and_prints_report_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "enhanced on BTCUSDT, ETHUSDT 1h" in result.output
    trades = re.search(r"trade_count\s+(\d+)", result.output)
    assert trades is not None and int(trades.group(1)) > 0
    # The training step trains a model first; the backtest trades with it out of sample.
    assert re.search(r"enhanced on BTCUSDT, ETHUSDT 1h \(model \S+BTCUSDT_1h_gbm\)", result.output)
    reports = re.findall(r"report: (\S+\.html)", result.output)
    assert len(reports) == 2, result.output  # the model's evaluation, then the backtest's
    report = Path(reports[-1])
    assert report.is_file() and report.is_relative_to(tmp_path)
    html = report.read_text()
    # Self-contained: plotly.js inlined, nothing fetched from the network when opened.
    # plotly.js itself names its CDN as a default for map files, so look at tags only.
    assert re.search(r"<script[^>]*\bsrc=", html) is None
    assert len(html) > 1_000_000 and "Plotly.newPlot" in html
    for name in ("summary.json", "trades.csv", "equity.csv", "config.yaml"):
        assert (report.parent / name).is_file(), name
