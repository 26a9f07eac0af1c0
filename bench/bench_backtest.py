"""Backtest benchmarks: ema_cross 9/21 (SL 2 %, TP 4 %, fee 0.1 %, 10,000 USDT per trade,
spot, long only) on seeded synthetic 1-minute candles (:func:`bench.synthetic.make_ohlcv`).

Figures:

* ``process_s`` / ``process_peak_rss_mb``: wall time and peak RSS of the whole process
  ``btb backtest -c bench_config.yaml`` (Python start, imports, config, Parquet load,
  signals, fast path, metrics, printed table), after one untimed warm-up run that fills the
  numba cache. Goal: <= 1.5 s, <= 300 MB.
* ``call_s``: ``Backtester.run()`` in a warm process (signals + compiled loop + equity +
  metrics), best of 3. Goal: <= 0.2 s. ``first_call_s`` is the same call in a fresh process
  (it includes loading numba's cached machine code).
* ``event_path_s``: the event-driven engine on the same data. Goal: <= 3 s.
* ``trades``: trade count (both paths must agree; ``paths_agree`` says whether they do).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
exchange: {{name: sim, testnet: true}}
trading: {{symbols: [BTCUSDT], timeframes: [1m], strategy: ema_cross, max_open_positions: 1}}
strategy_params: {{fast: 9, slow: 21, stop_loss: 0.02, take_profit: 0.04}}
risk: {{}}
data: {{data_dir: {data_dir}, exchange: binance}}
backtest:
  initial_capital: 1000000
  sizing: fixed_notional
  fixed_notional: 10000
  taker_fee: 0.001
  maker_fee: 0.001
  market_type: spot
"""


def _btb() -> list[str]:
    exe = Path(sys.executable).with_name("btb")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "btb.cli.main"]


def _measured(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of ``cmd``, output discarded.

    Run from a small helper process: Linux reports a child's peak RSS as at least the RSS of
    the process that spawned it (Python spawns with vfork, which shares the parent's memory
    until exec), and this process holds the benchmark's data: measured from here, even
    ``/bin/true`` would "use" a few hundred MB.
    """
    with tempfile.TemporaryFile() as err:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, *cmd], stdout=subprocess.PIPE, stderr=err, text=True
        )
        err.seek(0)
        message = err.read().decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {message[-2000:]}")
    wall, rss_kb = done.stdout.split()
    return float(wall), int(rss_kb) / 1024  # ru_maxrss is in kB on Linux


_MEASURE = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves to get its rusage
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
print(wall, usage.ru_maxrss)
sys.exit(code)
"""


def run(n_bars: int = 1_000_000) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bench.synthetic import make_ohlcv
    from btb.backtest.engine import Backtester
    from btb.data.store import OHLCVStore
    from btb.utils.config import load_config

    work = Path(tempfile.mkdtemp(prefix="btb-bench-backtest-"))
    try:
        OHLCVStore(work / "data").write("binance", "BTCUSDT", "1m", make_ohlcv(n_bars, "1min", 42))
        cfg_path = work / "bench_config.yaml"
        cfg_path.write_text(CONFIG.format(data_dir=work / "data"))
        cmd = [*_btb(), "backtest", "-c", str(cfg_path)]
        subprocess.run(cmd, check=True, capture_output=True)  # warm-up: numba cache
        process_s, process_rss = min(_measured(cmd) for _ in range(3))

        first = subprocess.run(
            [sys.executable, "-c", _FIRST_CALL, str(cfg_path)],
            check=True,
            capture_output=True,
            text=True,
        )
        first_call_s = float(first.stdout.strip().splitlines()[-1])

        config = load_config(cfg_path)
        bt = Backtester(config)
        fast = bt.run()
        calls = []
        for _ in range(3):
            start = time.perf_counter()
            bt.run()
            calls.append(time.perf_counter() - start)
        event_bt = Backtester(config, data=bt.data, path="event")
        start = time.perf_counter()
        event = event_bt.run()
        event_s = time.perf_counter() - start
        cols = ["entry_time", "exit_time", "entry_price", "exit_price", "exit_reason"]
        agree = fast["trades"][cols].equals(event["trades"][cols])
        return {
            "n_bars": n_bars,
            "process_s": round(process_s, 3),
            "process_peak_rss_mb": round(process_rss, 1),
            "call_s": round(min(calls), 4),
            "first_call_s": round(first_call_s, 3),
            "event_path_s": round(event_s, 3),
            "event_bars_per_s": round(n_bars / event_s),
            "trades": len(fast["trades"]),
            "paths_agree": bool(agree),
            "goals": {
                "process_s": 1.5,
                "call_s": 0.2,
                "process_peak_rss_mb": 300,
                "event_path_s": 3.0,
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


_FIRST_CALL = """
import sys, time
from btb.backtest.engine import Backtester
from btb.utils.config import load_config
bt = Backtester(load_config(sys.argv[1]))
start = time.perf_counter()
bt.run()
print(time.perf_counter() - start)
"""


if __name__ == "__main__":
    import json

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(json.dumps(run(n), indent=2))
