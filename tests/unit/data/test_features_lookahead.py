"""Look-ahead tests: every feature's value at row t must not change when rows after t exist.

Runs :func:`btb.data.features.find_lookahead` on real Binance BTC/USDT candles (1h and 5m) at
seeded random cut points plus edge cuts inside the warm-up, and compares every row <= cut. The
comparison is exact (rtol=0): every kernel runs forward through the data in a fixed order, so the
prefix and the whole frame give bit-identical values; any difference at all is a dependency on
later rows. The checker itself is proven to catch the usual leaks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from btb.data.features import (
    FEATURE_NAMES,
    WARMUP_ROWS,
    FeatureEngineering,
    LeakReport,
    compute_features,
    find_lookahead,
)
from btb.errors import DataError

DATASETS = ["BTC_USDT-1h", "BTC_USDT-5m"]
EDGE_CUTS = [0, 1, 5, 13, 19, 33, WARMUP_ROWS - 1, WARMUP_ROWS, WARMUP_ROWS + 1]


def read_ohlcv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    index = pd.to_datetime(frame.pop("timestamp"), unit="ms", utc=True)
    frame.index = pd.DatetimeIndex(index, name="timestamp")
    return frame.astype("float64")


def random_cuts(n: int, seed: int, k: int = 6) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(int(c) for c in rng.integers(WARMUP_ROWS + 1, n - 1, size=k))


class Checked(NamedTuple):
    cuts: list[int]
    reports: list[LeakReport]
    full: pd.DataFrame


@pytest.fixture(scope="module", params=DATASETS)
def checked(request: pytest.FixtureRequest, ohlcv_dir: Path) -> Checked:
    data = read_ohlcv(ohlcv_dir / "binance_spot" / f"{request.param}.csv.gz")
    cuts = random_cuts(len(data), seed=20240906)
    reports = find_lookahead(compute_features, data, EDGE_CUTS + cuts, rtol=0.0, atol=0.0)
    return Checked(cuts, reports, compute_features(data))


@pytest.mark.parametrize("feature", FEATURE_NAMES)
def test_feature_has_no_lookahead(checked: Checked, feature: str) -> None:
    reports = [r for r in checked.reports if r.column == feature]
    assert not reports, "\n".join(str(r) for r in reports)
    # The comparison is only meaningful where the feature has values: at every random cut it does.
    assert np.isfinite(checked.full[feature].to_numpy()[checked.cuts]).all()


def test_no_leak_reports_for_any_column(checked: Checked) -> None:
    assert checked.reports == []


def test_seed_api_path_has_no_lookahead(ohlcv_dir: Path) -> None:
    data = read_ohlcv(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz").iloc[:1500]
    fe = FeatureEngineering()

    def seed_path(frame: pd.DataFrame) -> pd.DataFrame:
        return fe.add_temporal_features(fe.add_technical_indicators(frame))

    assert find_lookahead(seed_path, data, [60, 700, 1200], rtol=0.0) == []


# --- the checker catches real leaks -------------------------------------------------------------


@pytest.fixture(scope="module")
def small(ohlcv_dir: Path) -> pd.DataFrame:
    return read_ohlcv(ohlcv_dir / "binance_spot" / "BTC_USDT-1h.csv.gz").iloc[:600]


def with_extra(
    column: str, make: Callable[[pd.DataFrame], pd.Series]
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def compute(frame: pd.DataFrame) -> pd.DataFrame:
        out = compute_features(frame)
        out[column] = make(frame)
        return out

    return compute


def test_next_close_leak_is_caught_at_the_cut_row(small: pd.DataFrame) -> None:
    compute = with_extra("leak", lambda f: f["close"].shift(-1))
    reports = find_lookahead(compute, small, [100, 400])
    assert [(r.column, r.cut, r.row, r.n_rows) for r in reports] == [
        ("leak", 100, 100, 1),
        ("leak", 400, 400, 1),
    ]
    first = reports[0]
    assert isinstance(first, LeakReport)
    assert np.isnan(first.prefix_value)
    assert first.full_value == small["close"].iloc[101]
    assert first.timestamp == small.index[100]
    assert "leak" in str(first)


def test_centered_window_leak_is_caught(small: pd.DataFrame) -> None:
    compute = with_extra("centered", lambda f: f["close"].rolling(5, center=True).mean())
    reports = find_lookahead(compute, small, [300])
    assert [(r.column, r.row, r.n_rows) for r in reports] == [("centered", 299, 2)]


def test_whole_frame_normalisation_leak_is_caught(small: pd.DataFrame) -> None:
    compute = with_extra("zscore", lambda f: (f["close"] - f["close"].mean()) / f["close"].std())
    reports = find_lookahead(compute, small, [250])
    assert len(reports) == 1
    assert reports[0].row == 0
    assert reports[0].n_rows == 251


def test_backfill_leak_is_caught(small: pd.DataFrame) -> None:
    compute = with_extra("bfilled", lambda f: f["close"].where(np.arange(len(f)) % 10 == 0).bfill())
    reports = find_lookahead(compute, small, [205])
    assert [(r.column, r.row) for r in reports] == [("bfilled", 201)]


def test_column_that_appears_only_with_future_rows_is_reported(small: pd.DataFrame) -> None:
    def compute(frame: pd.DataFrame) -> pd.DataFrame:
        out = compute_features(frame)
        if len(frame) == len(small):
            out["late"] = 1.0
        return out

    reports = find_lookahead(compute, small, [100])
    assert [r.column for r in reports] == ["late"]


def test_tolerance_absorbs_rounding_noise_but_not_more(small: pd.DataFrame) -> None:
    def noisy(frame: pd.DataFrame) -> pd.DataFrame:
        # A length-dependent relative error of 1e-12, like a pairwise sum would produce.
        return pd.DataFrame({"x": frame["close"] * (1.0 + 1e-12 * (len(frame) % 2))})

    assert find_lookahead(noisy, small, [100]) == []  # default rtol 1e-9
    assert len(find_lookahead(noisy, small, [100], rtol=0.0)) == 1


def test_cut_outside_the_frame_is_rejected(small: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="cut point 600"):
        find_lookahead(compute_features, small, [600])
