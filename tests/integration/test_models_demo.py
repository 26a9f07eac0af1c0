"""The demo's training step on the shipped sample: walk-forward report, model for the backtest."""

from __future__ import annotations

from pathlib import Path

from btb.cli.demo_cmd import DemoContext, step_train_model
from btb.data.sample import import_sample
from btb.models import load_predictor


def test_demo_step_trains_reports_and_leaves_a_model(tmp_path: Path) -> None:
    lines: list[str] = []
    ctx = DemoContext(workdir=tmp_path, echo=lines.append)
    import_sample(ctx.data_dir)
    step_train_model(ctx)
    text = "\n".join(lines)
    assert "walk-forward: gbm, horizon 1 bar(s), 5 expanding folds" in text
    assert "always up" in text and "accuracy by confidence bucket" in text
    path = ctx.state["model_path"]
    assert path == tmp_path / "models" / "BTCUSDT_1h_gbm"
    assert (path / "report.html").is_file() and (path / "report.json").is_file()
    model = load_predictor(path)
    candles = ctx.store.read("binance", "BTCUSDT", "1h")
    # The saved model trained on the first 70 % only; the backtest starts after it.
    start = ctx.state["backtest_start"]
    assert start == candles.index[int(len(candles) * 0.7)]
    assert model.training_window["end"] < start.isoformat()
    _, confidence = model.predict(candles)
    assert 0.0 <= confidence <= 1.0
