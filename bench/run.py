"""Run every btb benchmark and write bench/results.json.

Each ``bench/bench_*.py`` module exposes ``run(...) -> dict``: figures with the input size each
ran at. Results carry the date and the machine they came from; a benchmark that fails is
recorded with its error and makes the run exit non-zero, so a broken benchmark is never
mistaken for a fast one. Speed goals are compared here, never in unit tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: benchmark modules in the order they run (the cheap ones first).
BENCHMARKS = [
    "bench_features",
    "bench_backtest",
    "bench_database",
    "bench_exchange",
    "bench_models",
]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    mem_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0]
        mem_kb = int(first.split()[1])
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--only", nargs="*", help="benchmark module names to run")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "benchmarks": {},
    }
    failed = False
    for name in args.only or BENCHMARKS:
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"[bench] {name}: not present, skipped", flush=True)
            continue
        print(f"[bench] {name} ...", flush=True)
        start = time.perf_counter()
        try:
            figures = importlib.import_module(f"bench.{name}").run()
        except Exception:
            failed = True
            figures = {"error": traceback.format_exc()}
            print(figures["error"], file=sys.stderr)
        figures["bench_wall_s"] = round(time.perf_counter() - start, 3)
        results["benchmarks"][name] = figures
        print(json.dumps(figures, indent=2, default=str), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"[bench] wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
