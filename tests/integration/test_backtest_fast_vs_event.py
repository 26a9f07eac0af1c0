"""The compiled fast path yields exactly the event path's trades on real data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from btb.backtest.engine import Backtester

from .backtest_data import config, read_ohlcv

EXACT = [
    "trade_id",
    "side",
    "quantity",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "exit_reason",
    "bars",
]
CLOSE = ["gross_pnl", "fees", "net_pnl"]

CASES = [
    pytest.param(
        "BTC",
        {"fast": 9, "slow": 21, "stop_loss": 0.01, "take_profit": 0.02, "allow_short": True},
        {"market_type": "linear"},
        id="btc_long_short_linear",
    ),
    # 50x: liquidation 1/50 - 0.5 % = 1.5 % away, nearer than the 3 % stop
    pytest.param(
        "ETH",
        {"fast": 12, "slow": 26, "stop_loss": 0.03, "take_profit": 0.012, "allow_short": True},
        {
            "market_type": "linear",
            "leverage": 50,
            "slippage_bps": 3.0,
            "maker_fee": 0.0002,
            "taker_fee": 0.0005,
        },
        id="eth_leveraged_slippage",
    ),
    pytest.param(
        "BTC",
        {"fast": 9, "slow": 21, "stop_loss": 0.005, "take_profit": 0.01},
        {"sizing": "risk_per_trade", "initial_capital": 10_000.0},
        id="btc_spot_risk_sizing",
    ),
    pytest.param(
        "SOL",
        {"fast": 5, "slow": 40, "stop_loss": 0.03, "take_profit": 0.05},
        {"sizing": "equity_fraction", "equity_fraction": 0.5, "initial_capital": 5_000.0},
        id="sol_spot_equity_fraction",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("base", "params", "backtest"), CASES)
def test_fast_path_equals_event_path(ohlcv_dir: Path, base, params, backtest) -> None:
    df = read_ohlcv(ohlcv_dir / "binance_spot" / f"{base}_USDT-5m.csv.gz")
    symbol = f"{base}USDT"
    cfg = config(symbol, "5m", params, **dict(backtest))
    fast = Backtester(cfg, {symbol: df}, path="fast").run()
    event = Backtester(cfg, {symbol: df}, path="event").run()
    a, b = fast["trades"], event["trades"]
    assert len(a) > 300
    reasons = set(a["exit_reason"])
    leveraged = backtest.get("leverage", 1) >= 50
    want = {"signal", "take_profit", "liquidation" if leveraged else "stop_loss"}
    assert want <= reasons
    if params.get("allow_short"):
        assert set(a["side"]) == {"long", "short"}
    pd.testing.assert_frame_equal(a[EXACT], b[EXACT])
    pd.testing.assert_frame_equal(a[CLOSE], b[CLOSE], rtol=1e-9, atol=1e-9)
    pd.testing.assert_series_equal(fast["equity"], event["equity"], rtol=1e-9)
