"""Trade ids come from the round trip itself: no per-run counter that restarts and clashes
when trades of several runs (or a restarted bot) are stored together."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btb.core import MarketType, Side
from btb.core.enums import PositionSide
from btb.core.fill import Fill
from btb.core.trade import round_trip_id
from btb.engine.portfolio import Portfolio

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)
D = Decimal


def one_round_trip(entry: str, qty: str = "0.5", start: datetime = T0) -> Portfolio:
    """A fresh ledger (a new run) with one long round trip in BTCUSDT."""
    p = Portfolio(D(100_000), MarketType.SPOT)
    p.apply_fill(Fill("a-1", "BTCUSDT", Side.BUY, D(qty), D(entry), D(0), start))
    p.apply_fill(
        Fill("a-2", "BTCUSDT", Side.SELL, D(qty), D("101"), D(0), start + timedelta(hours=2))
    )
    return p


def test_first_trades_of_two_runs_do_not_clash() -> None:
    # A counter named both "BTCUSDT-1"; different round trips must get different ids.
    a = one_round_trip("100").trades[0]
    b = one_round_trip("100", start=T0 + timedelta(hours=1)).trades[0]
    c = one_round_trip("100", qty="0.25").trades[0]
    d = one_round_trip("99.5").trades[0]
    assert len({a.trade_id, b.trade_id, c.trade_id, d.trade_id}) == 4


def test_the_same_trade_gets_the_same_id_in_every_run() -> None:
    (a,) = one_round_trip("100").trades
    (b,) = one_round_trip("100").trades
    assert a.trade_id == b.trade_id
    # readable part: symbol and entry time (UTC) to the second, then a 10-digit digest
    symbol, stamp, digest = a.trade_id.split("-")
    assert (symbol, stamp) == ("BTCUSDT", "20240305T140000")
    key = "BTCUSDT|long|2024-03-05T14:00:00+00:00|0.5|100.0"
    assert digest == hashlib.sha256(key.encode()).hexdigest()[:10]
    assert len(a.trade_id) <= 64  # the database column


def test_decimal_and_float_forms_of_one_trade_agree() -> None:
    # the event path's Decimal ledger and the fast path's floats must name a trade alike
    a = round_trip_id("ETHUSDT", PositionSide.SHORT, T0, D("1.500"), D("2500.10"))
    b = round_trip_id("ETHUSDT", PositionSide.SHORT, T0, D("1.5"), 2500.1)
    assert a == b
    assert a != round_trip_id("ETHUSDT", PositionSide.LONG, T0, D("1.5"), 2500.1)
