"""Shared pytest fixtures: paths to the shared real data and the shipped sample."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# CI clones the repo with shared/ beside it; BTB_SHARED_DATA points elsewhere when needed.
SHARED_DATA = Path(os.environ.get("BTB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
OHLCV_DIR = SHARED_DATA / "ohlcv"
FIXTURES_DIR = SHARED_DATA / "exchange_fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's shared third-party data folder (../shared/data); it must exist."""
    assert SHARED_DATA.is_dir(), f"shared data not found at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def ohlcv_dir(shared_data: Path) -> Path:
    return shared_data / "ohlcv"


@pytest.fixture(scope="session")
def fixtures_dir(shared_data: Path) -> Path:
    return shared_data / "exchange_fixtures"
