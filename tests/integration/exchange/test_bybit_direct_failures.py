"""ByBitDirectClient under bad input and failures, against the recorded-payload server.

Wrong keys, orders below the instrument's limits, insufficient balance, unknown symbols,
transient failures (5xx, 429, timeouts, retCode 10006) and the idempotency of order
submission after a lost answer.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from btb.errors import (
    AuthenticationError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    StateError,
)
from btb.exchange.bybit_direct import ByBitDirectClient
from btb.exchange.order_ids import make_client_order_id
from btb.exchange.retry import RetryPolicy

from .bybit_recorded_server import (
    ERROR_10001_SYMBOL,
    ERROR_10003,
    ERROR_10004,
    ERROR_10006,
    ERROR_110007,
    ERROR_110072,
    OK_EMPTY,
    Captured,
    RecordedBybit,
    Reply,
    ccxt_response,
    recorded,
)

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture
async def server() -> AsyncIterator[RecordedBybit]:
    srv = RecordedBybit()
    await srv.start()
    srv.answer("GET", "/v5/market/instruments-info", recorded("http_get_instruments_linear.json"))
    yield srv
    await srv.stop()


async def started(
    server: RecordedBybit, *, load_markets: bool = True, **kwargs: Any
) -> ByBitDirectClient:
    options: dict[str, Any] = {"retry_policy": FAST, "timeout": 2.0, **kwargs}
    client = ByBitDirectClient(
        options.pop("api_key", server.api_key),
        options.pop("api_secret", server.api_secret),
        base_url=server.base_url,
        **options,
    )
    await client.initialize(load_markets=load_markets)
    return client


# -- credentials ------------------------------------------------------------------------------


async def test_invalid_api_key_is_an_authentication_error_and_not_retried(
    server: RecordedBybit,
) -> None:
    server.answer("GET", "/v5/account/wallet-balance", ERROR_10003)
    client = await started(server)
    try:
        with pytest.raises(AuthenticationError, match="10003") as caught:
            await client.fetch_balance()
    finally:
        await client.close()
    assert caught.value.code == 10003
    assert len(server.seen("GET", "/v5/account/wallet-balance")) == 1


async def test_bad_signature_with_http_401_hides_the_key_bybit_echoes(
    server: RecordedBybit,
) -> None:
    # Bybit's real 10004 answer echoes the signed text, API key included; the key used here is
    # the one inside that recorded body, and it must not reach the exception message.
    key, secret = "de21RcqOIH8Gfxvxvv1", "s3cr3t-value"
    server.answer("GET", "/v5/position/list", Reply(ERROR_10004, status=401))
    client = await started(server, api_key=key, api_secret=secret)
    try:
        with pytest.raises(AuthenticationError) as caught:
            await client.fetch_positions()
    finally:
        await client.close()
    message = str(caught.value)
    assert "10004" in message
    assert key not in message and secret not in message
    assert key not in repr(client) and secret not in repr(client)
    assert secret not in str(client.get_statistics())


async def test_private_call_without_keys_fails_before_sending(server: RecordedBybit) -> None:
    client = await started(server, api_key="", api_secret="")
    try:
        with pytest.raises(AuthenticationError, match="key and secret are required"):
            await client.fetch_balance()
    finally:
        await client.close()
    assert server.seen(path="/v5/account/wallet-balance") == []


# -- instrument rules, before anything is sent ------------------------------------------------


async def test_quantity_below_minimum_is_refused_before_any_request(server: RecordedBybit) -> None:
    client = await started(server)  # recorded BTCUSDT: minOrderQty 0.001, qtyStep 0.001
    try:
        with pytest.raises(InvalidOrderError, match=r"min_qty 0\.001"):
            await client.create_limit_order("BTCUSDT", "buy", "0.0004", "30000")
        with pytest.raises(InvalidOrderError, match=r"min_qty 0\.001"):
            await client.create_market_order("BTCUSDT", "sell", "0.0009")
    finally:
        await client.close()
    # only the markets were loaded: no order, and no ticker for the market order either
    assert [r.path for r in server.requests] == ["/v5/market/instruments-info"]


async def test_notional_below_minimum_is_refused_before_any_request(server: RecordedBybit) -> None:
    client = await started(server)  # recorded BTCUSDT: minNotionalValue 5
    try:
        with pytest.raises(InvalidOrderError, match="min_notional 5"):
            await client.create_limit_order("BTCUSDT", "buy", "0.001", "1000")  # 1 USDT
    finally:
        await client.close()
    assert server.seen("POST") == []


async def test_market_order_notional_is_checked_at_the_last_price(server: RecordedBybit) -> None:
    ticker = copy.deepcopy(ccxt_response("fetchTicker"))
    ticker["result"]["list"][0]["lastPrice"] = "4000"  # 0.001 BTC at 4000 = 4 USDT < 5
    server.answer("GET", "/v5/market/tickers", ticker)
    client = await started(server)
    try:
        with pytest.raises(InvalidOrderError, match="min_notional"):
            await client.create_market_order("BTCUSDT", "buy", "0.001")
    finally:
        await client.close()
    assert len(server.seen("GET", "/v5/market/tickers")) == 1
    assert server.seen("POST") == []


async def test_quantity_and_price_go_out_on_the_grid(server: RecordedBybit) -> None:
    server.answer("POST", "/v5/order/create", ccxt_response("createOrder", 1))
    client = await started(server)  # BTCUSDT tick 0.5, lot 0.001
    try:
        buy = await client.create_limit_order("BTCUSDT", "buy", "0.0019", "30000.4")
        sell = await client.create_limit_order(
            "BTCUSDT", "sell", 0.0021, 30000.1, stop_loss="31000.3", take_profit=29000.2
        )
    finally:
        await client.close()
    first, second = (r.body for r in server.seen("POST", "/v5/order/create"))
    assert first is not None and second is not None
    # lot floor: 0.0019 -> 0.001; passive ticks: buy 30000.4 -> 30000, sell 30000.1 -> 30000.5
    assert (first["qty"], first["price"]) == ("0.001", "30000")
    assert (second["qty"], second["price"]) == ("0.002", "30000.5")
    # triggers to the nearest tick: 31000.3 -> 31000.5, 29000.2 -> 29000
    assert (second["stopLoss"], second["takeProfit"]) == ("31000.5", "29000")
    assert buy["amount"] == Decimal("0.001") and sell["price"] == Decimal("30000.5")
    assert buy["id"] == "1609920528435648000"  # the recorded answer's orderId


async def test_unknown_symbol_with_markets_loaded_is_refused_before_sending(
    server: RecordedBybit,
) -> None:
    client = await started(server)
    try:
        with pytest.raises(InvalidOrderError, match="DOGEUSDT"):
            await client.create_limit_order("DOGEUSDT", "buy", 100, "0.1")
    finally:
        await client.close()
    assert server.seen("POST") == []


async def test_unknown_symbol_ticker_with_markets_loaded_names_it(server: RecordedBybit) -> None:
    client = await started(server)
    try:
        with pytest.raises(InvalidOrderError, match="DOGEUSDT"):
            await client.fetch_ticker("DOGEUSDT")
    finally:
        await client.close()
    assert server.seen(path="/v5/market/tickers") == []


async def test_unknown_symbol_without_markets_names_the_symbol(server: RecordedBybit) -> None:
    server.answer("POST", "/v5/order/create", ERROR_10001_SYMBOL)
    client = await started(server, load_markets=False)
    try:
        with pytest.raises(InvalidOrderError, match="DOGEUSDT"):
            await client.create_limit_order("DOGEUSDT", "buy", 100, "0.1")
    finally:
        await client.close()
    assert len(server.seen("POST")) == 1  # a definite refusal is not retried


async def test_insufficient_balance_is_its_own_error(server: RecordedBybit) -> None:
    server.answer("POST", "/v5/order/create", ERROR_110007)
    client = await started(server)
    try:
        with pytest.raises(InsufficientFundsError, match="110007"):
            await client.create_limit_order("BTCUSDT", "buy", "1", "30000")
    finally:
        await client.close()
    assert len(server.seen("POST")) == 1


async def test_calls_before_initialize_fail_clearly() -> None:
    client = ByBitDirectClient("k", "s", base_url="http://127.0.0.1:9")
    with pytest.raises(StateError, match="initialize"):
        await client.fetch_ticker("BTCUSDT")


# -- transient failures -----------------------------------------------------------------------


async def test_transient_failures_are_retried_and_logged(
    server: RecordedBybit, caplog: pytest.LogCaptureFixture
) -> None:
    server.answer(
        "GET",
        "/v5/account/wallet-balance",
        Reply(text="<html>bad gateway</html>", status=502),
        Reply({"retCode": 10006}, status=429, headers={"Retry-After": "0"}),
        Reply(recorded("http_get_wallet_balance.json"), delay=1.0),  # beyond the 0.3 s timeout
        recorded("http_get_wallet_balance.json"),
    )
    client = await started(server, timeout=0.3)
    try:
        with caplog.at_level(logging.WARNING, logger="btb.exchange.bybit_direct"):
            balance = await client.fetch_balance()
    finally:
        await client.close()
    assert balance["USDT"]["total"] == Decimal("1000.50")
    assert len(server.seen("GET", "/v5/account/wallet-balance")) == 4
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 3
    assert "NetworkError" in retries[0] and "RateLimitError" in retries[1]
    stats = client.get_statistics()
    assert (stats["retries"], stats["timeouts"], stats["rate_limited"]) == (3, 1, 1)


async def test_rate_limit_code_waits_until_the_announced_reset(server: RecordedBybit) -> None:
    reset_ms = str(int((time.time() + 0.4) * 1000))
    server.answer(
        "GET",
        "/v5/position/list",
        Reply(ERROR_10006, headers={"X-Bapi-Limit-Reset-Timestamp": reset_ms}),
        recorded("http_get_positions.json"),
    )
    client = await started(server)
    started_at = time.monotonic()
    try:
        positions = await client.fetch_positions()
    finally:
        await client.close()
    assert time.monotonic() - started_at >= 0.3  # the backoff alone would be ~0.01 s
    assert [p.symbol for p in positions] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


async def test_exhausted_allowance_header_delays_the_next_call(server: RecordedBybit) -> None:
    reset_ms = str(int((time.time() + 0.4) * 1000))
    headers = {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": reset_ms}
    server.answer(
        "GET",
        "/v5/order/realtime",
        Reply(recorded("http_get_orders_realtime.json"), headers=headers),
        recorded("http_get_orders_realtime.json"),
    )
    client = await started(server)
    try:
        await client.fetch_open_orders("ETHUSDT")
        before = time.monotonic()
        orders = await client.fetch_open_orders("ETHUSDT")
        waited = time.monotonic() - before
    finally:
        await client.close()
    assert waited >= 0.3
    assert client.get_statistics()["rate_limit_waits"] == 1
    assert [o.client_order_id for o in orders] == ["client-open-1", "client-open-2"]


async def test_non_retryable_error_is_raised_at_once(server: RecordedBybit) -> None:
    server.answer("POST", "/v5/position/set-leverage", ERROR_10001_SYMBOL)
    client = await started(server)
    try:
        with pytest.raises(InvalidOrderError):
            await client.set_leverage("BTCUSDT", 5)
    finally:
        await client.close()
    assert len(server.seen("POST")) == 1


async def test_persistent_outage_gives_up_after_the_policy_attempts(server: RecordedBybit) -> None:
    server.answer("GET", "/v5/market/tickers", Reply(text="unavailable", status=503))
    client = await started(server)
    try:
        with pytest.raises(NetworkError, match="503"):
            await client.fetch_ticker("BTCUSDT")
    finally:
        await client.close()
    assert len(server.seen("GET", "/v5/market/tickers")) == FAST.attempts


# -- idempotent order submission --------------------------------------------------------------


class OrderBook:
    """Counts orders by orderLinkId like Bybit: a second create with the same id is refused."""

    def __init__(self, server: RecordedBybit, *, hide_first_lookups: int = 0) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.creates = 0
        self._hidden = hide_first_lookups
        self._template = recorded("http_get_orders_realtime.json")["result"]["list"][0]

    def create(self, request: Captured, *, delay: float = 0.0, status: int = 200) -> Reply:
        assert request.body is not None
        self.creates += 1
        link = request.body["orderLinkId"]
        if link in self.orders:
            return Reply(ERROR_110072)
        order = dict(self._template, orderLinkId=link, orderId=f"oid-{len(self.orders) + 1}",
                     symbol=request.body["symbol"], qty=request.body["qty"],
                     price=request.body.get("price", "0"))  # fmt: skip
        self.orders[link] = order
        answer = {"retCode": 0, "retMsg": "OK", "result": {"orderId": order["orderId"],
                  "orderLinkId": link}, "retExtInfo": {}, "time": 1700000000000}  # fmt: skip
        return Reply(answer, delay=delay, status=status)

    def lookup(self, request: Captured) -> Reply:
        found = [self.orders[request.query["orderLinkId"]]] if (
            request.query.get("orderLinkId") in self.orders and self._hidden <= 0
        ) else []  # fmt: skip
        self._hidden -= 1
        return Reply({"retCode": 0, "retMsg": "OK", "result": {"list": found,
                      "nextPageCursor": ""}, "retExtInfo": {}, "time": 1700000000000})  # fmt: skip


async def test_timeout_after_the_order_landed_does_not_create_a_second_one(
    server: RecordedBybit,
) -> None:
    book = OrderBook(server)
    server.answer("POST", "/v5/order/create", lambda r: book.create(r, delay=1.0), book.create)
    server.answer("GET", "/v5/order/realtime", book.lookup)
    client = await started(server, timeout=0.3)
    link = make_client_order_id("bot", "BTCUSDT", 1_700_000_000_000, "entry")
    try:
        result = await client.create_limit_order("BTCUSDT", "buy", "0.01", "30000",
                                                 order_link_id=link)  # fmt: skip
    finally:
        await client.close()
    assert list(book.orders) == [link]
    assert book.creates == 1  # found by its orderLinkId: never sent again
    assert result["id"] == "oid-1" and result["recovered"] is True
    assert client.get_statistics()["orders_recovered"] == 1


async def test_resend_after_a_missed_lookup_is_refused_as_duplicate_and_resolved(
    server: RecordedBybit,
) -> None:
    # The lookup right after the timeout misses the order (not yet visible at the venue):
    # the client resends, Bybit refuses the duplicate orderLinkId, the client fetches it.
    book = OrderBook(server, hide_first_lookups=2)  # realtime and history both miss once
    server.answer("POST", "/v5/order/create", lambda r: book.create(r, delay=1.0), book.create)
    server.answer("GET", "/v5/order/realtime", book.lookup)
    server.answer("GET", "/v5/order/history", book.lookup)
    client = await started(server, timeout=0.3)
    link = make_client_order_id("bot", "BTCUSDT", 1_700_000_000_000, "entry")
    try:
        result = await client.create_limit_order("BTCUSDT", "buy", "0.01", "30000",
                                                 order_link_id=link)  # fmt: skip
    finally:
        await client.close()
    assert list(book.orders) == [link]
    assert book.creates == 2  # the resend reached the venue and was refused
    assert result["id"] == "oid-1" and result["recovered"] is True


async def test_server_error_on_create_is_checked_before_resending(server: RecordedBybit) -> None:
    book = OrderBook(server)
    server.answer("POST", "/v5/order/create", lambda r: book.create(r, status=502), book.create)
    server.answer("GET", "/v5/order/realtime", book.lookup)
    client = await started(server)
    try:
        result = await client.create_market_order("BTCUSDT", "sell", "0.01", reference_price=30000)
    finally:
        await client.close()
    assert len(book.orders) == 1 and book.creates == 1
    assert result["recovered"] is True


async def test_rate_limited_create_is_resent_without_a_lookup(server: RecordedBybit) -> None:
    book = OrderBook(server)
    server.answer("POST", "/v5/order/create", Reply(ERROR_10006), book.create)
    server.answer("GET", "/v5/order/realtime", book.lookup)
    client = await started(server)
    try:
        result = await client.create_limit_order("BTCUSDT", "buy", "0.01", "30000")
    finally:
        await client.close()
    assert len(server.seen("POST", "/v5/order/create")) == 2
    assert server.seen("GET", "/v5/order/realtime") == []  # 10006: Bybit did not process it
    assert len(book.orders) == 1 and result["recovered"] is False


async def test_repeating_a_decision_returns_the_existing_order(server: RecordedBybit) -> None:
    book = OrderBook(server)
    server.answer("POST", "/v5/order/create", book.create)
    server.answer("GET", "/v5/order/realtime", book.lookup)
    client = await started(server)
    link = make_client_order_id("bot", "BTCUSDT", 1_700_000_000_000, "entry")
    try:
        first = await client.create_limit_order(
            "BTCUSDT", "buy", "0.01", "30000", order_link_id=link
        )
        again = await client.create_limit_order(
            "BTCUSDT", "buy", "0.01", "30000", order_link_id=link
        )
    finally:
        await client.close()
    assert len(book.orders) == 1
    assert first["id"] == again["id"] == "oid-1"
    assert (first["recovered"], again["recovered"]) == (False, True)


# -- position settings and paging ---------------------------------------------------------------


async def test_trading_stop_goes_out_on_the_tick_grid(server: RecordedBybit) -> None:
    server.answer("POST", "/v5/position/trading-stop", OK_EMPTY)
    client = await started(server)
    try:
        await client.set_trading_stop("BTCUSDT", stop_loss="29000.3", take_profit=31000.74)
    finally:
        await client.close()
    (sent,) = server.seen("POST", "/v5/position/trading-stop")
    assert sent.body == {
        "category": "linear", "symbol": "BTCUSDT", "tpslMode": "Full", "positionIdx": 0,
        "stopLoss": "29000.5", "takeProfit": "31000.5",
    }  # fmt: skip
    assert sent.signature_ok is True


async def test_leverage_not_modified_counts_as_done(server: RecordedBybit) -> None:
    # message as in ccxt's Bybit exception table: 110043 "Set leverage not modified"
    body = {"retCode": 110043, "retMsg": "Set leverage not modified", "result": {}}
    server.answer("POST", "/v5/position/set-leverage", body)
    client = await started(server)
    try:
        await client.set_leverage("BTCUSDT", 10)
    finally:
        await client.close()
    assert len(server.seen("POST")) == 1


async def test_markets_follow_the_page_cursor(server: RecordedBybit) -> None:
    page1 = recorded("http_get_instruments_linear.json")
    page2 = copy.deepcopy(page1)
    page1["result"]["list"] = page1["result"]["list"][:1]
    page1["result"]["nextPageCursor"] = "next%3D2"
    page2["result"]["list"] = page2["result"]["list"][1:]
    server.answer("GET", "/v5/market/instruments-info", page1, page2)
    client = await started(server)
    await client.close()
    assert sorted(client.markets) == ["BTCUSDT", "ETHUSDT"]
    first, second = server.seen("GET", "/v5/market/instruments-info")
    assert "cursor" not in first.query and second.query["cursor"] == "next=2"
    assert second.raw_query.count("cursor=next%3D2") == 1  # sent encoded, as signed
