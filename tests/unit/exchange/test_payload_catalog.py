"""Every recorded Bybit/Binance payload in the shared fixtures parses into btb objects.

CATALOG names, for every JSON file under ``exchange_fixtures`` (nautilus_trader Bybit and
Binance test data and integration resources, basana), either the parser it goes through or,
for payloads that are no btb domain object, why it is out of scope. A test checks the catalog
covers exactly the files on disk, so a new fixture cannot be silently ignored. Values are
checked by hand in test_payload_values.py; the ccxt response subset in test_payload_ccxt.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from btb.core.bar import Bar
from btb.core.fill import Fill
from btb.core.instrument import Instrument
from btb.errors import AuthenticationError, DataError, ExchangeAPIError
from btb.exchange.parsing import binance, binance_account, binance_stream, bybit, bybit_account
from btb.exchange.parsing.values import (
    FeeRate,
    OrderAck,
    OrderSnapshot,
    PositionSnapshot,
    Ticker,
    WalletSnapshot,
)

BYBIT = "nautilus_trader/crates/adapters/bybit/test_data/"
BN = "nautilus_trader/crates/adapters/binance/test_data/"
BN_HTTP = "nautilus_trader/tests/integration_tests/adapters/binance/resources/http_responses/"
BN_WS = "nautilus_trader/tests/integration_tests/adapters/binance/resources/ws_messages/"

# Reasons, shared by the out-of-scope entries below.
BOOK = "order-book depth: btb trades on candles and keeps no order book"
TRADES = "public trade prints: btb consumes candles, not individual market trades"
ADMIN = "account/API-key administration: not trading data"
STATS = "market statistics (funding, open interest, ratios, index): no btb domain object"
QUOTE = "top-of-book quote: btb takes prices from tickers and candles"
PRICE_KLINES = "index/mark/NAV price candles carry no traded volume: not btb Bars"
SERVICE = "connectivity/clock endpoint: no data"
NO_FEE = "fee-less trade notification; the full order update of the same trade carries the fill"
DELTA = "balance delta (deposit/transfer), not a balance: btb re-fetches the account"
SBE = "metadata of binary SBE captures, not a JSON payload"

REJECT = "reject"  # parsed, and must be refused with the error named in REJECTED

CATALOG: dict[str, str] = {
    # ---------------------------------------------------------------- Bybit V5 (nautilus)
    BYBIT + "http_get_account_info.json": "out: margin-mode/UTA settings, not a domain object",
    BYBIT + "http_get_executions.json": "bybit_executions",
    BYBIT + "http_get_fee_rate.json": "bybit_fee_rates",
    BYBIT + "http_get_funding_history.json": "out: " + STATS,
    BYBIT + "http_get_instruments_inverse.json": REJECT,
    BYBIT + "http_get_instruments_inverse_symbol_type.json": REJECT,
    BYBIT + "http_get_instruments_linear.json": "bybit_instruments",
    BYBIT + "http_get_instruments_linear_symbol_type.json": "bybit_instruments",
    BYBIT + "http_get_instruments_option.json": REJECT,
    BYBIT + "http_get_instruments_option_symbol_id.json": REJECT,
    BYBIT + "http_get_instruments_spot.json": "bybit_instruments",
    BYBIT + "http_get_instruments_spot_xstocks.json": "bybit_instruments",
    BYBIT + "http_get_klines_linear.json": "bybit_klines",
    BYBIT + "http_get_order_partially_filled_rejected.json": "bybit_orders",
    BYBIT + "http_get_orderbook.json": "out: " + BOOK,
    BYBIT + "http_get_orders_history.json": "bybit_orders",
    BYBIT + "http_get_orders_history_with_duplicate.json": "bybit_orders",
    BYBIT + "http_get_orders_realtime.json": "bybit_orders",
    BYBIT + "http_get_orders_realtime_tp_sl.json": "bybit_orders",
    BYBIT + "http_get_positions.json": "bybit_positions",
    BYBIT + "http_get_positions_with_open_time.json": "bybit_positions",
    BYBIT + "http_get_trades_recent.json": "out: " + TRADES,
    BYBIT + "http_get_user_escrow_sub_members.json": "out: " + ADMIN,
    BYBIT + "http_get_user_query_api.json": "out: " + ADMIN,
    BYBIT + "http_get_user_sub_apikeys.json": "out: " + ADMIN,
    BYBIT + "http_get_user_sub_members.json": "out: " + ADMIN,
    BYBIT + "http_get_user_sub_members_paged.json": "out: " + ADMIN,
    BYBIT + "http_get_wallet_balance.json": "bybit_wallet",
    BYBIT + "http_get_wallet_balance_spot_short.json": "bybit_wallet",
    BYBIT + "http_get_wallet_balance_with_spot_borrow.json": "bybit_wallet",
    BYBIT + "http_post_user_update_master_api.json": "out: " + ADMIN,
    BYBIT + "http_post_user_update_sub_api.json": "out: " + ADMIN,
    BYBIT + "ws_account_execution.json": "bybit_executions",
    BYBIT + "ws_account_execution_adl.json": "bybit_executions",
    BYBIT + "ws_account_execution_fast.json": REJECT,
    BYBIT + "ws_account_execution_fast_envelope_id.json": "bybit_executions",
    **{BYBIT + f"ws_account_order{s}.json": "bybit_orders" for s in (
        "", "_buy_stop_market", "_filled", "_limit_if_touched", "_market_if_touched",
        "_partially_filled_rejected", "_sell_market_if_touched", "_stop_limit", "_stop_loss",
        "_stop_market", "_take_profit")},
    BYBIT + "ws_account_position.json": "bybit_positions",
    BYBIT + "ws_account_position_short.json": "bybit_positions",
    BYBIT + "ws_account_position_with_open_time.json": "bybit_positions",
    BYBIT + "ws_account_wallet.json": "bybit_wallet",
    BYBIT + "ws_account_wallet_locked_exceeds_total.json": "bybit_wallet",
    BYBIT + "ws_account_wallet_small_order.json": "bybit_wallet",
    BYBIT + "ws_auth_failure.json": REJECT,
    BYBIT + "ws_auth_success.json": "bybit_ws_ok",
    BYBIT + "ws_kline.json": "bybit_ws_kline",
    BYBIT + "ws_order_response.json": "bybit_order_ack",
    BYBIT + "ws_orderbook_delta.json": "out: " + BOOK,
    BYBIT + "ws_orderbook_snapshot.json": "out: " + BOOK,
    BYBIT + "ws_public_trade.json": "out: " + TRADES,
    BYBIT + "ws_subscription_ack.json": "bybit_ws_ok",
    BYBIT + "ws_subscription_failure.json": REJECT,
    BYBIT + "ws_ticker_linear.json": "bybit_ticker",
    BYBIT + "ws_ticker_option.json": "bybit_ticker",
    # ---------------------------------------------------- Binance USDⓈ-M futures (nautilus)
    BN + "futures/http_json/account_info_v2.json": "binance_account",
    BN + "futures/http_json/balance.json": "binance_balance",
    BN + "futures/http_json/open_algo_orders.json": "binance_algo_orders",
    BN + "futures/http_json/order_response.json": "binance_orders",
    BN + "futures/http_json/position_risk.json": "binance_positions",
    BN + "futures/market_data_json/agg_trade_stream.json": "out: " + TRADES,
    BN + "futures/market_data_json/book_ticker_stream.json": "out: " + QUOTE,
    BN + "futures/market_data_json/depth_update_stream.json": "out: " + BOOK,
    BN + "futures/market_data_json/kline_stream_closed.json": "binance_ws_kline",
    BN + "futures/market_data_json/kline_stream_open.json": "binance_ws_kline",
    BN + "futures/market_data_json/liquidation_stream.json": "out: " + TRADES,
    BN + "futures/market_data_json/mark_price_stream.json": "out: " + STATS,
    BN + "futures/market_data_json/ticker_stream.json": "binance_ws_ticker",
    BN + "futures/market_data_json/trade_stream.json": "out: " + TRADES,
    BN + "futures/user_data_json/account_update.json": "binance_account_update",
    BN + "futures/user_data_json/account_update_bnfcr.json": "binance_account_update",
    BN + "futures/user_data_json/algo_update_canceled.json": "binance_algo_update",
    BN + "futures/user_data_json/algo_update_new.json": "binance_algo_update",
    **{BN + f"futures/user_data_json/order_update_{s}.json": "binance_order_update" for s in (
        "adl", "calculated", "calculated_pending", "delivery", "insurance", "new",
        "settlement", "trade", "trade_partial")},
    BN + "futures/user_data_json/trade_lite.json": "out: " + NO_FEE,
    # ------------------------------------------------------------------ Binance spot (nautilus)
    BN + "spot/http_json/account_response.json": "binance_account",
    BN + "spot/http_json/account_trades_response.json": "binance_user_trades",
    BN + "spot/http_json/all_orders_response.json": "binance_orders",
    BN + "spot/http_json/avg_price_response.json": "out: " + STATS,
    BN + "spot/http_json/book_ticker_response.json": "out: " + QUOTE,
    BN + "spot/http_json/cancel_open_orders_response.json": "binance_orders",
    BN + "spot/http_json/cancel_order_response.json": "binance_orders",
    BN + "spot/http_json/depth_response.json": "out: " + BOOK,
    BN + "spot/http_json/exchange_info_response.json": "binance_exchange_info",
    BN + "spot/http_json/klines_response.json": "binance_klines",
    BN + "spot/http_json/new_order_full_response.json": "binance_order_fills",
    BN + "spot/http_json/open_orders_response.json": "binance_orders",
    BN + "spot/http_json/order_response.json": "binance_orders",
    BN + "spot/http_json/ping_response.json": "out: " + SERVICE,
    BN + "spot/http_json/server_time_response.json": "out: " + SERVICE,
    BN + "spot/http_json/ticker_24hr_response.json": "binance_ticker",
    BN + "spot/http_json/ticker_price_response.json": "binance_ticker",
    BN + "spot/http_json/trades_response.json": "out: " + TRADES,
    BN + "spot/user_data_json/account_position.json": "binance_account_update",
    BN + "spot/user_data_json/account_position_wrapped.json": "binance_account_update",
    BN + "spot/user_data_json/balance_update.json": "out: " + DELTA,
    BN + "spot/user_data_json/balance_update_wrapped.json": "out: " + DELTA,
    **{BN + f"spot/user_data_json/execution_report_{s}.json": "binance_order_update" for s in (
        "canceled", "expired", "new", "stop_loss", "trade", "wrapped")},
    BN + "spot/user_data_json/list_status_wrapped.json":
        "out: OCO list status; btb places no order lists",
    **{BN + f"spot/user_data_sbe/mainnet/{n}.json": "out: " + SBE for n in (
        "execution_report_event_1.metadata", "execution_report_event_2.metadata", "manifest",
        "outbound_account_position_event_1.metadata", "outbound_account_position_event_2.metadata",
        "web_socket_response_1.metadata", "web_socket_response_2.metadata")},
    # ------------------------------------------------ Binance integration resources (nautilus)
    BN_HTTP + "http_futures_account_orders.json": "binance_orders",
    BN_HTTP + "http_futures_account_position_side_dual.json": "out: position-mode flag, a setting",
    BN_HTTP + "http_futures_account_positions_hedge.json": "binance_positions",
    BN_HTTP + "http_futures_account_positions_one_way.json": "binance_positions",
    BN_HTTP + "http_futures_account_symbol_config.json": "out: per-symbol leverage/margin settings",
    BN_HTTP + "http_futures_account_trades.json": "binance_user_trades",
    BN_HTTP + "http_futures_market_agg_trades.json": "out: " + TRADES,
    BN_HTTP + "http_futures_market_asset_index.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_blvt_nav_kline.json": "out: " + PRICE_KLINES,
    BN_HTTP + "http_futures_market_book_ticker.json": "out: " + QUOTE,
    BN_HTTP + "http_futures_market_continuous_klines.json": "binance_klines",
    BN_HTTP + "http_futures_market_depth.json": "out: " + BOOK,
    BN_HTTP + "http_futures_market_exchange_info.json": "binance_exchange_info",
    BN_HTTP + "http_futures_market_funding_rate.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_global_long_short_account_ratio.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_historical_trades.json": "out: " + TRADES,
    BN_HTTP + "http_futures_market_index_info.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_index_price_klines.json": "out: " + PRICE_KLINES,
    BN_HTTP + "http_futures_market_klines.json": "binance_klines",
    BN_HTTP + "http_futures_market_mark_price_klines.json": "out: " + PRICE_KLINES,
    BN_HTTP + "http_futures_market_open_interest.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_open_interest_historical.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_premium_index.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_taker_long_short_ratio.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_ticker_24hr.json": "binance_ticker",
    BN_HTTP + "http_futures_market_ticker_price.json": "binance_ticker",
    BN_HTTP + "http_futures_market_top_long_short_account_ratio.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_top_long_short_position_ratio.json": "out: " + STATS,
    BN_HTTP + "http_futures_market_trades.json": "out: " + TRADES,
    BN_HTTP + "http_futures_wallet_commission_rate_btcusdt.json": "binance_fee_rates",
    BN_HTTP + "http_futures_wallet_commission_rate_btcusdt_quarterly.json": "binance_fee_rates",
    BN_HTTP + "http_futures_wallet_commission_rate_ethusdt.json": "binance_fee_rates",
    BN_HTTP + "http_spot_market_agg_trades.json": "out: " + TRADES,
    BN_HTTP + "http_spot_market_avg_price.json": "out: " + STATS,
    BN_HTTP + "http_spot_market_book_ticker.json": "out: " + QUOTE,
    BN_HTTP + "http_spot_market_depth.json": "out: " + BOOK,
    BN_HTTP + "http_spot_market_exchange_info.json": "binance_exchange_info",
    BN_HTTP + "http_spot_market_historical_trades.json": "out: " + TRADES,
    BN_HTTP + "http_spot_market_klines.json": "binance_klines",
    BN_HTTP + "http_spot_market_ping.json": "out: " + SERVICE,
    BN_HTTP + "http_spot_market_ticker_price.json": "binance_ticker",
    BN_HTTP + "http_spot_market_time.json": "out: " + SERVICE,
    BN_HTTP + "http_spot_market_trades.json": "out: " + TRADES,
    BN_HTTP + "http_spot_wallet_account.json": "binance_account",
    BN_HTTP + "http_wallet_trading_fee.json": "binance_fee_rates",
    BN_HTTP + "http_wallet_trading_fees.json": "binance_fee_rates",
    **{BN_WS + f"ws_futures_algo_update_{s}.json": "binance_algo_update" for s in (
        "finished", "finished_canceled", "triggered", "triggering")},
    BN_WS + "ws_futures_book_ticker.json": "out: " + QUOTE,
    BN_WS + "ws_futures_depth_diff_update.json": "out: " + BOOK,
    BN_WS + "ws_futures_depth_update.json": "out: " + BOOK,
    **{BN_WS + f"ws_futures_order_update_{s}.json": "binance_order_update" for s in (
        "adl", "adl_filled", "liquidation", "liquidation_zero_qty",
        "new_limit_if_touched_price_match", "new_price_match", "new_reduce_only_qty",
        "new_stop_limit_price_match", "settlement", "trade_reduce_only_qty")},
    BN_WS + "ws_futures_ticker_24hr.json": "binance_ws_ticker",
    BN_WS + "ws_futures_trade_lite.json": "out: " + NO_FEE,
    BN_WS + "ws_spot_agg_trade.json": "out: " + TRADES,
    **{BN_WS + f"ws_spot_execution_report_{s}.json": "binance_order_update" for s in (
        "binance_us", "calculated", "canceled", "custom_client_id", "empty_client_id",
        "expired", "new", "new_limit_if_touched_price_match", "new_price_match",
        "new_stop_limit_price_match", "pending_cancel", "rejected", "trade", "trade_l_zero",
        "trade_l_zero_canceled", "trade_l_zero_expired", "trade_l_zero_new",
        "trade_l_zero_partial", "trade_prevention")},
    BN_WS + "ws_spot_ticker_24hr.json": "binance_ws_ticker",
    BN_WS + "ws_spot_ticker_book.json": "out: " + QUOTE,
    BN_WS + "ws_spot_trade.json": "out: " + TRADES,
    # ------------------------------------------------------------------------------ basana
    "basana/binance_btc_usdt_exchange_info.json": "binance_exchange_info",
    "basana/binance_cross_margin_account_details.json": "binance_account",
    "basana/binance_depth_update.json": "out: " + BOOK,
    "basana/binance_isolated_margin_account_details.json":
        "out: isolated-margin accounts; btb trades spot and USDⓈ-M futures, not margin",
    # ------------------------------------------------------------------ not venue payloads
    "ccxt/request/bybit.json": "out: request fixtures (test_bybit_direct_requests.py)",
    "ccxt/request/binanceusdm.json": "out: request fixtures (for the ccxt Binance adapter)",
    "ccxt/response/bybit.subset.json": "out: checked case by case in test_payload_ccxt.py",
    "signing_vectors/hmac_sha256_vectors.json": "out: signing vectors (test_bybit_signing.py)",
}  # fmt: skip

#: Files that must be refused, with the error and the text it must contain.
REJECTED: dict[str, tuple[type[Exception], str]] = {
    BYBIT + "http_get_instruments_inverse.json": (
        DataError,
        "inverse instruments are not supported",
    ),
    BYBIT + "http_get_instruments_inverse_symbol_type.json": (DataError, "inverse instruments"),
    BYBIT + "http_get_instruments_option.json": (DataError, "option instruments are not"),
    BYBIT + "http_get_instruments_option_symbol_id.json": (DataError, "option instruments"),
    BYBIT + "ws_account_execution_fast.json": (DataError, "no execFee"),
    BYBIT + "ws_auth_failure.json": (AuthenticationError, "Invalid apikey"),
    BYBIT + "ws_subscription_failure.json": (ExchangeAPIError, "Invalid topic"),
}

Parser = Callable[[Any], Any]


def one(func: Callable[[Any], Any]) -> Parser:
    """A parser of one-object payloads, as a list."""
    return lambda payload: [func(payload)]


def first(func: Callable[[Any], Any]) -> Parser:
    """A parser returning a tuple, keeping its first element, as a list."""
    return lambda payload: [func(payload)[0]]


ONE = lambda payload: 1  # noqa: E731


def _bybit_records(payload: dict[str, Any]) -> int:
    if "result" in payload:
        return len(payload["result"]["list"])
    if "data" not in payload:
        return 1  # a bare record
    data = payload["data"]
    return len(data) if isinstance(data, list) else 1


def _records(payload: Any) -> int:
    return len(payload) if isinstance(payload, list) else 1


def _orders(payload: Any) -> int:
    """Orders, counting each report of an order list (OCO) in a cancel-all answer."""
    items = payload if isinstance(payload, list) else [payload]
    return sum(len(i["orderReports"]) if "orderReports" in i else 1 for i in items)


def _trading(payload: dict[str, Any]) -> int:
    """TRADING symbols that state their filters (one spot fixture lists a symbol without)."""
    return sum(1 for s in payload["symbols"] if s["status"] == "TRADING" and s["filters"])


def _ws_ok(payload: dict[str, Any]) -> list[bool]:
    bybit.check_bybit_ws_response(payload)
    return [True]


# kind -> (parser, expected result type, number of records the JSON holds)
KINDS: dict[str, tuple[Parser, type, Callable[[Any], int]]] = {
    "bybit_instruments": (bybit.parse_bybit_instruments, Instrument, _bybit_records),
    "bybit_klines": (lambda p: bybit.parse_bybit_klines(p, "1m"), Bar, _bybit_records),
    "bybit_ws_kline": (lambda p: [b for b, _ in bybit.parse_bybit_ws_kline(p)], Bar,
                       _bybit_records),
    "bybit_ticker": (one(bybit.parse_bybit_ticker), Ticker, ONE),
    "bybit_fee_rates": (lambda p: list(bybit.parse_bybit_fee_rates(p).values()), FeeRate,
                        _bybit_records),
    "bybit_orders": (bybit_account.parse_bybit_orders, OrderSnapshot, _bybit_records),
    "bybit_executions": (bybit_account.parse_bybit_executions, Fill, _bybit_records),
    "bybit_positions": (bybit_account.parse_bybit_positions, PositionSnapshot, _bybit_records),
    "bybit_wallet": (one(bybit_account.parse_bybit_wallet), WalletSnapshot, ONE),
    "bybit_order_ack": (one(bybit_account.parse_bybit_order_ack), OrderAck, ONE),
    "bybit_ws_ok": (_ws_ok, bool, ONE),
    "binance_exchange_info": (binance.parse_binance_exchange_info, Instrument, _trading),
    "binance_klines": (lambda p: binance.parse_binance_klines(p, "BTCUSDT", "1m"), Bar, _records),
    "binance_orders": (binance.parse_binance_orders, OrderSnapshot, _orders),
    "binance_algo_orders": (binance.parse_binance_algo_orders, OrderSnapshot, _records),
    "binance_user_trades": (binance.parse_binance_user_trades, Fill, _records),
    "binance_order_fills": (binance.parse_binance_order_fills, Fill, lambda p: len(p["fills"])),
    "binance_ticker": (one(binance.parse_binance_ticker), Ticker, ONE),
    "binance_fee_rates": (lambda p: list(binance.parse_binance_fee_rates(p).values()), FeeRate,
                          _records),
    "binance_positions": (binance_account.parse_binance_positions, PositionSnapshot, _records),
    "binance_account": (one(binance_account.parse_binance_account), WalletSnapshot, ONE),
    "binance_balance": (one(binance_account.parse_binance_balance), WalletSnapshot, ONE),
    "binance_order_update": (first(binance_stream.parse_binance_order_update), OrderSnapshot, ONE),
    "binance_algo_update": (one(binance_stream.parse_binance_algo_update), OrderSnapshot, ONE),
    "binance_account_update": (first(binance_stream.parse_binance_account_update),
                               WalletSnapshot, ONE),
    "binance_ws_kline": (first(binance_stream.parse_binance_ws_kline), Bar, ONE),
    "binance_ws_ticker": (one(binance_stream.parse_binance_ws_ticker), Ticker, ONE),
}  # fmt: skip

PARSED = sorted(k for k, v in CATALOG.items() if not v.startswith("out: ") and v != REJECT)


def _load(fixtures_dir: Path, relative: str) -> Any:
    return json.loads((fixtures_dir / relative).read_text())


def test_catalog_covers_every_json_file_exactly(fixtures_dir: Path) -> None:
    on_disk = {p.relative_to(fixtures_dir).as_posix() for p in fixtures_dir.rglob("*.json")}
    assert set(CATALOG) - on_disk == set(), "catalog names files that do not exist"
    assert on_disk - set(CATALOG) == set(), "fixture files missing from the catalog"
    assert {k for k, v in CATALOG.items() if v == REJECT} == set(REJECTED)
    assert all(v in KINDS for v in CATALOG.values() if not v.startswith("out: ") and v != REJECT)


@pytest.mark.parametrize("relative", PARSED)
def test_payload_parses_into_domain_objects(fixtures_dir: Path, relative: str) -> None:
    parser, expected_type, count = KINDS[CATALOG[relative]]
    payload = _load(fixtures_dir, relative)
    parsed = parser(payload)
    assert len(parsed) == count(payload)
    assert all(isinstance(item, expected_type) for item in parsed)


@pytest.mark.parametrize("relative", sorted(REJECTED))
def test_unsupported_payload_is_refused_clearly(fixtures_dir: Path, relative: str) -> None:
    error, text = REJECTED[relative]
    payload = _load(fixtures_dir, relative)
    with pytest.raises(error, match=text):
        if "instruments" in relative:
            bybit.parse_bybit_instruments(payload)
        elif "execution" in relative:
            bybit_account.parse_bybit_executions(payload)
        else:
            bybit.check_bybit_ws_response(payload)
