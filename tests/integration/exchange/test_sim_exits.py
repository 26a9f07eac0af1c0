"""Exits the simulator makes on its own, seen through an unmodified client.

The expected exit is worked out from the replayed candle file alone: the first candle that
reaches the take-profit, filled at the level (or at the open if the candle opened beyond it).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from .sim_harness import FIVE_MIN, SimPair, candles, ccxt_bybit, row_at, sim_server_fixture  # noqa: F401

BTC = "BTC/USDT:USDT"


async def test_take_profit_set_by_trading_stop_closes_the_position(
    sim_server: SimPair, ohlcv_dir: Path
) -> None:
    sim, server = sim_server
    btc = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    now = sim.venue.now_ms()
    entry = row_at(btc, now)["open"]
    take_profit = round(entry * 1.003, 1)
    future = btc.loc[pd.Timestamp(now, unit="ms", tz="UTC") :]
    hit = future[future["high"] >= take_profit].iloc[0]
    hit_ms = int(hit.name.timestamp() * 1000)
    expected_exit = max(hit["open"], take_profit)
    ex = ccxt_bybit(server.url)
    try:
        await ex.load_markets()
        await ex.create_order(BTC, "market", "buy", 0.01)
        await ex.privatePostV5PositionTradingStop(
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "takeProfit": str(take_profit),
                "tpslMode": "Full",
                "positionIdx": 0,
            }
        )
        [position] = await ex.fetch_positions([BTC])
        assert position["takeProfitPrice"] == take_profit
        sim.step((hit_ms - now) // FIVE_MIN)  # up to, not including, the candle that hits
        assert (await ex.fetch_positions([BTC]))[0]["contracts"] == 0.01
        sim.step()
        positions = await ex.fetch_positions([BTC])
        assert not positions or positions[0]["contracts"] in (0, None)
        trades = await ex.fetch_my_trades(BTC)
    finally:
        await ex.close()
    exit_trade = max(trades, key=lambda t: t["timestamp"])
    assert exit_trade["side"] == "sell"
    assert exit_trade["price"] == pytest.approx(expected_exit, abs=0.05)
    assert exit_trade["timestamp"] == hit_ms + FIVE_MIN  # stamped at the close of that candle
    assert exit_trade["info"]["stopOrderType"] == "TakeProfit"
