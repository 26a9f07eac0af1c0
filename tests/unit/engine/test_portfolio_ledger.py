"""btb.engine.portfolio: cash for spot and futures, round trips, flips, equity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from btb.core import ExitReason, MarketType, PositionSide, Side
from btb.core.fill import Fill
from btb.engine.portfolio import Portfolio

T0 = datetime(2024, 1, 1, tzinfo=UTC)
D = Decimal


def fill(side: Side, qty: str, price: str, fee: str = "0", minute: int = 0) -> Fill:
    return Fill("o", "BTCUSDT", side, D(qty), D(price), D(fee), T0 + timedelta(minutes=minute))


def test_spot_cash_pays_notional_and_fee() -> None:
    p = Portfolio(D(1000))
    p.apply_fill(fill(Side.BUY, "2", "100", "0.2"))
    assert p.cash == D("799.8")  # 1000 - 200 - 0.2
    assert p.equity({"BTCUSDT": 110.0}) == D("1019.8")  # 799.8 + 2 * 110
    trade = p.apply_fill(fill(Side.SELL, "2", "110", "0.22", 5), ExitReason.TAKE_PROFIT)
    assert p.cash == D("1019.58")  # 799.8 + 220 - 0.22
    assert trade is not None
    assert (trade.side, trade.gross_pnl, trade.fees) == (PositionSide.LONG, D(20), D("0.42"))
    assert trade.net_pnl == D("19.58")
    assert trade.exit_reason is ExitReason.TAKE_PROFIT
    assert trade.exit_time == T0 + timedelta(minutes=5)


def test_linear_wallet_moves_by_realised_pnl_and_margin_is_held() -> None:
    p = Portfolio(D(1000), MarketType.LINEAR, D(5))
    p.apply_fill(fill(Side.SELL, "3", "100", "0.3"))
    assert p.cash == D("999.7")  # only the fee leaves the wallet
    assert p.used_margin() == D(60)  # 300 / 5
    assert p.equity({"BTCUSDT": 90.0}) == D("1029.7")  # short gains 3 * 10
    assert p.free_cash({"BTCUSDT": 90.0}) == D("969.7")
    trade = p.apply_fill(fill(Side.BUY, "3", "90", "0.27", 3))
    assert p.cash == D("1029.43")  # 999.7 + 30 - 0.27
    assert trade is not None and trade.side is PositionSide.SHORT and trade.gross_pnl == D(30)


def test_partial_exits_make_one_trade_with_average_prices() -> None:
    p = Portfolio(D(10_000))
    p.apply_fill(fill(Side.BUY, "1", "100"))
    p.apply_fill(fill(Side.BUY, "1", "110"))
    assert p.apply_fill(fill(Side.SELL, "1", "120")) is None
    trade = p.apply_fill(fill(Side.SELL, "1", "130"))
    assert trade is not None
    assert (trade.quantity, trade.entry_price, trade.exit_price) == (D(2), D(105), D(125))
    assert trade.gross_pnl == D(40)


def test_flip_ends_one_round_trip_and_starts_the_next_with_split_fee() -> None:
    p = Portfolio(D(10_000), MarketType.LINEAR)
    p.apply_fill(fill(Side.BUY, "1", "100", "1"))
    trade = p.apply_fill(fill(Side.SELL, "3", "110", "3", 1))
    assert trade is not None
    assert trade.fees == D(2)  # 1 at entry + a third of the flip's 3
    assert p.position("BTCUSDT").quantity == D(-2)
    closing = p.apply_fill(fill(Side.BUY, "2", "100", "0", 2))
    assert closing is not None
    assert (closing.side, closing.quantity, closing.gross_pnl, closing.fees) == (
        PositionSide.SHORT,
        D(2),
        D(20),
        D(2),
    )


def test_funding_is_paid_from_cash() -> None:
    p = Portfolio(D(1000), MarketType.LINEAR)
    p.apply_funding("BTCUSDT", T0, D("0.5"))
    assert p.cash == D("999.5")
    assert len(p.funding) == 1


@pytest.mark.parametrize("market", [MarketType.SPOT, MarketType.LINEAR])
def test_equity_identity_used_by_equity_curves(market: MarketType) -> None:
    # equity == initial + sum(-signed_qty * price - fee) + qty * mark, on both account kinds
    p = Portfolio(D(1000), market)
    fills = [
        fill(Side.BUY, "2", "100", "0.2"),
        fill(Side.BUY, "1", "103", "0.1"),
        fill(Side.SELL, "2", "99", "0.3"),
    ]
    for f in fills:
        p.apply_fill(f)
    flows = sum(-f.signed_quantity * f.price - f.fee for f in fills)
    mark = 101.0
    assert p.equity({"BTCUSDT": mark}) == D(1000) + flows + D(1) * D(mark)
