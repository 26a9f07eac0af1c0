"""ByBitDirectClient's requests compared with ccxt's recorded request fixtures.

ccxt's static request tests (exchange_fixtures/ccxt/request/bybit.json) state, for a unified
call, the V5 URL and JSON body ccxt sends. For every call both clients make, our client is
pointed at a local recorded-payload server and the request it puts on the wire is compared
field by field: path, query parameters, body. Differences that are ccxt conventions, not Bybit
requirements, are listed per case with the reason. Hosts differ on purpose (ccxt's sandbox is
api-testnet, btb's testnet is Bybit demo trading) and are not compared.

Markets are not loaded in these tests: the ccxt cases use symbols (ADAUSDT, LTCUSDT, TRXUSDT)
for which no recorded instrument exists, and rounding is tested separately.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from btb.core.enums import TimeInForce
from btb.exchange.bybit_direct import ByBitDirectClient
from btb.exchange.retry import RetryPolicy

from .bybit_recorded_server import OK_EMPTY, RecordedBybit, ccxt_response, recorded

Call = Callable[[ByBitDirectClient], Awaitable[Any]]

#: Fields btb adds to every order: the client order id that makes submission idempotent.
BTB_ORDER_FIELDS = {"orderLinkId"}

# (ccxt method, ccxt case description, our market type, our call,
#  ccxt-only fields with the reason we do not send them)
CASES: list[tuple[str, str, str, Call, dict[str, str]]] = [
    ("createOrder", "Swap limit order", "linear",
     lambda c: c.create_limit_order("ADAUSDT", "buy", 50, 0.1), {}),
    ("createOrder", "Spot limit order", "spot",
     lambda c: c.create_limit_order("ADAUSDT", "buy", 50, 0.1), {}),
    ("createOrder", "Swap limit sell with reduceOnly and postOnly", "linear",
     lambda c: c.create_limit_order(
         "LTCUSDT", "sell", 0.1, 100, reduce_only=True, time_in_force=TimeInForce.POST_ONLY
     ), {}),
    ("createOrder", "Opening position with sl + tp attached (type 3)", "linear",
     lambda c: c.create_market_order("TRXUSDT", "buy", 1, stop_loss=0.04, take_profit=1), {}),
    ("createOrder", "Create market buy with base amount (UTA only)", "spot",
     lambda c: c.create_market_order("LTCUSDT", "buy", 0.2), {}),
    ("createOrder", "swap limit buy with triggerPrice and triggerDirection above", "linear",
     lambda c: c.create_limit_order(
         "BTCUSDT", "buy", 0.001, 37000, trigger_price=37000, trigger_direction="above"
     ), {}),
    ("createOrder", "swap limit buy with triggerPrice and triggerDirection below", "linear",
     lambda c: c.create_limit_order(
         "BTCUSDT", "buy", 0.001, 35000, trigger_price=35000, trigger_direction="fall"
     ), {}),
    ("createOrder", "Create swap trigger order with stopLoss attached", "linear",
     lambda c: c.create_limit_order(
         "BTCUSDT", "buy", 0.001, 41000, trigger_price="40000", trigger_direction="rise",
         stop_loss="39500",
     ), {}),
    ("createOrder", "spot limit buy with triggerPrice", "spot",
     lambda c: c.create_limit_order("BTCUSDT", "buy", 0.1, 36000, trigger_price=36001), {}),
    ("cancelOrder", "Swap cancelOrder", "linear",
     lambda c: c.cancel_order("8caeea8c-cf80-4b06-83e8-bb7df45fc122", "LTCUSDT"), {}),
    ("cancelOrder", "Spot cancelOrder", "spot",
     lambda c: c.cancel_order("1513125485218108928", "LTCUSDT"),
     {"orderFilter": "ccxt spells out Bybit's default 'Order' for spot; omitting it is the same"}),
    ("fetchOpenOrders", "Spot fetchOpenOrders", "spot",
     lambda c: c.fetch_open_orders("LTCUSDT"), {}),
    ("fetchOpenOrders", "Swap fetchOpenOrders", "linear",
     lambda c: c.fetch_open_orders("LTCUSDT"), {}),
    ("fetchBalance", "fetch default balance", "linear", lambda c: c.fetch_balance(), {}),
    ("fetchOHLCV", "basic call", "spot", lambda c: c.fetch_klines("BTCUSDT", "1m", 200), {}),
    ("fetchOHLCV", "limit and interval set", "spot",
     lambda c: c.fetch_klines("BTCUSDT", "1h", 5), {}),
    ("fetchOHLCV", "since and until set", "spot",
     lambda c: c.fetch_klines("BTCUSDT", "1m", 200, start=1704067200000, end=1704067800000), {}),
    ("fetchPositions", "Swap fetchPositions", "linear", lambda c: c.fetch_positions(), {}),
    ("fetchLeverage", "fetch leverage", "linear", lambda c: c.fetch_positions("LTCUSDT"), {}),
    ("fetchMyTrades", "Swap fetchMyTrades", "linear", lambda c: c.fetch_executions("LTCUSDT"),
     {"execType": "ccxt asks for plain trades only; btb also needs liquidation/ADL fills"}),
    ("setLeverage", "Set leverage swap linear", "linear",
     lambda c: c.set_leverage("LTCUSDT", 6), {}),
    ("fetchOpenOrder", "Swap fetch open order", "linear",
     lambda c: c.fetch_order("BTCUSDT", "90e3a7b9-20dc-4d04-9259-a565135dbf69"), {}),
    ("fetchTradingFee", "linear trading fee", "linear", lambda c: c.fetch_fee_rates("BTCUSDT"), {}),
    ("fetchTime", "fetchTime", "linear", lambda c: c.fetch_server_time(), {}),
]  # fmt: skip

#: Fields btb sends that the ccxt case does not, with the reason.
EXTRA_QUERY = {("fetchTickers", "Default conflicting id to swap"): {"symbol"}}


def _ccxt_case(fixtures_dir: Path, method: str, description: str) -> dict[str, Any]:
    data = json.loads((fixtures_dir / "ccxt" / "request" / "bybit.json").read_text())
    matches = [c for c in data["methods"][method] if c["description"] == description]
    assert len(matches) == 1, f"ccxt case {method} / {description!r} not found exactly once"
    return matches[0]


def _serve_recorded(server: RecordedBybit) -> None:
    """Recorded answers for every path the cases touch (shapes the client must parse)."""
    server.answer("POST", "/v5/order/create", ccxt_response("createOrder", 1))
    # Bybit's cancel answer has the create answer's shape: {"orderId", "orderLinkId"}.
    server.answer("POST", "/v5/order/cancel", ccxt_response("createOrder", 1))
    server.answer("GET", "/v5/order/realtime", recorded("http_get_orders_realtime.json"))
    server.answer("GET", "/v5/account/wallet-balance", recorded("http_get_wallet_balance.json"))
    server.answer("GET", "/v5/market/kline", ccxt_response("fetchOHLCV"))
    server.answer("GET", "/v5/market/tickers", ccxt_response("fetchTicker"))
    server.answer("GET", "/v5/position/list", recorded("http_get_positions.json"))
    server.answer("GET", "/v5/execution/list", recorded("http_get_executions.json"))
    server.answer("GET", "/v5/account/fee-rate", recorded("http_get_fee_rate.json"))
    server.answer("POST", "/v5/position/set-leverage", OK_EMPTY)
    server.answer("GET", "/v5/market/time", OK_EMPTY)


@pytest.fixture
async def server() -> AsyncIterator[RecordedBybit]:
    srv = RecordedBybit()
    await srv.start()
    _serve_recorded(srv)
    yield srv
    await srv.stop()


def client_for(server: RecordedBybit, market_type: str = "linear") -> ByBitDirectClient:
    return ByBitDirectClient(
        server.api_key,
        server.api_secret,
        testnet=True,
        market_type=market_type,
        base_url=server.base_url,
        retry_policy=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
    )


def _expected(case: dict[str, Any]) -> tuple[str, str, dict[str, str], dict[str, Any] | None]:
    url = urlsplit(case["url"])
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    body = json.loads(case["output"]) if "output" in case else None
    return ("POST" if body is not None else "GET"), url.path, query, body


@pytest.mark.parametrize(
    ("method", "description", "market_type", "call", "ccxt_only"),
    CASES,
    ids=[f"{c[0]}:{c[1]}" for c in CASES],
)
async def test_request_matches_ccxt_fixture(
    server: RecordedBybit,
    fixtures_dir: Path,
    method: str,
    description: str,
    market_type: str,
    call: Call,
    ccxt_only: dict[str, str],
) -> None:
    verb, path, query, body = _expected(_ccxt_case(fixtures_dir, method, description))
    client = client_for(server, market_type)
    await client.initialize(load_markets=False)
    try:
        await call(client)
    finally:
        await client.close()
    assert len(server.requests) == 1, [r.path for r in server.requests]
    sent = server.requests[0]
    assert (sent.method, sent.path) == (verb, path)
    if body is None:
        for key in ccxt_only:
            query.pop(key)
        assert sent.query == query
        assert sent.body is None
    else:
        assert sent.query == {}
        assert sent.body is not None
        ours = {k: v for k, v in sent.body.items() if k not in BTB_ORDER_FIELDS}
        for key in ccxt_only:
            body.pop(key)
        assert ours == body
        if method == "createOrder":
            assert len(sent.body["orderLinkId"]) <= 36


async def test_ticker_request_adds_only_the_symbol(
    server: RecordedBybit, fixtures_dir: Path
) -> None:
    """ccxt's fetchTickers asks for every ticker and filters locally; btb asks for one."""
    _, path, query, _ = _expected(
        _ccxt_case(fixtures_dir, "fetchTickers", "Default conflicting id to swap")
    )
    client = client_for(server)
    await client.initialize(load_markets=False)
    try:
        ticker = await client.fetch_ticker("BTCUSDT")
    finally:
        await client.close()
    sent = server.requests[0]
    assert sent.path == path
    assert sent.query == {**query, "symbol": "BTCUSDT"}
    assert ticker["last"] == 51444.4  # recorded lastPrice "51444.40"


async def test_private_requests_are_signed_as_bybit_verifies(server: RecordedBybit) -> None:
    """The server recomputes HMAC(secret, ts + key + recv_window + wire payload) itself."""
    client = client_for(server)
    await client.initialize(load_markets=False)
    try:
        await client.fetch_balance()
        await client.fetch_open_orders("ETHUSDT")
        await client.create_limit_order("ETHUSDT", "buy", "0.01", "3930.41")
        await client.fetch_ticker("BTCUSDT")
    finally:
        await client.close()
    private = [r for r in server.requests if r.path != "/v5/market/tickers"]
    assert len(private) == 3
    for request in private:
        assert request.signature_ok is True, request.path
        assert request.headers["X-BAPI-API-KEY"] == server.api_key
        assert request.headers["X-BAPI-RECV-WINDOW"] == "10000"
        assert request.headers["X-BAPI-TIMESTAMP"].isdigit()
    public = [r for r in server.requests if r.path == "/v5/market/tickers"]
    assert public[0].signature_ok is None  # market data goes unsigned
    assert "X-BAPI-API-KEY" not in public[0].headers


async def test_wrong_secret_fails_the_servers_check(server: RecordedBybit) -> None:
    """Guards the check above: a client with another secret is caught by the server."""
    client = ByBitDirectClient(
        server.api_key, "not-the-secret", base_url=server.base_url, market_type="linear"
    )
    await client.initialize(load_markets=False)
    try:
        await client.fetch_balance()
    finally:
        await client.close()
    assert server.requests[0].signature_ok is False


def test_hosts_follow_the_testnet_flag() -> None:
    assert ByBitDirectClient("k", "s").base_url == "https://api-demo.bybit.com"
    assert ByBitDirectClient("k", "s", testnet=False).base_url == "https://api.bybit.com"
    assert ByBitDirectClient("k", "s", base_url="http://127.0.0.1:1/").base_url == (
        "http://127.0.0.1:1"
    )


async def test_wire_format_equals_pybit_against_the_same_server(server: RecordedBybit) -> None:
    """pybit (Bybit's own SDK) and btb send byte-identical query strings and bodies."""
    import asyncio

    from pybit.unified_trading import HTTP

    session = HTTP(api_key=server.api_key, api_secret=server.api_secret, demo=True)
    session.endpoint = server.base_url  # pybit builds every URL from this attribute
    # ccxt's fixture stores retCode as the string "0"; Bybit sends the number, and pybit
    # (unlike btb) takes any truthy retCode, "0" included, for an error.
    server.answer("POST", "/v5/order/create", {**ccxt_response("createOrder", 1), "retCode": 0})
    link = "btb-0123456789abcdef0123456789abcde"
    await asyncio.to_thread(session.get_wallet_balance, accountType="UNIFIED")
    await asyncio.to_thread(
        session.place_order, category="linear", symbol="ETHUSDT", side="Buy",
        orderType="Limit", qty="0.01", price="3930.41", orderLinkId=link,
    )  # fmt: skip
    client = client_for(server)
    await client.initialize(load_markets=False)
    try:
        await client.fetch_balance()
        await client.create_limit_order("ETHUSDT", "buy", "0.01", "3930.41", order_link_id=link)
    finally:
        await client.close()
    theirs, ours = server.requests[:2], server.requests[2:]
    assert [r.path for r in theirs] == [r.path for r in ours]
    assert theirs[0].raw_query == ours[0].raw_query == "accountType=UNIFIED"
    assert theirs[1].raw_body == ours[1].raw_body
    assert all(r.signature_ok for r in server.requests)
