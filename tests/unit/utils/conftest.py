"""Fixtures for the config tests: an environment without btb variables, a temp CWD."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from btb.utils.config import ENV_VARS

MINIMAL_YAML = """\
exchange:
  name: sim
  testnet: true
trading:
  symbols: [BTCUSDT]
  timeframes: [1h]
  strategy: ema_cross
risk: {}
data: {}
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Remove every variable load_config reads and run in an empty temp directory."""
    for name, *_ in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"BTB_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write_config(clean_env: Path) -> Callable[..., Path]:
    """Write YAML text to <tmp>/cfg/config.yaml and return its path."""

    def _write(text: str = MINIMAL_YAML, name: str = "config.yaml") -> Path:
        folder = clean_env / "cfg"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
