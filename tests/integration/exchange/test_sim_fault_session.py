"""A 200-order session while 20 % of requests fail: nothing lost, nothing duplicated.

The failures are HTTP 429 (Bybit retCode 10006), 503, requests that time out before the
venue sees them, and requests that time out *after* the venue created the order (the answer
is lost: the case where a naive retry opens a second order). Orders carry deterministic client
order ids, so a resubmission is recognised. The session runs through btb's own exchange layer:
the ccxt Bybit adapter and the direct client (``sim``).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

import pytest

from btb.core.enums import OrderStatus
from btb.exchange.factory import create_exchange
from btb.exchange.order_ids import make_client_order_id
from btb.exchange.retry import RetryPolicy
from btb.exchange.sim.faults import FaultRule
from btb.exchange.sim.venue import Reject

from .sim_harness import KEY, SECRET, SimPair, sim_server_fixture  # noqa: F401

ORDERS = 200
FAULTS = {"rate_limit": 1.0, "server_error": 1.0, "timeout_before": 0.5, "timeout_after": 1.0}
CLIENT_TIMEOUT_S = 0.1
HOLD_S = 0.2  # how long a "timed out" request is held: past the client's timeout


@pytest.mark.parametrize(
    ("name", "prefix"), [("bybit", "/v5/"), ("sim", "/v5/"), ("binance", "/fapi/")]
)
async def test_200_orders_with_20_percent_failures(
    name: str, prefix: str, sim_server: SimPair, caplog: pytest.LogCaptureFixture
) -> None:
    sim, server = sim_server
    config = {
        "api_key": KEY,
        "api_secret": SECRET,
        "base_url": server.url,
        "testnet": False,
        "rate_limit": False,
        "timeout_s": CLIENT_TIMEOUT_S,
        "retry": RetryPolicy(
            attempts=12, base_delay=0.005, max_delay=0.02, max_rate_limit_wait=0.05
        ),
    }
    bar = datetime(2024, 1, 1, 16, 40, tzinfo=UTC)
    wanted = [
        make_client_order_id("fault-session", "BTCUSDT", bar, "entry", i) for i in range(ORDERS)
    ]
    caplog.set_level(logging.WARNING, logger="btb")
    async with create_exchange(name, config) as ex:
        sim.faults.mixed(0.2, FAULTS, path_prefix=prefix, delay=HOLD_S)
        placed = []
        for i, cid in enumerate(wanted):
            price = 20000 + i  # resting limit orders: nothing fills, every order stays visible
            placed.append(
                await ex.place_order(
                    "BTCUSDT", "limit", "buy", "0.001", price, params={"client_order_id": cid}
                )
            )
        sim.faults.clear()

    account = sim.venue.accounts[KEY]
    on_venue = Counter(o.link_id for o in account.orders.values())
    assert len(account.orders) == ORDERS  # none duplicated ...
    assert set(on_venue) == set(wanted) and max(on_venue.values()) == 1  # ... none lost
    assert [p.client_order_id for p in placed] == wanted
    assert all(p.status is OrderStatus.ACCEPTED for p in placed)
    assert {o.order.price for o in account.orders.values()} == {20000 + i for i in range(ORDERS)}

    injected = sim.faults.injected
    total = sim.requests
    assert sum(injected.values()) / total == pytest.approx(0.2, abs=0.06)
    assert all(injected[kind] > 0 for kind in FAULTS)
    order_path = "/fapi/v1/order" if name == "binance" else "/v5/order/create"
    assert sim.faults.hits[("timeout_after", order_path)] > 0  # orders whose answer was lost
    retries = [
        r for r in caplog.records if r.levelno == logging.WARNING and "retrying" in r.getMessage()
    ]
    assert len(retries) >= sum(injected.values()) // 2
    if name != "sim":  # the ccxt adapters resubmit and resolve the duplicate answer
        assert sim.venue.refusals[Reject.DUPLICATE] > 0
        assert any("already has this order" in r.getMessage() for r in caplog.records)


async def test_injected_rejections_and_slow_answers(sim_server: SimPair) -> None:
    import time

    from btb.errors import InsufficientFundsError, InvalidOrderError

    sim, server = sim_server
    config = {"api_key": KEY, "api_secret": SECRET, "base_url": server.url, "testnet": False}
    async with create_exchange("sim", config) as ex:
        sim.faults.add(FaultRule("reject", count=1, path_prefix="/v5/order/create"))
        with pytest.raises(InsufficientFundsError, match="110007"):
            await ex.place_order("BTCUSDT", "limit", "buy", "0.001", 20000)
        rule = FaultRule(
            "reject", count=1, code=110094, message="Order does not meet minimum order value"
        )
        sim.faults.add(rule)
        with pytest.raises(InvalidOrderError, match="110094"):
            await ex.place_order("BTCUSDT", "limit", "buy", "0.001", 20000)
        assert sim.venue.accounts[KEY].orders == {}  # refused orders leave nothing behind
        sim.faults.add(FaultRule("slow", count=1, delay=0.3, path_prefix="/v5/order/create"))
        started = time.perf_counter()
        placed = await ex.place_order("BTCUSDT", "limit", "buy", "0.001", 20000)
        assert time.perf_counter() - started >= 0.3
        assert placed.status is OrderStatus.ACCEPTED
