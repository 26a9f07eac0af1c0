"""btb agrees with a peer: backtesting.py, same data, same strategy, trade for trade.

ema_cross 9/21, long only, next-bar-open entries, stop-loss and take-profit measured from the
entry fill, 0.1 % commission per side, 10,000 USDT per trade, on the shared BTC/USDT 5m
candles; once with SL 2 % / TP 4 % and once as a stress run with SL 0.3 % / TP 0.6 %.

Indicator differences are excluded: both sides use the same EMA arrays (btb's). backtesting.py
needs whole units, so it runs as ``FractionalBacktest`` with a unit of 2**-27 BTC: scaling
prices by a power of two is exact in floating point, so prices compare bit for bit. SL/TP
prices are given to backtesting.py from the next bar's open, which is the entry fill there
(market orders fill at the next open), so both place the same levels.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting import Strategy
from backtesting.lib import FractionalBacktest, crossover

from btb.backtest.engine import Backtester

from .backtest_data import config, read_ohlcv

UNIT = 2.0**-27


@pytest.fixture(scope="module")
def btc_5m(ohlcv_dir: Path) -> pd.DataFrame:
    return read_ohlcv(ohlcv_dir / "binance_spot" / "BTC_USDT-5m.csv.gz")


def peer_trades(df: pd.DataFrame, fast: np.ndarray, slow: np.ndarray, sl: float, tp: float):  # type: ignore[no-untyped-def]
    opens = df["open"].to_numpy()

    class EmaCross(Strategy):
        def init(self) -> None:
            self.f = self.I(lambda: fast, name="fast")
            self.s = self.I(lambda: slow, name="slow")

        def next(self) -> None:
            i = len(self.data) - 1
            if crossover(self.f, self.s):
                if not self.position and i + 1 < len(opens):
                    entry = opens[i + 1] * UNIT  # the next open: where the market order fills
                    size = int(10_000 / self.data.Close[-1])  # in units of 2**-27 BTC
                    self.buy(size=size, sl=entry * (1 - sl), tp=entry * (1 + tp))
            elif crossover(self.s, self.f) and self.position:
                self.position.close()

    data = df.rename(columns=str.capitalize)
    data.index = data.index.tz_convert(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = FractionalBacktest(
            data,
            EmaCross,
            cash=1_000_000,
            commission=0.001,
            trade_on_close=False,
            exclusive_orders=False,
            fractional_unit=UNIT,
            finalize_trades=True,
        )
        stats = bt.run()
    t = stats["_trades"]
    return pd.DataFrame(
        {
            "entry_time": t["EntryTime"].dt.tz_localize("UTC").to_numpy(),
            "exit_time": t["ExitTime"].dt.tz_localize("UTC").to_numpy(),
            "entry_price": t["EntryPrice"].to_numpy(),
            "exit_price": t["ExitPrice"].to_numpy(),
        }
    )


COLS = ["entry_time", "exit_time", "entry_price", "exit_price"]


@pytest.mark.slow
@pytest.mark.parametrize(("sl", "tp", "min_stops"), [(0.02, 0.04, 25), (0.003, 0.006, 900)])
@pytest.mark.parametrize("path", ["fast", "event"])
def test_every_trade_matches_backtesting_py(btc_5m, sl, tp, min_stops, path) -> None:
    params = {"fast": 9, "slow": 21, "stop_loss": sl, "take_profit": tp}
    bt = Backtester(config("BTCUSDT", "5m", params), {"BTCUSDT": btc_5m}, path=path)
    ours = bt.run()["trades"]
    fast, slow = bt.strategy.ema_lines(btc_5m)  # type: ignore[attr-defined]
    theirs = peer_trades(btc_5m, fast, slow, sl, tp)

    # the stress run must really exercise the stops
    assert (ours["exit_reason"] != "signal").sum() >= min_stops
    forced = ours["exit_reason"] == "end_of_data"
    assert forced.sum() <= 1 and (not forced.any() or forced.iloc[-1])
    n = len(ours) - int(forced.sum())
    assert len(theirs) == len(ours)
    mine = ours[COLS].iloc[:n].reset_index(drop=True)
    peer = theirs[COLS].iloc[:n].reset_index(drop=True)
    mismatch = ~(mine == peer).all(axis=1)
    assert not mismatch.any(), pd.concat([mine[mismatch], peer[mismatch]], axis=1).head()
