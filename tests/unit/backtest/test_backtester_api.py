"""Backtester (seed 000 API): config, data loading, path choice, errors."""

from __future__ import annotations

import pandas as pd
import pytest

from btb.backtest.engine import Backtester
from btb.data.store import OHLCVStore
from btb.errors import ConfigError, DataError, StateError

from .conftest import backtest_config


def test_loads_data_from_the_store_and_runs_the_fast_path(btc_1h, tmp_path) -> None:
    OHLCVStore(tmp_path).write("binance", "BTCUSDT", "1h", btc_1h)
    cfg = backtest_config()
    cfg["data"] = {"data_dir": str(tmp_path), "exchange": "binance", "start_date": "2024-03-01"}
    bt = Backtester(cfg)
    assert bt.data["BTCUSDT"].index[0] == pd.Timestamp("2024-03-01", tz="UTC")
    assert bt.chosen_path() == "fast"
    results = bt.run()
    assert results["path"] == "fast"
    assert set(results) >= {"trades", "equity", "fills", "metrics"}
    assert len(results["equity"]) == len(bt.data["BTCUSDT"])
    assert results["metrics"]["trade_count"] == len(results["trades"]) > 0
    assert bt.calculate_metrics()["final_equity"] == pytest.approx(results["equity"].iloc[-1])


def test_fast_and_event_paths_agree_through_the_backtester(btc_1h) -> None:
    fast = Backtester(backtest_config(), {"BTCUSDT": btc_1h}).run()
    event = Backtester(backtest_config(), {"BTCUSDT": btc_1h}, path="event").run()
    cols = ["entry_time", "exit_time", "entry_price", "exit_price", "quantity", "exit_reason"]
    pd.testing.assert_frame_equal(fast["trades"][cols], event["trades"][cols])
    pd.testing.assert_series_equal(fast["equity"], event["equity"], rtol=1e-9)


def test_several_symbols_need_the_event_path(btc_1h) -> None:
    cfg = backtest_config()
    cfg["trading"]["symbols"] = ["BTCUSDT", "ETHUSDT"]  # type: ignore[index]
    data = {"BTCUSDT": btc_1h, "ETHUSDT_1h": btc_1h * 0.05}
    assert Backtester(cfg, data).chosen_path() == "event"
    with pytest.raises(ConfigError, match="fast path cannot"):
        Backtester(cfg, data, path="fast").chosen_path()


def test_config_errors_name_the_key(btc_1h) -> None:
    cfg = backtest_config()
    cfg["trading"]["leverage"] = 3  # type: ignore[index]
    with pytest.raises(ConfigError) as err:
        Backtester(cfg, {"BTCUSDT": btc_1h})
    assert err.value.key_path == "trading.leverage"
    cfg = backtest_config()
    cfg["strategy_params"] = {"fast": 30, "slow": 20}
    with pytest.raises(ConfigError, match=r"strategy_params\.fast"):
        Backtester(cfg, {"BTCUSDT": btc_1h})
    cfg = backtest_config()
    cfg["trading"]["strategy"] = "no_such_strategy"  # type: ignore[index]
    with pytest.raises(ValueError, match="Unknown strategy"):
        Backtester(cfg, {"BTCUSDT": btc_1h})


def test_missing_data_and_results_before_run(btc_1h) -> None:
    with pytest.raises(DataError, match="BTCUSDT 1h"):
        Backtester(backtest_config(), {"ETHUSDT": btc_1h})
    bt = Backtester(backtest_config(), {"BTCUSDT": btc_1h})
    with pytest.raises(StateError):
        bt.calculate_metrics()
