"""``btb demo``: a first run of btb on the shipped sample data, in a few seconds, offline.

The demo is a list of steps (:data:`STEPS`) run in order against one
:class:`DemoContext`; later features add their step (backtest, training, paper trading) by
appending to the list. Everything is written under ``--workdir`` (default ``demo_out``):
the candle store is ``<workdir>/data``. Running it again is safe (imports are idempotent).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from btb.data.sample import SAMPLE_EXCHANGE, attribution_path, demo_config_path, import_sample
from btb.data.store import OHLCVStore
from btb.data.validate import check_ohlcv
from btb.errors import DataError


@dataclass
class DemoContext:
    """What the steps share: folders, output, and results earlier steps leave for later ones."""

    workdir: Path
    echo: Callable[[str], None]
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        """The candle store of the demo."""
        return self.workdir / "data"

    @property
    def store(self) -> OHLCVStore:
        return OHLCVStore(self.data_dir)


def step_import_sample(ctx: DemoContext) -> None:
    """Import the shipped BTC/ETH 5m and 1h candles into the demo's store."""
    results = import_sample(ctx.data_dir, exchange=SAMPLE_EXCHANGE)
    for res in results:
        ctx.echo(f"  {res.symbol} {res.timeframe}: {res.rows_read} rows read, {res.added} new")
    ctx.echo(f"  source and licence: {attribution_path()}")
    ctx.state["imports"] = results


def step_data_summary(ctx: DemoContext) -> None:
    """One line per stored dataset: rows, first and last candle (UTC open times)."""
    infos = ctx.store.list_datasets()
    for info in infos:
        first = info.first.strftime("%Y-%m-%d %H:%M") if info.first is not None else "-"
        last = info.last.strftime("%Y-%m-%d %H:%M") if info.last is not None else "-"
        ctx.echo(
            f"  {info.exchange} {info.symbol:<8} {info.timeframe:<3} {info.rows:>6} rows  "
            f"{first} .. {last} UTC"
        )
    ctx.state["datasets"] = infos


def step_data_check(ctx: DemoContext) -> None:
    """The validation report of every stored dataset; the shipped data must be clean."""
    store = ctx.store
    for info in store.list_datasets():
        frame = store.read(info.exchange, info.symbol, info.timeframe)
        report = check_ohlcv(frame, info.timeframe, f"{info.symbol} {info.timeframe}")
        for line in report.text().splitlines():
            ctx.echo(f"  {line}")
        if report.errors or report.repairable:
            raise DataError(f"demo data failed its check: {report.header()}")


def step_backtest(ctx: DemoContext) -> None:
    """Backtest the demo config's strategy (``enhanced``) and write the HTML report.

    Uses the model an earlier demo step trained (``ctx.state["model_path"]``) when there is
    one, and then starts where that model's training window ended
    (``ctx.state["backtest_start"]``) so no bar it learned from is traded; without a model
    ``enhanced`` trades on its technical signals alone over all the data.
    """
    import pandas as pd

    from btb.backtest.engine import Backtester
    from btb.cli.backtest_cmd import metrics_table
    from btb.utils.config import load_config, override_config

    overrides: dict[str, Any] = {"data.data_dir": str(ctx.data_dir)}
    model_path = ctx.state.get("model_path")
    if model_path is not None:
        overrides["strategy_params.model_path"] = str(model_path)
    start = ctx.state.get("backtest_start")
    if start is not None:
        # The config takes whole days: round up so no bar the model saw is traded.
        day = start.date() if start == start.normalize() else (start + pd.Timedelta(days=1)).date()
        overrides["data.start_date"] = day.isoformat()
    config = override_config(load_config(demo_config_path()), overrides)
    backtester = Backtester(config)
    result = backtester.run()
    using = f"model {model_path}" if model_path else "technical signals only"
    ctx.echo(
        f"  {config.trading.strategy} on {', '.join(config.trading.symbols)} "
        f"{config.trading.timeframes[0]} ({using}), {result['path']} path"
    )
    ctx.echo(metrics_table(backtester.calculate_metrics()))
    out = ctx.workdir / "backtest"
    backtester.save_results(str(out))
    report = out / "report.html"
    backtester.plot_results(str(report))
    ctx.echo(f"  report: {report.resolve()}")
    ctx.state["backtest_report"] = report


#: The dataset the demo's model learns from, and the share of it the saved model sees.
DEMO_DATASET = ("BTCUSDT", "1h")
DEMO_TRAIN_SHARE = 0.7


def step_train_model(ctx: DemoContext) -> None:
    """Walk-forward evaluate the GBM on the shipped BTC/USDT 1h candles, then train the model
    the backtest will use on the first :data:`DEMO_TRAIN_SHARE` of them only.

    Leaves in ``ctx.state``: ``model_path`` (the model folder), ``model_report`` (the
    walk-forward report) and ``backtest_start`` (the first candle the saved model has not
    seen, labels included): a backtest of the model from there on is out of sample.
    """
    from btb.cli.train_cmd import train_and_report

    symbol, timeframe = DEMO_DATASET
    frame = ctx.store.read(SAMPLE_EXCHANGE, symbol, timeframe)
    cut = int(len(frame) * DEMO_TRAIN_SHARE)
    target, report = train_and_report(
        frame,
        f"{symbol}_{timeframe}",
        "gbm",
        {},
        {"n_folds": 5},
        ctx.workdir / "models",
        lambda line: ctx.echo(f"  {line}"),
        show_progress=False,
        final_frame=frame.iloc[:cut],
    )
    ctx.state["model_path"] = target
    ctx.state["model_report"] = report
    ctx.state["backtest_start"] = frame.index[cut]
    ctx.echo(f"  report: {target / 'report.html'}")
    ctx.echo(f"  the saved model has seen candles before {frame.index[cut]:%Y-%m-%d %H:%M} UTC")


DemoStep = tuple[str, Callable[[DemoContext], None]]

#: The demo, in order. Append ``(title, function)`` to extend it.
STEPS: list[DemoStep] = [
    ("Import the shipped sample candles", step_import_sample),
    ("Data summary", step_data_summary),
    ("Data check", step_data_check),
    ("Train the ML model (walk-forward)", step_train_model),
    ("Backtest", step_backtest),
]


@click.command("demo")
@click.option(
    "--workdir",
    default="demo_out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the demo writes into (created if missing).",
)
def demo(workdir: Path) -> None:
    """Run btb end to end on the shipped sample data (offline, seconds)."""
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(workdir=workdir, echo=click.echo)
    started = time.perf_counter()
    for number, (title, step) in enumerate(STEPS, start=1):
        click.echo(f"[{number}/{len(STEPS)}] {title}")
        step(ctx)
    click.echo(f"demo finished in {time.perf_counter() - started:.1f}s; output in {workdir}")
