"""The fast path's compiled loop: the ahead-of-time extension and numba's JIT compile one
source (btb.backtest.kernel) to the same numbers, loading the extension needs no numba, and a
build from other sources is never loaded."""

from __future__ import annotations

import importlib.machinery
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btb.backtest import fast
from btb.backtest.engine import Backtester

from .conftest import backtest_config

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # e.g. .cpython-311-x86_64-linux-gnu.so


@pytest.fixture(scope="module")
def extension() -> fast.Kernel:
    kernel = fast.extension_kernel()
    assert kernel is not None, "the fast-path extension could not be built (see the log)"
    return kernel


@pytest.mark.parametrize(
    ("params", "backtest", "leverage"),
    [
        ({"fast": 9, "slow": 21, "allow_short": True}, {"market_type": "linear"}, 20),
        ({"fast": 5, "slow": 30, "stop_loss": 0.01}, {"sizing": "risk_per_trade"}, 1),
    ],
    ids=["linear_short_leverage", "spot_risk_sizing"],
)
def test_extension_and_jit_give_identical_output(
    extension: fast.Kernel,
    btc_1h: pd.DataFrame,
    params: dict[str, object],
    backtest: dict[str, object],
    leverage: int,
) -> None:
    cfg = backtest_config(**backtest)
    cfg["strategy_params"] = params
    cfg["trading"]["leverage"] = leverage  # type: ignore[index]
    bt = Backtester(cfg, {"BTCUSDT": btc_1h})
    args = fast.kernel_args(
        btc_1h, bt.strategy, bt.settings, bt.venue_settings, bt.instruments["BTCUSDT"]
    )
    aot, jit = extension(*args), fast.jit_kernel()(*args)
    assert int(aot[0, 0]) > 20  # trades were made (row 0 counts them)
    np.testing.assert_array_equal(aot, jit)


def test_loading_the_extension_imports_no_numba(extension: fast.Kernel) -> None:
    code = (
        "import sys\n"
        "from btb.backtest.fast import extension_kernel\n"
        "assert extension_kernel() is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_extension_name_follows_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "kernel.py"
    source.write_text("x = 1\n")
    monkeypatch.setattr(fast, "kernel_sources", lambda: [source])
    before = fast.extension_name()
    assert before == fast.extension_name()  # deterministic
    source.write_text("x = 2\n")
    assert fast.extension_name() != before


def test_without_a_compiler_a_stale_build_is_not_loaded_and_the_jit_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from btb.backtest import kernel

    def no_compiler(name: str, folder: Path) -> Path:
        raise OSError("no C compiler")

    monkeypatch.setattr(kernel, "build_extension", no_compiler)
    stale = tmp_path / ("_btb_fast_00000000000000000000" + SUFFIX)
    stale.write_text("a build of other sources")
    assert fast.extension_kernel([tmp_path]) is None
    assert stale.exists()  # left alone: only a successful build replaces old ones

    monkeypatch.setattr(fast, "cache_dirs", lambda: [tmp_path])
    monkeypatch.setattr(fast, "_loaded", None)
    assert fast.load_kernel() is kernel._kernel


def test_rebuilding_removes_builds_of_older_sources(tmp_path: Path) -> None:
    keep = tmp_path / "_btb_fast_new.so"
    old = tmp_path / "_btb_fast_old.so"
    other = tmp_path / "unrelated.so"
    for path in (keep, old, other):
        path.write_text("")
    fast._remove_stale(tmp_path, keep=keep.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [keep.name, other.name]


def test_a_damaged_build_is_replaced(
    extension: fast.Kernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from btb.backtest import kernel

    built: list[Path] = []

    def fake_build(name: str, folder: Path) -> Path:
        # instead of compiling again (seconds), copy the extension the fixture built
        (source,) = [
            p for d in fast.cache_dirs() for p in d.glob(f"{name}.*") if p.is_file() and d != folder
        ]
        target = folder / source.name
        target.write_bytes(source.read_bytes())
        built.append(target)
        return target

    damaged = tmp_path / (fast.extension_name() + SUFFIX)
    damaged.write_text("half a file")
    monkeypatch.setattr(kernel, "build_extension", fake_build)
    loaded = fast.extension_kernel([tmp_path])
    assert built == [damaged] and loaded is not None
