"""Unmodified ccxt ``bybit`` (async) against the simulator: the whole trading round."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sim_harness import (
    FIVE_MIN,
    SimPair,
    candles,
    ccxt_bybit,
    row_at,
    sim_server_fixture,  # noqa: F401  (the sim_server fixture)
)

BTC = "BTC/USDT:USDT"


async def test_ccxt_bybit_trades_against_the_simulator(
    sim_server: SimPair, ohlcv_dir: Path
) -> None:
    sim, server = sim_server
    ex = ccxt_bybit(server.url)
    btc_5m = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    btc_1h = candles(ohlcv_dir, "BTC_USDT-1h.csv.gz")
    now = sim.venue.now_ms()
    try:
        markets = await ex.load_markets()  # ccxt's default: spot, linear, inverse and options
        assert set(markets) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
        assert markets[BTC]["precision"] == {
            **markets[BTC]["precision"],
            "amount": 0.001,
            "price": 0.1,
        }
        assert markets[BTC]["limits"]["amount"]["min"] == 0.001

        since = now - 6 * 3_600_000
        ohlcv = await ex.fetch_ohlcv(BTC, "1h", since=since, limit=5)
        for ts, o, h, lo, c, _ in ohlcv:  # Binance's own hourly candles: an independent source
            expected = row_at(btc_1h, ts)
            assert (o, h, lo, c) == (
                expected["open"],
                expected["high"],
                expected["low"],
                expected["close"],
            )

        balance = await ex.fetch_balance()
        assert (balance["USDT"]["total"], balance["USDT"]["free"]) == (10000.0, 10000.0)

        await ex.set_leverage(5, BTC)
        entry_price = row_at(btc_5m, now)["open"]  # the forming candle's open
        market = await ex.create_order(
            BTC, "market", "buy", 0.01, None, {"stopLoss": 40000, "takeProfit": 45000}
        )
        [position] = await ex.fetch_positions([BTC])
        assert (position["contracts"], position["side"], position["leverage"]) == (
            0.01,
            "long",
            5.0,
        )
        assert position["entryPrice"] == pytest.approx(entry_price, abs=0.1)
        assert (position["stopLossPrice"], position["takeProfitPrice"]) == (40000.0, 45000.0)

        limit = await ex.create_order(
            BTC,
            "limit",
            "buy",
            0.01,
            30000,
            {"stopLoss": 29000, "takeProfit": 35000, "clientOrderId": "ccxt-limit-1"},
        )
        [open_order] = await ex.fetch_open_orders(BTC)
        assert (open_order["id"], open_order["clientOrderId"], open_order["price"]) == (
            limit["id"],
            "ccxt-limit-1",
            30000.0,
        )
        assert (open_order["stopLossPrice"], open_order["takeProfitPrice"]) == (29000.0, 35000.0)
        await ex.cancel_order(limit["id"], BTC)
        assert await ex.fetch_open_orders(BTC) == []
        assert (await ex.fetch_order(limit["id"], BTC, {"acknowledged": True}))[
            "status"
        ] == "canceled"
        assert (await ex.fetch_order(market["id"], BTC, {"acknowledged": True}))[
            "status"
        ] == "closed"

        sim.step(3)  # three candles later the position is still there, valued at the new price
        [position] = await ex.fetch_positions([BTC])
        mark = row_at(btc_5m, now + 3 * FIVE_MIN)["open"]
        assert position["unrealizedPnl"] == pytest.approx(
            (mark - position["entryPrice"]) * 0.01, abs=0.01
        )
        trades = await ex.fetch_my_trades(BTC)
        assert [t["order"] for t in trades] == [market["id"]]
    finally:
        await ex.close()


async def test_ccxt_bybit_wrong_secret_is_an_authentication_error(sim_server: SimPair) -> None:
    import ccxt

    _, server = sim_server
    ex = ccxt_bybit(server.url, secret="not-the-secret")
    try:
        # ccxt loads currencies from a private endpoint first, so the bad signature shows at once
        with pytest.raises(ccxt.AuthenticationError, match="10004"):
            await ex.fetch_balance()
    finally:
        await ex.close()
