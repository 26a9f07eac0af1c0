"""Recorded payloads parse to the values they state, checked by hand against the JSON."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from btb.core.enums import (
    LiquiditySide,
    MarketType,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from btb.errors import DataError, InsufficientFundsError
from btb.exchange.parsing import binance, binance_account, binance_stream, bybit, bybit_account
from btb.exchange.parsing.values import FeeRate

BYBIT = "nautilus_trader/crates/adapters/bybit/test_data/"
BN = "nautilus_trader/crates/adapters/binance/test_data/"
BN_HTTP = "nautilus_trader/tests/integration_tests/adapters/binance/resources/http_responses/"
BN_WS = "nautilus_trader/tests/integration_tests/adapters/binance/resources/ws_messages/"


@pytest.fixture
def load(fixtures_dir: Path) -> Any:
    return lambda relative: json.loads((fixtures_dir / relative).read_text())


def utc_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


# -- instruments ------------------------------------------------------------------------------


def test_bybit_linear_instrument_rules(load: Any) -> None:
    btc, eth = bybit.parse_bybit_instruments(load(BYBIT + "http_get_instruments_linear.json"))
    assert (btc.symbol, btc.base, btc.quote, btc.market_type) == (
        "BTCUSDT",
        "BTC",
        "USDT",
        MarketType.LINEAR,
    )
    assert (btc.tick_size, btc.lot_step, btc.min_qty) == (D("0.5"), D("0.001"), D("0.001"))
    assert (btc.min_notional, btc.max_qty, btc.max_leverage) == (D("5"), D("100.0"), 100)
    assert (eth.tick_size, eth.lot_step, eth.min_qty, eth.max_qty) == (
        D("0.05"),
        D("0.01"),
        D("0.01"),
        D("1000.0"),
    )


def test_bybit_spot_instrument_uses_base_precision_and_min_amount(load: Any) -> None:
    btc, eth = bybit.parse_bybit_instruments(load(BYBIT + "http_get_instruments_spot.json"))
    assert btc.market_type is MarketType.SPOT and btc.max_leverage == 1
    assert (btc.tick_size, btc.lot_step, btc.min_qty, btc.min_notional) == (
        D("0.1"),
        D("0.0001"),
        D("0.001"),
        D("10"),
    )
    assert (eth.tick_size, eth.lot_step) == (D("0.01"), D("0.00001"))


def test_bybit_fee_rates_replace_the_default_fees(load: Any) -> None:
    fees = bybit.parse_bybit_fee_rates(load(BYBIT + "http_get_fee_rate.json"))
    assert fees["SOLUSDT"] == FeeRate("SOLUSDT", D("0.00025"), D("0.00075"))
    btc = bybit.parse_bybit_instruments(
        load(BYBIT + "http_get_instruments_linear.json"), fees=fees
    )[0]
    assert (btc.maker_fee, btc.taker_fee) == (D("0.0001"), D("0.0006"))


def test_binance_futures_exchange_info_rules(load: Any) -> None:
    instruments = binance.parse_binance_exchange_info(
        load(BN_HTTP + "http_futures_market_exchange_info.json")
    )
    btc = next(i for i in instruments if i.symbol == "BTCUSDT")
    assert btc.market_type is MarketType.LINEAR
    assert (btc.tick_size, btc.lot_step, btc.min_qty, btc.max_qty) == (
        D("0.10"),
        D("0.001"),
        D("0.001"),
        D("1000"),
    )
    assert btc.min_notional == D("10")  # MIN_NOTIONAL.notional
    assert btc.maintenance_margin_rate == D("0.025")  # maintMarginPercent 2.5000 %


def test_binance_spot_exchange_info_rules(load: Any) -> None:
    (btc,) = binance.parse_binance_exchange_info(load("basana/binance_btc_usdt_exchange_info.json"))
    assert btc.market_type is MarketType.SPOT
    assert (btc.tick_size, btc.lot_step, btc.min_qty, btc.min_notional) == (
        D("0.01000000"),
        D("0.00001000"),
        D("0.00001000"),
        D("10.00000000"),
    )


def test_binance_symbol_without_filters_is_left_out_with_a_warning(
    load: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result = binance.parse_binance_exchange_info(
            load(BN + "spot/http_json/exchange_info_response.json")
        )
    assert result == []
    assert "ETHBTC" in caplog.text


# -- candles ----------------------------------------------------------------------------------


def test_bybit_klines_come_back_oldest_first(load: Any) -> None:
    (bar,) = bybit.parse_bybit_klines(load(BYBIT + "http_get_klines_linear.json"), "1m")
    assert bar.symbol == "BTCUSDT" and bar.open_time == utc_ms(1709891679000)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        27450,
        27460,
        27440,
        27455,
        123.45,
    )


def test_bybit_stream_kline_reports_whether_the_bar_closed(load: Any) -> None:
    ((bar, closed),) = bybit.parse_bybit_ws_kline(load(BYBIT + "ws_kline.json"))
    assert (bar.symbol, bar.timeframe, closed) == ("BTCUSDT", "5m", False)
    assert bar.open_time == utc_ms(1672324800000) and bar.close == 16677


def test_binance_klines(load: Any) -> None:
    bars = binance.parse_binance_klines(
        load(BN_HTTP + "http_spot_market_klines.json"), "BTCUSDT", "1m"
    )
    assert len(bars) == 10
    assert bars[0].open_time == utc_ms(1634943780000)
    assert (bars[0].open, bars[0].close, bars[0].volume) == (60685.22, 60719.27, 21.63272)
    assert bars[-1].open_time == utc_ms(1634944320000)


def test_binance_stream_kline_closed_flag(load: Any) -> None:
    bar, closed = binance_stream.parse_binance_ws_kline(
        load(BN + "futures/market_data_json/kline_stream_closed.json")
    )
    assert (bar.timeframe, closed, bar.open_time) == ("1m", True, utc_ms(1638747660000))
    _, still_open = binance_stream.parse_binance_ws_kline(
        load(BN + "futures/market_data_json/kline_stream_open.json")
    )
    assert still_open is False


# -- orders -----------------------------------------------------------------------------------


def test_bybit_rejected_order_keeps_its_partial_fill(load: Any) -> None:
    (o,) = bybit_account.parse_bybit_orders(
        load(BYBIT + "http_get_order_partially_filled_rejected.json")
    )
    assert (o.status, o.reject_reason) == (OrderStatus.REJECTED, "INSUFFICIENT_MARGIN")
    assert (o.quantity, o.filled_qty, o.avg_fill_price, o.fee) == (
        D("0.010"),
        D("0.005"),
        D("30000"),
        D("0.0825"),
    )
    assert o.client_order_id == "O-20251001-164609-APEX-000-49"


def test_bybit_conditional_orders(load: Any) -> None:
    tp, sl = bybit_account.parse_bybit_orders(load(BYBIT + "http_get_orders_realtime_tp_sl.json"))
    assert (tp.order_type, tp.trigger_price, tp.price, tp.reduce_only) == (
        OrderType.TAKE_PROFIT_MARKET,
        D("55000.00"),
        None,
        True,
    )
    assert tp.status is OrderStatus.ACCEPTED  # Untriggered: resting at the venue
    assert (sl.order_type, sl.trigger_price, sl.price) == (
        OrderType.LIMIT,
        D("48000.00"),
        D("47500.00"),
    )
    (stop,) = bybit_account.parse_bybit_orders(load(BYBIT + "ws_account_order_stop_market.json"))
    assert stop.order_type is OrderType.STOP_MARKET


def test_bybit_open_orders(load: Any) -> None:
    buy, sell = bybit_account.parse_bybit_orders(load(BYBIT + "http_get_orders_realtime.json"))
    assert (buy.side, buy.price, buy.quantity, buy.status) == (
        Side.BUY,
        D("3930.41"),
        D("0.010"),
        OrderStatus.ACCEPTED,
    )
    assert (sell.side, sell.exchange_order_id, sell.time_in_force) == (
        Side.SELL,
        "open-order-2",
        TimeInForce.GTC,
    )
    assert buy.created_at == utc_ms(1761355905606) and buy.avg_fill_price is None


def test_bybit_cancelled_order_from_the_stream(load: Any) -> None:
    (o,) = bybit_account.parse_bybit_orders(load(BYBIT + "ws_account_order.json"))
    assert (o.status, o.client_order_id, o.filled_qty) == (OrderStatus.CANCELED, "client-1", D("0"))


def test_binance_futures_order_answer(load: Any) -> None:
    (o,) = binance.parse_binance_orders(load(BN + "futures/http_json/order_response.json"))
    assert (o.symbol, o.side, o.order_type, o.status) == (
        "BTCUSDT",
        Side.BUY,
        OrderType.LIMIT,
        OrderStatus.ACCEPTED,
    )
    assert (o.quantity, o.price, o.client_order_id, o.exchange_order_id) == (
        D("0.001"),
        D("50000.00"),
        "testOrder123",
        "12345678",
    )
    assert o.avg_fill_price is None  # "0.00" means no fill yet


def test_binance_trailing_stop_and_spot_limit_maker(load: Any) -> None:
    (trailing,) = binance.parse_binance_orders(load(BN_HTTP + "http_futures_account_orders.json"))
    assert (trailing.order_type, trailing.trigger_price) == (OrderType.STOP_MARKET, D("9300"))
    orders = binance.parse_binance_orders(
        load(BN + "spot/http_json/cancel_open_orders_response.json")
    )
    maker = next(o for o in orders if o.exchange_order_id == "21")
    assert (maker.order_type, maker.time_in_force) == (OrderType.LIMIT, TimeInForce.POST_ONLY)


def test_binance_spot_full_order_answer_gives_its_fills(load: Any) -> None:
    payload = load(BN + "spot/http_json/new_order_full_response.json")
    (order,) = binance.parse_binance_orders(payload)
    fills = binance.parse_binance_order_fills(payload)
    assert order.status is OrderStatus.FILLED and order.filled_qty == D("10.00000000")
    assert sum(f.quantity for f in fills) == D("10")  # the five fills add up to executedQty
    assert (fills[0].price, fills[0].fee, fills[0].fee_currency) == (D("4000"), D("4"), "USDT")


def test_binance_algo_orders(load: Any) -> None:
    (o,) = binance.parse_binance_algo_orders(load(BN + "futures/http_json/open_algo_orders.json"))
    assert (o.order_type, o.trigger_price, o.client_order_id, o.status) == (
        OrderType.STOP_MARKET,
        D("45000.00"),
        "test-algo-order-1",
        OrderStatus.ACCEPTED,
    )
    done = binance_stream.parse_binance_algo_update(
        load(BN_WS + "ws_futures_algo_update_finished.json")
    )
    assert (done.status, done.filled_qty, done.avg_fill_price) == (
        OrderStatus.FILLED,
        D("38"),
        D("0.13856"),
    )


# -- fills ------------------------------------------------------------------------------------


def test_bybit_executions(load: Any) -> None:
    maker, taker = bybit_account.parse_bybit_executions(load(BYBIT + "http_get_executions.json"))
    assert (maker.side, maker.quantity, maker.price, maker.fee) == (
        Side.BUY,
        D("0.100"),
        D("50000.00"),
        D("0.0150"),
    )
    assert (maker.liquidity, maker.client_order_id, maker.fee_currency) == (
        LiquiditySide.MAKER,
        "test-order-001",
        "USDT",
    )
    assert maker.ts == utc_ms(1672282722429)
    assert (taker.side, taker.liquidity, taker.quantity) == (
        Side.SELL,
        LiquiditySide.TAKER,
        D("0.500"),
    )


def test_bybit_adl_execution_is_a_fill(load: Any) -> None:
    (fill,) = bybit_account.parse_bybit_executions(load(BYBIT + "ws_account_execution_adl.json"))
    assert (fill.side, fill.quantity, fill.price, fill.fee) == (
        Side.SELL,
        D("0.5"),
        D("95850.0"),
        D("0"),
    )


def test_binance_trade_update_gives_snapshot_and_fill(load: Any) -> None:
    order, fill = binance_stream.parse_binance_order_update(
        load(BN + "futures/user_data_json/order_update_trade.json")
    )
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert fill is not None
    assert (fill.quantity, fill.price, fill.fee, fill.fee_currency) == (
        D("0.001"),
        D("7100.50"),
        D("0.01000000"),
        "USDT",
    )
    assert (fill.liquidity, fill.trade_id, fill.client_order_id) == (
        LiquiditySide.MAKER,
        "12345678",
        "TEST",
    )


def test_binance_forced_orders(load: Any) -> None:
    adl, fill = binance_stream.parse_binance_order_update(
        load(BN + "futures/user_data_json/order_update_adl.json")
    )
    assert adl.status is OrderStatus.FILLED  # NEW_ADL with z == q
    assert fill is not None and (fill.quantity, fill.price) == (D("0.005"), D("42000.00"))
    empty, none = binance_stream.parse_binance_order_update(
        load(BN_WS + "ws_futures_order_update_liquidation_zero_qty.json")
    )
    assert none is None and empty.quantity == 0
    pending, no_fill = binance_stream.parse_binance_order_update(
        load(BN + "futures/user_data_json/order_update_calculated_pending.json")
    )
    assert no_fill is None and pending.status is OrderStatus.ACCEPTED


def test_binance_fill_with_zero_last_price_falls_back_to_the_order_price(load: Any) -> None:
    # This recorded report says L=0 and Z=0; the only price it carries is the limit 2500.
    _, fill = binance_stream.parse_binance_order_update(
        load(BN_WS + "ws_spot_execution_report_trade_l_zero.json")
    )
    assert fill is not None and (fill.quantity, fill.price) == (D("0.00100000"), D("2500"))


def test_binance_spot_reports(load: Any) -> None:
    rejected, _ = binance_stream.parse_binance_order_update(
        load(BN_WS + "ws_spot_execution_report_rejected.json")
    )
    assert (rejected.status, rejected.reject_reason, rejected.time_in_force) == (
        OrderStatus.REJECTED,
        "GTX_ORDER_REJECT",
        TimeInForce.POST_ONLY,
    )
    stop, _ = binance_stream.parse_binance_order_update(
        load(BN + "spot/user_data_json/execution_report_stop_loss.json")
    )
    assert (stop.order_type, stop.trigger_price, stop.price) == (
        OrderType.LIMIT,
        D("2450"),
        D("2400"),
    )
    stp, fill = binance_stream.parse_binance_order_update(
        load(BN_WS + "ws_spot_execution_report_trade_prevention.json")
    )
    assert stp.status is OrderStatus.EXPIRED and fill is None  # self-trade prevention: no trade


def test_binance_user_trades(load: Any) -> None:
    sell, buy = binance.parse_binance_user_trades(
        load(BN_HTTP + "http_futures_account_trades.json")
    )
    assert (sell.side, sell.price, sell.quantity, sell.fee) == (
        Side.SELL,
        D("2778.35"),
        D("0.005"),
        D("0.00555670"),
    )
    assert (buy.side, buy.exchange_order_id, buy.trade_id) == (Side.BUY, "831238690", "82357629")
    (spot,) = binance.parse_binance_user_trades(
        load(BN + "spot/http_json/account_trades_response.json")
    )
    assert (spot.side, spot.fee_currency, spot.liquidity) == (Side.BUY, "BNB", LiquiditySide.TAKER)


# -- positions and balances -------------------------------------------------------------------


def test_bybit_positions_are_signed(load: Any) -> None:
    btc, eth, sol = bybit_account.parse_bybit_positions(load(BYBIT + "http_get_positions.json"))
    assert (btc.quantity, btc.side, btc.entry_price, btc.leverage) == (
        D("0.5"),
        PositionSide.LONG,
        D("50000.00"),
        D("10"),
    )
    assert (btc.stop_loss, btc.take_profit, btc.liquidation_price) == (
        D("48000.00"),
        D("55000.00"),
        D("45000.00"),
    )
    assert (eth.quantity, eth.side, eth.unrealized_pnl) == (
        D("-5.0"),
        PositionSide.SHORT,
        D("250.00"),
    )
    assert (sol.side, sol.liquidation_price, sol.stop_loss) == (PositionSide.FLAT, None, None)
    (ws,) = bybit_account.parse_bybit_positions(load(BYBIT + "ws_account_position.json"))
    assert (ws.quantity, ws.entry_price) == (D("-0.01"), D("3641.075"))  # stream: entryPrice


def test_binance_hedge_mode_positions(load: Any) -> None:
    long, short = binance_account.parse_binance_positions(
        load(BN_HTTP + "http_futures_account_positions_hedge.json")
    )
    assert (long.quantity, long.side, long.entry_price) == (
        D("20.000"),
        PositionSide.LONG,
        D("6563.66500"),
    )
    assert (short.quantity, short.side) == (D("-10.000"), PositionSide.SHORT)
    wallet, positions = binance_stream.parse_binance_account_update(
        load(BN + "futures/user_data_json/account_update.json")
    )
    assert [p.quantity for p in positions] == [D("0"), D("20"), D("-10")]
    assert wallet.assets["USDT"].total == D("122624.12345678")


def test_bybit_wallet(load: Any) -> None:
    wallet = bybit_account.parse_bybit_wallet(load(BYBIT + "http_get_wallet_balance.json"))
    usdt = wallet.assets["USDT"]
    assert (usdt.total, usdt.free, usdt.used) == (D("1000.50"), D("1000.50"), D("0"))
    assert wallet.account is not None
    assert (wallet.account.total_balance, wallet.account.available_balance) == (
        D("3.00326056"),
        D("3.00326056"),
    )


def test_bybit_wallet_where_margin_exceeds_the_balance(load: Any) -> None:
    wallet = bybit_account.parse_bybit_wallet(
        load(BYBIT + "ws_account_wallet_locked_exceeds_total.json")
    )
    usdt = wallet.assets["USDT"]
    assert (usdt.total, usdt.used, usdt.free) == (D("100.0"), D("120.0"), D("0"))  # 80 + 40 IM
    assert wallet.account is not None and wallet.account.unrealized_pnl == D("-50.0")


def test_binance_balances(load: Any) -> None:
    futures = binance_account.parse_binance_account(
        load(BN + "futures/http_json/account_info_v2.json")
    )
    assert (
        futures.assets["USDT"].total == D("23.72469206") and futures.account is None
    )  # updateTime 0
    spot = binance_account.parse_binance_account(load(BN + "spot/http_json/account_response.json"))
    assert spot.assets["BTC"].free == D("4723846.89208129") and spot.assets["BTC"].used == 0
    (usdt,) = binance_account.parse_binance_balance(
        load(BN + "futures/http_json/balance.json")
    ).assets.values()
    assert (usdt.total, usdt.free) == (D("122.12345678"), D("122.12345678"))
    stream, _ = binance_stream.parse_binance_account_update(
        load(BN + "spot/user_data_json/account_position.json")
    )
    assert (stream.assets["USDT"].free, stream.assets["USDT"].used) == (D("10000"), D("2500"))


def test_tickers(load: Any) -> None:
    t = bybit.parse_bybit_ticker(load(BYBIT + "ws_ticker_linear.json"))
    assert (t.last, t.bid, t.ask, t.mark) == (17216.0, 17215.5, 17216.0, 17217.33)
    b = binance.parse_binance_ticker(load(BN_HTTP + "http_futures_market_ticker_price.json"))
    assert (b.symbol, b.last, b.ts) == ("BTCUSDT", 6000.01, utc_ms(1589437530011))
    s = binance_stream.parse_binance_ws_ticker(load(BN_WS + "ws_spot_ticker_24hr.json"))
    assert (s.last, s.bid, s.ask, s.high_24h) == (0.0025, 0.0024, 0.0026, 0.0025)


# -- malformed and error payloads --------------------------------------------------------------


def test_error_envelope_raises_the_translated_error() -> None:
    body = {"retCode": 110007, "retMsg": "ab not enough for new order", "result": {}}
    with pytest.raises(InsufficientFundsError, match="110007"):
        bybit_account.parse_bybit_orders(body)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"orderId": "1", "orderStatus": "Gone", "symbol": "X", "side": "Buy"}, "orderStatus"),
        ({"orderId": "1", "orderStatus": "New", "symbol": "X", "side": "Up", "qty": "1"}, "side"),
        ({"orderId": "1", "orderStatus": "New", "symbol": "X", "side": "Buy", "qty": "abc",
          "orderType": "Limit"}, "qty"),
    ],
)  # fmt: skip
def test_malformed_records_name_the_field(record: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=message):
        bybit_account.parse_bybit_order(record)
