"""``btb backtest``: run a backtest from a config file, print metrics, write the report."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

PROGRESS_MIN_BARS = 200_000  # below this a run takes well under a second


def _format(value: Any) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{value:,.4f}" if abs(value) >= 1 else f"{value:.4%}" if value else "0"
    return "-" if value is None else str(value)


_PERCENT = {"total_return", "cagr", "max_drawdown", "win_rate", "exposure"}


def metrics_table(metrics: dict[str, Any]) -> str:
    """Two aligned columns; fractions shown as percentages."""
    lines = []
    for key, value in metrics.items():
        if key == "per_symbol":
            continue
        if key in _PERCENT and isinstance(value, float) and math.isfinite(value):
            text = f"{value:.2%}"
        elif isinstance(value, float) and math.isfinite(value):
            text = f"{value:,.4f}"
        else:
            text = _format(value)
        lines.append(f"  {key:<24} {text}")
    for symbol, stats in (metrics.get("per_symbol") or {}).items():
        pf = stats.get("profit_factor")
        lines.append(
            f"  {symbol:<24} trades {stats['trade_count']}, net {stats['net_pnl']:,.2f}, "
            f"profit factor {_format(pf) if not isinstance(pf, float) else f'{pf:.3f}'}"
        )
    return "\n".join(lines)


class _Progress:
    """A tqdm bar created on first use, only for long runs and only on a terminal."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_MIN_BARS:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="bar", unit_scale=True, disable=None, leave=False)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.bar.close()


@click.command()
@click.option("--config", "-c", required=True, help="Path to backtest configuration")
@click.option("--output", "-o", default=None, help="Folder for the report and result files")
@click.option(
    "--check-lookahead",
    is_flag=True,
    help="Check the strategy's signals for "
    "look-ahead (rerun on truncated data) instead of backtesting",
)
@click.option(
    "--path",
    "run_path",
    type=click.Choice(["auto", "event", "fast"]),
    default="auto",
    show_default=True,
    help="Fill loop: compiled fast path or event-driven engine",
)
@click.option(
    "--report",
    "report_name",
    default="report.html",
    show_default=True,
    help="Report file name inside --output (.html interactive, .png static)",
)
def backtest(
    config: str, output: str | None, check_lookahead: bool, run_path: str, report_name: str
) -> None:
    """Run backtest with the specified configuration."""
    from btb.backtest.engine import Backtester
    from btb.utils.config import load_config

    bt = Backtester(load_config(config), path=run_path, progress=_Progress())
    if check_lookahead:
        _check(bt)
        return
    results = bt.run()
    trades = results["trades"]
    click.echo(
        f"{bt.strategy.strategy_type} on {', '.join(bt.symbols)} {bt.timeframe}: "
        f"{len(results['equity'])} bars, {len(trades)} trades ({results['path']} path)"
    )
    click.echo(metrics_table(results["metrics"]))
    if output:
        folder = Path(output)
        bt.save_results(str(folder))
        report = bt.plot_results(str(folder / report_name))
        click.echo(f"results: {folder}/ (summary.json, trades.csv, equity.csv, config.yaml)")
        click.echo(f"report: {report}")


def _check(bt: Any) -> None:
    from btb.backtest.lookahead import check_lookahead

    leaks = check_lookahead(bt.strategy, bt.data)
    if not leaks:
        click.echo(
            f"no look-ahead found in {bt.strategy.strategy_type} signals "
            f"({', '.join(bt.symbols)} {bt.timeframe})"
        )
        return
    click.echo(
        f"LOOK-AHEAD: {len(leaks)} signal column(s) change when later candles are removed:",
        err=True,
    )
    for leak in leaks:
        click.echo(f"  {leak}", err=True)
    raise SystemExit(1)
