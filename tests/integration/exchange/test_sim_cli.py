"""``btb sim`` as a user runs it: a process serving on loopback until stopped."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path


def _btb(*args: str) -> list[str]:
    return [sys.executable, "-m", "btb.cli.main", *args]


def test_btb_sim_serves_the_replay_on_a_free_loopback_port(ohlcv_dir: Path) -> None:
    cmd = _btb(
        "sim",
        "--port",
        "0",
        "--speed",
        "0",
        "--data",
        str(ohlcv_dir / "binance_spot"),
        "--timeframe",
        "1h",
        "--symbols",
        "ETHUSDT",
        "--start",
        "2024-02-01T00:00",
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "btb sim: http://127.0.0.1:PORT (...)"
        url = first.split()[2]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/_sim/state", timeout=10) as resp:
            state = json.load(resp)
        assert state["symbols"] == ["ETHUSDT"] and state["stepped"] is True
        assert state["time"] == 1706745600000  # 2024-02-01 00:00 UTC
        kline_url = url + "/fapi/v1/klines?symbol=ETHUSDT&interval=1h&limit=1"
        with urllib.request.urlopen(kline_url, timeout=10) as resp:
            [row] = json.load(resp)
        assert row[0] == 1706745600000  # the forming candle
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_btb_sim_refuses_to_listen_beyond_loopback() -> None:
    result = subprocess.run(
        _btb("sim", "--host", "0.0.0.0"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "binds loopback only" in result.stderr and "Traceback" not in result.stderr
