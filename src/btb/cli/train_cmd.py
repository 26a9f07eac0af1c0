"""``btb train``: evaluate a model by purged walk-forward, train it on all data, save it.

    btb train --data BTCUSDT_1h --model gbm --output models/
    btb train --data candles.csv.gz --model transformer --config model.yaml

``--data`` is an OHLCV file (CSV/CSV.GZ, freqtrade feather or JSON) or a dataset key
``SYMBOL_timeframe`` read from the local store (``--data-dir``, ``--exchange``). ``--config`` is
a YAML/JSON mapping of model settings (e.g. ``horizon``, ``n_estimators``) with an optional
``walk_forward`` section (``n_folds``, ``mode``, ``train_size``, ``test_size``, ``purge``,
``embargo``). Written to ``<output>/<dataset>_<model>/``: the model files and manifest,
``report.json`` and ``report.html`` (accuracy by confidence bucket). Progress bars (per fold,
per epoch) go to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from btb.errors import ConfigError, DataError, ModelError

if TYPE_CHECKING:
    from btb.models.base import SignalModel
    from btb.models.evaluation import WalkForwardReport


def read_model_config(path: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model settings, walk-forward settings) from a YAML/JSON file; ({}, {}) without one."""
    if not path:
        return {}, {}
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read model config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"model config {path} is not valid YAML/JSON: {exc}") from None
    if loaded is None:
        return {}, {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"model config {path} must be a mapping of settings")
    walk = loaded.pop("walk_forward", None) or {}
    if not isinstance(walk, dict):
        raise ConfigError("must be a mapping", key_path="walk_forward")
    return loaded, walk


def load_training_data(
    data: str, data_dir: str | None, exchange: str | None
) -> tuple[pd.DataFrame, str]:
    """(candles, dataset name) from a file path or a ``SYMBOL_timeframe`` store key."""
    from btb.data.ingest import parse_dataset_name, read_ohlcv_file
    from btb.data.loader import DEFAULT_DATA_DIR, DEFAULT_EXCHANGE, DataLoader

    path = Path(data)
    if path.is_file():
        frame, _ = read_ohlcv_file(path)
        name = parse_dataset_name(path)
        label = f"{name.symbol}_{name.timeframe}" if name else path.name.split(".")[0]
        return frame, label
    symbol, sep, timeframe = data.rpartition("_")
    if not sep or not symbol or not timeframe:
        raise DataError(f"--data {data!r} is neither a file nor a SYMBOL_timeframe key")
    loader = DataLoader(
        {"data_dir": data_dir or DEFAULT_DATA_DIR, "exchange": exchange or DEFAULT_EXCHANGE}
    )
    return loader.load(symbol, timeframe), f"{symbol.upper()}_{timeframe}"


def _bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, disable=not enabled)


def _progress(
    desc: str, enabled: bool
) -> tuple[Callable[[int, int, dict[str, float]], None], list[Any]]:
    """A progress callback driving a tqdm bar on stderr (re-created when a new run starts)."""
    bars: list[Any] = []

    def update(step: int, total: int, figures: dict[str, float]) -> None:
        if step == 1 or not bars:
            if bars:
                bars.pop().close()
            bars.append(_bar(total, desc, enabled))
        bars[-1].set_postfix({k: f"{v:.4f}" for k, v in figures.items()}, refresh=False)
        bars[-1].update(1)
        if step == total:
            bars.pop().close()

    return update, bars


def check_training_setup(
    model_name: str, model_config: dict[str, Any], walk_config: dict[str, Any]
) -> None:
    """ConfigError for an unknown model type or bad model / walk-forward settings (cheap:
    run before loading data or training anything)."""
    from btb.models import SignalModel, get_model_class
    from btb.models.evaluation import WalkForwardConfig

    cls = get_model_class(model_name)
    model = cls(model_config)
    if isinstance(model, SignalModel):
        WalkForwardConfig.from_dict(walk_config).check(model.horizon)


def check_output(target: Path) -> None:
    """ModelError when the model could not be saved at ``target`` (checked before training,
    which can take a long time, rather than after)."""
    from btb.models.artifacts import check_replaceable

    existing = next((p for p in target.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ModelError(f"{existing} is not a folder; cannot save the model under it")
    check_replaceable(target)


def train_and_report(
    frame: pd.DataFrame,
    dataset: str,
    model_name: str,
    model_config: dict[str, Any],
    walk_config: dict[str, Any],
    output: Path,
    echo: Callable[[str], None],
    show_progress: bool = True,
    final_frame: pd.DataFrame | None = None,
) -> tuple[Path, WalkForwardReport | None]:
    """Walk-forward evaluate on ``frame``, train the saved model on ``final_frame`` (default:
    all of ``frame``), save model + report.json + report.html."""
    from btb.models import SignalModel, get_model_class

    cls = get_model_class(model_name)
    target = output / f"{dataset}_{model_name}"
    check_output(target)
    if not issubclass(cls, SignalModel):  # a user BaseModel: no forecast to score
        plain = cls(model_config)
        echo(json.dumps(plain.train(frame), default=str))
        plain.save(str(target))
        return target, None
    final = frame if final_frame is None else final_frame
    model, report, metrics = _evaluate_and_fit(
        cls, model_config, walk_config, frame, final, echo, show_progress
    )
    model.evaluation = {"setup": report.setup, **report.summary()}
    model.save(target)
    write_reports(report, target, f"btb walk-forward report: {dataset} {model_name}")
    echo(
        f"final model trained on {len(final)} rows up to {final.index[-1]} (held-out tail: "
        f"direction {metrics['direction_accuracy']:.3f}, RMSE {metrics['rmse']:.6f}); "
        f"saved to {target}"
    )
    return target, report


def _evaluate_and_fit(
    cls: type[SignalModel],
    model_config: dict[str, Any],
    walk_config: dict[str, Any],
    frame: pd.DataFrame,
    final: pd.DataFrame,
    echo: Callable[[str], None],
    show_progress: bool,
) -> tuple[SignalModel, WalkForwardReport, dict[str, Any]]:
    """Walk forward on ``frame`` (report echoed), then fit the model to keep on ``final``."""
    from btb.models import forward_returns
    from btb.models.evaluation import format_report, walk_forward

    fold_cb, fold_bars = _progress("walk-forward folds", show_progress)
    epoch_cb, epoch_bars = _progress("epochs", show_progress)
    try:
        report = walk_forward(
            lambda: cls(model_config), frame, walk_config, progress=fold_cb, fit_progress=epoch_cb
        )
        echo(format_report(report))
        model = cls(model_config)
        target_returns = forward_returns(final["close"], model.horizon)
        metrics = model.fit_features(
            model.create_features(final), target_returns, progress=epoch_cb
        )
    finally:
        for bar in fold_bars + epoch_bars:  # early stopping can leave one open
            bar.close()
    return model, report, metrics


def write_reports(report: WalkForwardReport, folder: Path, title: str) -> None:
    """``report.json`` and ``report.html`` (self-contained) into ``folder``."""
    from btb.models.report import render_html

    as_dict = report.to_dict()
    (folder / "report.json").write_text(json.dumps(as_dict, indent=2) + "\n", encoding="utf-8")
    (folder / "report.html").write_text(render_html(as_dict, title), encoding="utf-8")


@click.command("train")
@click.option("--data", "-d", required=True, help="OHLCV file, or SYMBOL_timeframe in the store.")
@click.option("--model", "-m", required=True, help="Model type: gbm, transformer or registered.")
@click.option("--config", "-c", default=None, help="Path to model configuration (YAML/JSON).")
@click.option(
    "--output", "-o", default="models/", show_default=True, help="Directory to save trained model."
)
@click.option("--data-dir", default=None, help="Store folder for SYMBOL_timeframe data.")
@click.option("--exchange", default=None, help="Exchange folder in the store (default binance).")
@click.option("--folds", type=int, default=None, help="Walk-forward folds (overrides config).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def train(
    data: str,
    model: str,
    config: str | None,
    output: str,
    data_dir: str | None,
    exchange: str | None,
    folds: int | None,
    quiet: bool,
) -> None:
    """Train a model with the specified configuration."""
    model_config, walk_config = read_model_config(config)
    if folds is not None:
        walk_config["n_folds"] = folds
    check_training_setup(model, model_config, walk_config)
    frame, dataset = load_training_data(data, data_dir, exchange)
    click.echo(f"training {model} on {dataset}: {len(frame)} candles")
    target, _ = train_and_report(
        frame, dataset, model, model_config, walk_config, Path(output), click.echo, not quiet
    )
    click.echo(f"report: {target / 'report.html'}")
