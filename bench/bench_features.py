"""Benchmark: all features (btb.data.features) on synthetic 1-minute candles.

Goal (issue 3): every feature on 1,000,000 rows in <= 1.5 s on the 2-core CI machine. TA-Lib and
NumPy run these kernels on one core, so the figure is a single-threaded one.

    .venv/bin/python bench/bench_features.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

try:  # run as bench/bench_features.py (bench/ on sys.path) or imported as bench.bench_features
    from synthetic import make_ohlcv
except ImportError:  # pragma: no cover - depends on how the runner imports us
    from bench.synthetic import make_ohlcv

from btb.data.features import FEATURE_NAMES, FeatureEngineering, compute_features

GOAL_SECONDS_AT_1M = 1.5


def _timed(fn: Any, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def run(n_rows: int = 1_000_000, repeats: int = 3) -> dict[str, Any]:
    """Time :func:`compute_features` (all features) and the seed API path on ``n_rows`` rows."""
    data = make_ohlcv(n_rows, freq="1min", seed=42)
    compute_features(data.iloc[:1_000])  # warm caches and lazy imports outside the timing
    fe = FeatureEngineering()
    times = _timed(lambda: compute_features(data), repeats)
    seed_api = _timed(lambda: fe.add_temporal_features(fe.add_technical_indicators(data)), repeats)
    best = min(times)
    return {
        "name": "features.compute_features",
        "n_rows": n_rows,
        "n_features": len(FEATURE_NAMES),
        "repeats": repeats,
        "seconds": best,
        "seconds_median": statistics.median(times),
        "rows_per_second": n_rows / best,
        "seed_api_seconds": min(seed_api),
        "goal_seconds_at_1m_rows": GOAL_SECONDS_AT_1M,
        "meets_goal": best <= GOAL_SECONDS_AT_1M * max(n_rows, 1) / 1_000_000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.repeats), indent=2))


if __name__ == "__main__":
    main()
