"""A user's strategy file named in the config (``path.py:Class``) is loaded and backtested."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from btb.backtest.engine import Backtester
from btb.data.sample import import_sample
from btb.errors import ConfigError
from btb.utils.config import load_config

USER_FILE = '''
from btb.strategies.ema_cross import EmaCrossStrategy


class SlowCross(EmaCrossStrategy):
    """A user's variant: the same rules with their own default periods."""
'''


def _config(tmp_path: Path, strategy: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "exchange": {"name": "sim", "testnet": True},
                "trading": {"symbols": ["BTCUSDT"], "timeframes": ["1h"], "strategy": strategy},
                "strategy_params": {"fast": 20, "slow": 50},
                "risk": {},
                "data": {"data_dir": str(tmp_path / "data")},
            }
        )
    )
    return path


def test_strategy_file_from_config_is_backtested(tmp_path: Path) -> None:
    import_sample(tmp_path / "data")
    (tmp_path / "user_strats.py").write_text(USER_FILE)
    config = load_config(_config(tmp_path, f"{tmp_path / 'user_strats.py'}:SlowCross"))
    backtester = Backtester(config)
    assert type(backtester.strategy).__name__ == "SlowCross"
    result = backtester.run()
    assert len(result["trades"]) > 0


@pytest.mark.parametrize("bad", ["Ema Cross", "strats.txt:Cls", "strats.py:", "strats.py:1x"])
def test_malformed_strategy_names_are_config_errors(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match=r"trading\.strategy"):
        load_config(_config(tmp_path, bad))
