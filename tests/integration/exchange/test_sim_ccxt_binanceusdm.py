"""Unmodified ccxt ``binanceusdm`` (async) against the simulator: the whole trading round.

Binance attaches no stop-loss/take-profit to an entry: they are separate reduce-only
conditional orders, which ccxt 4.5 sends to the algo-order API (/fapi/v1/algoOrder).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .sim_harness import (
    FIVE_MIN,
    SimPair,
    candles,
    ccxt_binanceusdm,
    row_at,
    sim_server_fixture,  # noqa: F401  (the sim_server fixture)
)

BTC = "BTC/USDT:USDT"


async def test_ccxt_binanceusdm_trades_against_the_simulator(
    sim_server: SimPair, ohlcv_dir: Path
) -> None:
    sim, server = sim_server
    ex = ccxt_binanceusdm(server.url)
    btc_5m = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    now = sim.venue.now_ms()
    try:
        markets = await ex.load_markets()
        assert set(markets) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
        assert markets[BTC]["limits"]["amount"]["min"] == 0.001

        ohlcv = await ex.fetch_ohlcv(BTC, "5m", since=now - 4 * FIVE_MIN, limit=4)
        assert [r[0] for r in ohlcv] == [now - k * FIVE_MIN for k in (4, 3, 2, 1)]
        for ts, o, h, lo, c, v in ohlcv:
            row = row_at(btc_5m, ts)
            assert (o, h, lo, c, v) == (
                row["open"],
                row["high"],
                row["low"],
                row["close"],
                row["volume"],
            )

        balance = await ex.fetch_balance()
        assert balance["USDT"]["total"] == 10000.0

        assert (await ex.set_leverage(7, BTC))["leverage"] == 7
        market = await ex.create_order(BTC, "market", "buy", 0.01)
        assert (market["status"], market["average"]) == ("closed", row_at(btc_5m, now)["open"])
        sl = await ex.create_order(
            BTC, "market", "sell", 0.01, None, {"stopLossPrice": 40000, "reduceOnly": True}
        )
        tp = await ex.create_order(
            BTC, "market", "sell", 0.01, None, {"takeProfitPrice": 45000, "reduceOnly": True}
        )
        limit = await ex.create_order(
            BTC, "limit", "buy", 0.01, 30000, {"clientOrderId": "bn-limit-1"}
        )
        limit_sl = await ex.create_order(
            BTC, "market", "sell", 0.01, None, {"stopLossPrice": 29000, "reduceOnly": True}
        )

        [open_limit] = await ex.fetch_open_orders(BTC)
        assert (open_limit["id"], open_limit["clientOrderId"], open_limit["price"]) == (
            limit["id"],
            "bn-limit-1",
            30000.0,
        )
        conditional = await ex.fetch_open_orders(BTC, params={"trigger": True})
        assert {(o["id"], o["triggerPrice"]) for o in conditional} == {
            (sl["id"], 40000.0),
            (tp["id"], 45000.0),
            (limit_sl["id"], 29000.0),
        }

        [position] = await ex.fetch_positions([BTC])
        assert (position["contracts"], position["side"], position["leverage"]) == (
            0.01,
            "long",
            7.0,
        )

        await ex.cancel_order(limit["id"], BTC)
        await ex.cancel_order(limit_sl["id"], BTC, {"trigger": True})
        assert await ex.fetch_open_orders(BTC) == []
        assert {o["id"] for o in await ex.fetch_open_orders(BTC, params={"trigger": True})} == {
            sl["id"],
            tp["id"],
        }
        assert (await ex.fetch_order(limit["id"], BTC))["status"] == "canceled"
        assert len(await ex.fetch_my_trades(BTC)) == 1
    finally:
        await ex.close()


async def test_ccxt_binanceusdm_wrong_key_is_an_authentication_error(sim_server: SimPair) -> None:
    import ccxt

    _, server = sim_server
    ex = ccxt_binanceusdm(server.url, key="unknown-key")
    try:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            await ex.fetch_balance()
    finally:
        await ex.close()
