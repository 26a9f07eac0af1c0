"""btb's exchange layer (create_exchange -> BaseExchange) against the simulator.

The same checks run through the three adapters: ccxt bybit, ccxt binanceusdm and the direct
Bybit client (``sim``). Bad input fails with btb's own errors, and the ones the client can
see for itself fail before any request is sent.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from pathlib import Path

import pytest

from btb.core.enums import OrderStatus, OrderType
from btb.errors import AuthenticationError, InsufficientFundsError, InvalidOrderError
from btb.exchange.errors import OrderNotFoundError
from btb.exchange.factory import create_exchange
from btb.exchange.sim.faults import FaultRule

from .sim_harness import FIVE_MIN, KEY, SECRET, SimPair, candles, row_at, sim_server_fixture  # noqa: F401

ADAPTERS = ["bybit", "binance", "sim"]


def _config(url: str, **extra: object) -> dict[str, object]:
    return {
        "api_key": KEY,
        "api_secret": SECRET,
        "base_url": url,
        "testnet": False,
        "rate_limit": False,
        "timeout_s": 5.0,
        **extra,
    }


@pytest.mark.parametrize("name", ADAPTERS)
async def test_trading_round_through_base_exchange(
    name: str, sim_server: SimPair, ohlcv_dir: Path
) -> None:
    sim, server = sim_server
    btc = candles(ohlcv_dir, "BTC_USDT-5m.csv.gz")
    now = sim.venue.now_ms()
    async with create_exchange(name, _config(server.url)) as ex:
        instruments = await ex.load_instruments()
        assert set(instruments) == {"BTCUSDT", "ETHUSDT"}
        assert instruments["BTCUSDT"].lot_step == D("0.001")

        frame = await ex.get_market_data("BTCUSDT", "5m", limit=3)  # closed candles only
        assert [int(t.timestamp() * 1000) for t in frame.index] == [
            now - k * FIVE_MIN for k in (3, 2, 1)
        ]
        assert frame["close"].iloc[-1] == row_at(btc, now - FIVE_MIN)["close"]
        assert (await ex.get_ticker("BTCUSDT")).last == row_at(btc, now)["open"]
        assert (await ex.get_balance()).assets["USDT"].total == D("10000")

        await ex.set_leverage("BTCUSDT", 5)
        await ex.set_leverage("BTCUSDT", 5)  # unchanged: not an error
        market = await ex.place_order(
            "BTCUSDT", "market", "buy", 0.01, params={"stop_loss": 40000, "take_profit": 45000}
        )
        assert (market.status, market.filled_qty) == (OrderStatus.FILLED, D("0.01"))
        assert market.avg_fill_price == D(str(row_at(btc, now)["open"]))
        limit = await ex.place_order(
            "BTCUSDT", "limit", "buy", "0.01", 30000, params={"client_order_id": f"it-{name}-limit"}
        )
        assert (limit.status, limit.client_order_id) == (OrderStatus.ACCEPTED, f"it-{name}-limit")
        open_orders = await ex.get_open_orders("BTCUSDT")
        assert limit.exchange_order_id in {o.exchange_order_id for o in open_orders}
        if name == "binance":  # stop-loss and take-profit are separate conditional orders there
            triggers = {o.trigger_price for o in open_orders if o.order_type is not OrderType.LIMIT}
            assert triggers == {D("40000"), D("45000")}
        [position] = await ex.get_positions(["BTCUSDT"])
        assert (position.quantity, position.leverage) == (D("0.01"), D("5"))
        if name != "binance":
            assert (position.stop_loss, position.take_profit) == (D("40000"), D("45000"))
        canceled = await ex.cancel_order("BTCUSDT", client_order_id=f"it-{name}-limit")
        assert canceled.status is OrderStatus.CANCELED
        assert (
            await ex.get_order("BTCUSDT", market.exchange_order_id)
        ).status is OrderStatus.FILLED


@pytest.mark.parametrize("name", ADAPTERS)
async def test_bad_input_gets_btb_errors(name: str, sim_server: SimPair) -> None:
    sim, server = sim_server
    async with create_exchange(name, _config(server.url)) as ex:
        before = sim.requests
        with pytest.raises(InvalidOrderError, match=r"below min_qty 0\.001"):
            await ex.place_order("BTCUSDT", "market", "buy", 0.0004)
        with pytest.raises(InvalidOrderError, match="unknown symbol 'DOGEUSDT'"):
            await ex.place_order("DOGEUSDT", "market", "buy", 10)
        with pytest.raises(InvalidOrderError, match="unknown order params"):
            await ex.place_order("BTCUSDT", "market", "buy", 0.01, params={"stoploss": 1})
        assert sim.requests == before  # refused before anything was sent
        with pytest.raises(InsufficientFundsError):
            await ex.place_order("BTCUSDT", "market", "buy", 5)  # ~213k notional on 10k at 10x
    bad = create_exchange(name, _config(server.url, api_secret="not-the-secret"))
    try:
        with pytest.raises(AuthenticationError):
            await bad.connect()
            await bad.get_balance()
    finally:
        await bad.close()


@pytest.mark.parametrize("name", ADAPTERS)
async def test_cancel_is_safe_to_repeat(name: str, sim_server: SimPair) -> None:
    """A repeated cancel (its first answer lost) or a cancel of a filled order reports the
    order's real final state; only an order the venue never had is an error."""
    _, server = sim_server
    async with create_exchange(name, _config(server.url)) as ex:
        limit = await ex.place_order("BTCUSDT", "limit", "buy", "0.01", 30000)
        first = await ex.cancel_order("BTCUSDT", limit.exchange_order_id)
        again = await ex.cancel_order("BTCUSDT", limit.exchange_order_id)
        assert first.status is again.status is OrderStatus.CANCELED
        market = await ex.place_order("BTCUSDT", "market", "buy", "0.01")
        filled = await ex.cancel_order("BTCUSDT", client_order_id=market.client_order_id)
        assert (filled.status, filled.filled_qty) == (OrderStatus.FILLED, D("0.01"))
        with pytest.raises(OrderNotFoundError):
            await ex.cancel_order("BTCUSDT", client_order_id="never-placed")


@pytest.mark.parametrize("entry_type", ["limit", "market"])
async def test_binance_unwinds_an_entry_whose_stop_was_refused(
    entry_type: str, sim_server: SimPair
) -> None:
    """Binance places stop-loss / take-profit after the entry; when that fails, no position
    may remain without its stop: a resting entry is cancelled, a filled one closed."""
    sim, server = sim_server
    account = sim.venue.accounts[KEY]
    async with create_exchange("binance", _config(server.url)) as ex:
        refusal = "Order would immediately trigger."
        sim.faults.add(FaultRule("reject", count=1, path_prefix="/fapi/v1/algoOrder",
                                 code=-2021, message=refusal))  # fmt: skip
        price = 30000 if entry_type == "limit" else None
        with pytest.raises(InvalidOrderError, match="-2021"):
            await ex.place_order(
                "BTCUSDT", entry_type, "buy", "0.01", price,
                params={"stop_loss": 29000 if price else 40000, "client_order_id": "entry-1"},
            )  # fmt: skip
        assert await ex.get_open_orders("BTCUSDT") == []
        assert await ex.get_positions(["BTCUSDT"]) == []
    fills = [(e.order.link_id, e.fill.side.value) for e in account.executions]
    if entry_type == "market":
        assert fills == [("entry-1", "buy"), ("entry-1-fx", "sell")]
    else:
        assert fills == [] and account.find(None, "entry-1").order.status is OrderStatus.CANCELED


@pytest.mark.parametrize("name", ADAPTERS)
async def test_min_notional_is_refused_before_sending_except_for_reduce_only(
    name: str, sim_server: SimPair
) -> None:
    sim, server = sim_server
    rules = sim.venue.instruments["BTCUSDT"]
    sim.venue.instruments["BTCUSDT"] = dataclasses.replace(rules, min_notional=D("100"))
    async with create_exchange(name, _config(server.url)) as ex:
        await ex.place_order("BTCUSDT", "market", "buy", "0.01")  # ~420 USDT
        before = len(sim.venue.accounts[KEY].orders)
        with pytest.raises(InvalidOrderError, match="min_notional 100"):
            await ex.place_order("BTCUSDT", "market", "buy", "0.001")  # ~42 USDT
        with pytest.raises(InvalidOrderError, match="min_notional 100"):
            await ex.place_order("BTCUSDT", "limit", "buy", "0.002", 30000)  # 60 USDT
        assert len(sim.venue.accounts[KEY].orders) == before  # neither reached the venue
        closing = await ex.place_order(
            "BTCUSDT", "market", "sell", "0.001", params={"reduce_only": True}
        )
        assert (closing.status, closing.filled_qty) == (OrderStatus.FILLED, D("0.001"))
        [position] = await ex.get_positions(["BTCUSDT"])
        assert position.quantity == D("0.009")
