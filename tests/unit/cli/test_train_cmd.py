"""``btb train``: file or store data, model config with a walk-forward section, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from btb.cli.main import cli
from btb.data.sample import import_sample, sample_path
from btb.models import load_predictor

FAST = "n_estimators: 20\nnum_threads: 1\nhorizon: 2\nwalk_forward:\n  n_folds: 3\n"


@pytest.fixture()
def config(tmp_path: Path) -> str:
    path = tmp_path / "model.yaml"
    path.write_text(FAST)
    return str(path)


def test_train_from_a_file_writes_model_and_reports(
    ohlcv_dir: Path, config: str, tmp_path: Path
) -> None:
    data = ohlcv_dir / "binance_spot" / "SOL_USDT-1h.csv.gz"
    out = tmp_path / "models"
    result = CliRunner().invoke(
        cli,
        ["train", "-d", str(data), "-m", "gbm", "-c", config, "-o", str(out), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    folder = out / "SOLUSDT_1h_gbm"
    assert "walk-forward: gbm, horizon 2 bar(s), 3 expanding folds" in result.output
    assert "always up" in result.output and f"saved to {folder}" in result.output
    report = json.loads((folder / "report.json").read_text())
    assert report["setup"]["n_folds"] == 3 and report["setup"]["purge"] == 2
    assert len(report["folds"]) == 3 and report["buckets"]
    html = (folder / "report.html").read_text()
    assert "Direction accuracy by confidence bucket" in html and "<script" in html
    # plotly.js is inlined (megabytes), not fetched: the page works offline.
    assert '<script src="http' not in html and len(html) > 1_000_000
    model = load_predictor(folder)
    assert model.horizon == 2 and model.config["n_estimators"] == 20
    # The manifest carries the walk-forward figures next to the held-out ones.
    assert model.evaluation["n_folds"] == 3
    assert model.evaluation["direction_accuracy"] == report["model"]


def test_train_from_the_store_by_key(tmp_path: Path, config: str) -> None:
    store = tmp_path / "data"
    import_sample(store)
    out = tmp_path / "models"
    result = CliRunner().invoke(
        cli,
        [
            "train", "-d", "ETHUSDT_1h", "-m", "gbm", "-c", config, "-o", str(out),
            "--data-dir", str(store), "--folds", "2", "--quiet",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((out / "ETHUSDT_1h_gbm" / "report.json").read_text())["setup"]["n_folds"] == 2
    assert sample_path("ETHUSDT", "1h").is_file()


def test_user_errors_are_one_line(tmp_path: Path, ohlcv_dir: Path) -> None:
    data = str(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz")
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_trees: 5\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "-d", data, "-m", "gbm", "-c", str(bad)])
    assert result.exit_code == 2 and "model.n_trees: unknown setting" in result.output
    result = runner.invoke(cli, ["train", "-d", data, "-m", "forest"])
    assert result.exit_code == 2 and "unknown model 'forest'" in result.output
    result = runner.invoke(
        cli, ["train", "-d", "BTCUSDT_1h", "-m", "gbm", "--data-dir", str(tmp_path / "empty")]
    )
    assert result.exit_code == 2 and "no BTCUSDT 1h" in result.output
    purge = tmp_path / "purge.yaml"
    purge.write_text("horizon: 4\nwalk_forward: {purge: 1}\n")
    result = runner.invoke(cli, ["train", "-d", data, "-m", "gbm", "-c", str(purge)])
    assert result.exit_code == 2 and "walk_forward.purge: must be at least" in result.output


def test_bad_walk_forward_values_are_one_line(tmp_path: Path, ohlcv_dir: Path) -> None:
    data = str(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz")
    runner = CliRunner()
    cases = {
        "walk_forward: {buckets: [low, high]}\n": "walk_forward.buckets: must be a list",
        "walk_forward: {buckets: 5}\n": "walk_forward.buckets: must be a list",
        "walk_forward: {confidence_threshold: high}\n": "walk_forward.confidence_threshold",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        result = runner.invoke(cli, ["train", "-d", data, "-m", "gbm", "-c", str(bad)])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
        # Settings are checked before the candles are even read.
        assert "training gbm" not in result.output


def test_an_unusable_output_fails_before_training(tmp_path: Path, ohlcv_dir: Path) -> None:
    data = str(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz")
    photos = tmp_path / "out" / "BTCUSDT_1h_gbm"
    photos.mkdir(parents=True)
    (photos / "cat.jpg").write_bytes(b"\xff\xd8")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    runner = CliRunner()
    for output, message in ((tmp_path / "out", "is not a btb model folder"), (a_file, "a_file")):
        result = runner.invoke(cli, ["train", "-d", data, "-m", "gbm", "-o", str(output)])
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "walk-forward:" not in result.output  # nothing was trained first
    assert (photos / "cat.jpg").read_bytes() == b"\xff\xd8"
