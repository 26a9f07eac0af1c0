"""btb benchmarks: run with ``make bench``; results land in bench/results.json."""
