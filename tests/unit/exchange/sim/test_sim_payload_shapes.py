"""The simulator's payloads have the recorded exchanges' shapes and parse with btb's parsers.

Field sets are compared with real recorded payloads (nautilus_trader test data); values are
checked by parsing the simulator's answers with :mod:`btb.exchange.parsing`, written
independently from the simulator.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from btb.core.enums import OrderStatus, OrderType, Side
from btb.exchange.parsing.binance import (
    algo_order_snapshot,
    parse_binance_instrument,
    parse_binance_order,
)
from btb.exchange.parsing.binance_account import parse_binance_account, parse_binance_positions
from btb.exchange.parsing.binance_stream import parse_binance_ws_kline
from btb.exchange.parsing.bybit import parse_bybit_instrument, parse_bybit_ws_kline
from btb.exchange.parsing.bybit_account import (
    parse_bybit_execution,
    parse_bybit_order,
    parse_bybit_position,
    parse_bybit_wallet,
)
from btb.exchange.sim import binance_format as bn
from btb.exchange.sim import bybit_format as by
from btb.exchange.sim.accounts import StopKind
from btb.exchange.sim.binance_ws import kline_event
from btb.exchange.sim.bybit_ws import kline_message
from btb.exchange.sim.clock import SimClock
from btb.exchange.sim.market import Kline, MarketReplay
from btb.exchange.sim.venue import OrderRequest, SimVenue

BYBIT = Path("nautilus_trader/crates/adapters/bybit/test_data")
BINANCE = Path("nautilus_trader/crates/adapters/binance/test_data/futures/http_json")
BINANCE_STREAMS = BINANCE.parent / "market_data_json"


def _load(fixtures_dir: Path, rel: Path, name: str) -> Any:
    return json.loads((fixtures_dir / rel / name).read_text())


@pytest.fixture
def traded() -> tuple[SimVenue, Any]:
    index = pd.date_range("2024-01-01", periods=3, freq="1min", tz="UTC")
    frame = pd.DataFrame(
        {"open": [42000.0] * 3, "high": 42100.0, "low": 41900.0, "close": 42050.0, "volume": 3.0},
        index=index,
    )
    venue = SimVenue(MarketReplay({"BTCUSDT": frame}), SimClock(int(index[1].timestamp() * 1000)))
    acct = venue.add_account("k", "s")
    venue.place_order(
        acct,
        OrderRequest(
            "BTCUSDT",
            Side.BUY,
            OrderType.MARKET,
            D("0.01"),
            link_id="m1",
            stop_loss=D("41000"),
            take_profit=D("43000"),
        ),
    )
    venue.place_order(
        acct,
        OrderRequest(
            "BTCUSDT",
            Side.SELL,
            OrderType.STOP_MARKET,
            D("0.01"),
            trigger_price=D("41500"),
            reduce_only=True,
            link_id="s1",
            stop_kind=StopKind.STOP_LOSS,
            algo=True,
        ),
    )
    return venue, acct


def test_bybit_payloads_have_the_recorded_fields_and_parse(fixtures_dir: Path, traded: Any) -> None:
    venue, acct = traded
    market, stop = list(acct.orders.values())
    recorded_order = _load(fixtures_dir, BYBIT, "http_get_orders_realtime.json")["result"]["list"][
        0
    ]
    assert set(recorded_order) <= set(by.order(market))
    snap = parse_bybit_order(by.order(market))
    assert (snap.status, snap.quantity, snap.avg_fill_price, snap.client_order_id) == (
        OrderStatus.FILLED,
        D("0.01"),
        D("42000"),
        "m1",
    )
    assert (snap.stop_loss, snap.take_profit) == (D("41000"), D("43000"))
    assert parse_bybit_order(by.order(stop)).trigger_price == D("41500")
    assert by.order(stop)["orderStatus"] == "Untriggered"

    recorded_pos = _load(fixtures_dir, BYBIT, "http_get_positions.json")["result"]["list"][0]
    pos = by.position(acct, "BTCUSDT", D("42050"), 1)
    assert set(recorded_pos) <= set(pos)
    p = parse_bybit_position(pos)
    assert (p.quantity, p.entry_price, p.unrealized_pnl, p.stop_loss) == (
        D("0.01"),
        D("42000"),
        D("0.5"),
        D("41000"),
    )

    recorded_exec = _load(fixtures_dir, BYBIT, "http_get_executions.json")["result"]["list"][0]
    ex = by.execution(acct.executions[0])
    assert set(recorded_exec) <= set(ex)
    fill = parse_bybit_execution(ex, "linear")
    assert fill is not None and (fill.price, fill.fee) == (
        D("42000"),
        D("42000") * D("0.01") * D("0.00055"),
    )

    recorded_wallet = _load(fixtures_dir, BYBIT, "http_get_wallet_balance.json")["result"]["list"][
        0
    ]
    wallet = by.wallet(acct, {"BTCUSDT": D("42050")})
    assert set(recorded_wallet) <= set(wallet)
    assert set(recorded_wallet["coin"][1]) <= set(wallet["coin"][0])
    parsed = parse_bybit_wallet(
        {"retCode": 0, "retMsg": "OK", "result": {"list": [wallet]}, "time": 1}
    )
    assert parsed.assets["USDT"].total == D("10000") - D("0.231")

    recorded_inst = _load(fixtures_dir, BYBIT, "http_get_instruments_linear.json")["result"][
        "list"
    ][0]
    inst = by.instrument(venue.instruments["BTCUSDT"], 0)
    assert set(recorded_inst) <= set(inst)
    for key in ("leverageFilter", "priceFilter", "lotSizeFilter"):
        assert set(recorded_inst[key]) <= set(inst[key])
    parsed_inst = parse_bybit_instrument(inst, "linear")
    served = venue.instruments["BTCUSDT"]
    fields = (
        "symbol",
        "tick_size",
        "lot_step",
        "min_qty",
        "min_notional",
        "max_qty",
        "max_leverage",
    )
    assert [getattr(parsed_inst, f) for f in fields] == [getattr(served, f) for f in fields]


KLINE = Kline(open_ms=0, open=1.0, high=3.0, low=0.5, close=2.0, volume=4.0, turnover=5.0,
              closed=True)  # fmt: skip


def test_bybit_kline_stream_message_shape(fixtures_dir: Path) -> None:
    recorded = _load(fixtures_dir, BYBIT, "ws_kline.json")
    served = kline_message("kline.5.BTCUSDT", KLINE, 300_000)
    assert set(served) == set(recorded)
    assert set(served["data"][0]) == set(recorded["data"][0])
    [(bar, closed)] = parse_bybit_ws_kline(served)
    assert (bar.symbol, bar.timeframe, bar.open_time.timestamp()) == ("BTCUSDT", "5m", 0)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, closed) == (
        1.0, 3.0, 0.5, 2.0, 4.0, True,
    )  # fmt: skip


def test_binance_kline_stream_event_shape(fixtures_dir: Path) -> None:
    recorded = _load(fixtures_dir, BINANCE_STREAMS, "kline_stream_closed.json")
    served = kline_event("BTCUSDT", "5m", KLINE, 300_000)
    assert set(served) == set(recorded)
    assert set(served["k"]) == set(recorded["k"])
    assert [type(served["k"][key]) for key in recorded["k"]] == [
        type(value) for value in recorded["k"].values()
    ]  # numbers where Binance sends numbers, text where it sends text
    bar, closed = parse_binance_ws_kline(served)
    assert (bar.symbol, bar.timeframe, bar.open_time.timestamp()) == ("BTCUSDT", "5m", 0)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, closed) == (
        1.0, 3.0, 0.5, 2.0, 4.0, True,
    )  # fmt: skip
    assert served["k"]["T"] == 299_999  # the candle's last millisecond, as recorded


def test_binance_payloads_have_the_recorded_fields_and_parse(
    fixtures_dir: Path, traded: Any
) -> None:
    venue, acct = traded
    market, stop = list(acct.orders.values())
    assert set(_load(fixtures_dir, BINANCE, "order_response.json")) <= set(bn.order(market))
    snap = parse_binance_order(bn.order(market))
    assert (snap.status, snap.filled_qty, snap.avg_fill_price) == (
        OrderStatus.FILLED,
        D("0.01"),
        D("42000"),
    )

    assert set(_load(fixtures_dir, BINANCE, "open_algo_orders.json")[0]) <= set(bn.algo_order(stop))
    algo = algo_order_snapshot(bn.algo_order(stop), "sim algo")
    assert (algo.order_type, algo.trigger_price, algo.status) == (
        OrderType.STOP_MARKET,
        D("41500"),
        OrderStatus.ACCEPTED,
    )

    assert set(_load(fixtures_dir, BINANCE, "position_risk.json")[0]) <= set(
        bn.position_risk(acct, "BTCUSDT", D("42050"))
    )
    [p] = parse_binance_positions([bn.position_risk(acct, "BTCUSDT", D("42050"))])
    assert (p.quantity, p.entry_price, p.unrealized_pnl) == (D("0.01"), D("42000"), D("0.5"))

    assert set(_load(fixtures_dir, BINANCE, "balance.json")[0]) <= set(bn.balance(acct, {}, 1)[0])
    recorded_account = _load(fixtures_dir, BINANCE, "account_info_v2.json")
    account = bn.account_info(acct, {"BTCUSDT": D("42050")}, 1)
    assert set(recorded_account) - {"positions", "assets"} <= set(account)
    assert set(recorded_account["assets"][0]) <= set(account["assets"][0])
    wallet = parse_binance_account(account)
    assert wallet.assets["USDT"].total == D("10000") - D("0.231")

    info = bn.symbol_info(venue.instruments["BTCUSDT"], 0)
    resources = "nautilus_trader/tests/integration_tests/adapters/binance/resources"
    info_file = (
        fixtures_dir / resources / "http_responses" / "http_futures_market_exchange_info.json"
    )
    recorded_info = json.loads(info_file.read_text())["symbols"][0]
    assert set(recorded_info) <= set(info)
    inst = parse_binance_instrument(info)
    assert (inst.tick_size, inst.lot_step, inst.min_notional) == (D("0.1"), D("0.001"), D("5"))
