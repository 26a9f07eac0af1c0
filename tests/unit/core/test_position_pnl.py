"""Positions built from fills: PnL cases worked by hand, and properties over random fill streams."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btb.core import Fill, MarketType, Position, PositionSide, Side

T0 = datetime(2024, 1, 1, tzinfo=UTC)
D = Decimal


def fill(side: Side, qty: str, price: str, fee: str = "0") -> Fill:
    return Fill("c", "BTCUSDT", side, D(qty), D(price), D(fee), T0)


def test_long_add_then_partial_close_then_close() -> None:
    pos = Position("BTCUSDT")
    pos.apply(fill(Side.BUY, "1", "100", "0.1"))
    pos.apply(fill(Side.BUY, "1", "110", "0.11"))
    assert pos.avg_entry_price == D("105")
    assert pos.side is PositionSide.LONG
    assert pos.unrealized_pnl(D("120")) == D("30")  # 2 * (120 - 105)
    assert pos.apply(fill(Side.SELL, "0.5", "120")) == D("7.5")  # 0.5 * 15
    assert pos.quantity == D("1.5") and pos.avg_entry_price == D("105")
    assert pos.apply(fill(Side.SELL, "1.5", "95")) == D("-15")  # 1.5 * -10
    assert pos.is_flat and pos.avg_entry_price == 0
    assert pos.realized_pnl == D("-7.5")
    assert pos.fees_paid == D("0.21")


def test_short_profit_and_loss() -> None:
    pos = Position("BTCUSDT")
    pos.apply(fill(Side.SELL, "2", "100"))
    assert pos.side is PositionSide.SHORT and pos.quantity == D("-2")
    assert pos.unrealized_pnl(D("90")) == D("20")
    assert pos.unrealized_pnl(D("104")) == D("-8")
    assert pos.apply(fill(Side.BUY, "2", "97")) == D("6")
    assert pos.is_flat


def test_flip_from_long_to_short_opens_remainder_at_fill_price() -> None:
    pos = Position("BTCUSDT")
    pos.apply(fill(Side.BUY, "1", "100"))
    realized = pos.apply(fill(Side.SELL, "3", "130"))
    assert realized == D("30")  # only the 1 long closed
    assert pos.quantity == D("-2") and pos.avg_entry_price == D("130")
    assert pos.side is PositionSide.SHORT


def test_margin_and_liquidation_price_linear() -> None:
    pos = Position("BTCUSDT", leverage=D(10))
    pos.apply(fill(Side.BUY, "0.5", "40000"))
    assert pos.margin == D("2000")  # 20,000 notional / 10
    # long: 40000 * (1 - 0.1 + 0.005) = 36200
    assert pos.liquidation_price(D("0.005")) == D("36200.000")
    short = Position("BTCUSDT", leverage=D(5))
    short.apply(fill(Side.SELL, "1", "2000"))
    # short: 2000 * (1 + 0.2 - 0.01) = 2380
    assert short.liquidation_price(D("0.01")) == D("2380.00")
    assert Position("BTCUSDT").liquidation_price(D("0.005")) is None


def test_spot_cannot_short_or_lever() -> None:
    pos = Position("BTCUSDT", market_type=MarketType.SPOT)
    pos.apply(fill(Side.BUY, "1", "100"))
    with pytest.raises(ValueError, match="cannot go short"):
        pos.apply(fill(Side.SELL, "2", "100"))
    assert pos.quantity == D("1")
    assert pos.liquidation_price(D("0.005")) is None
    with pytest.raises(ValueError, match="leverage"):
        Position("BTCUSDT", market_type=MarketType.SPOT, leverage=D(3))


def test_fill_for_other_symbol_is_refused() -> None:
    with pytest.raises(ValueError, match="ETHUSDT"):
        Position("ETHUSDT").apply(fill(Side.BUY, "1", "1"))


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.decimals(min_value=D("0.001"), max_value=D("50"), places=3),
        st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
        st.decimals(min_value=D("0"), max_value=D("5"), places=4),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(fills_strategy)
def test_fill_streams_conserve_quantity_and_cash(
    stream: list[tuple[Side, Decimal, Decimal, Decimal]],
) -> None:
    pos = Position("BTCUSDT")
    cash = D(0)  # quote paid out (-) and received (+) for the traded notionals
    net_qty = D(0)
    fees = D(0)
    realized_sum = D(0)
    for side, qty, price, fee in stream:
        realized_sum += pos.apply(Fill("c", "BTCUSDT", side, qty, price, fee, T0))
        cash += -qty * price if side is Side.BUY else qty * price
        net_qty += qty if side is Side.BUY else -qty
        fees += fee
    assert pos.quantity == net_qty
    assert pos.fees_paid == fees
    assert pos.realized_pnl == realized_sum
    # Cash in minus cash out equals realised PnL minus the cost basis still held.
    assert abs(cash - (pos.realized_pnl - pos.quantity * pos.avg_entry_price)) < D("1e-12")
    if pos.quantity == 0:
        assert pos.avg_entry_price == 0


@settings(max_examples=200, deadline=None)
@given(fills_strategy, st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2))
def test_closing_at_mark_realises_exactly_the_unrealised_pnl(
    stream: list[tuple[Side, Decimal, Decimal, Decimal]], mark: Decimal
) -> None:
    pos = Position("BTCUSDT")
    for side, qty, price, _fee in stream:
        pos.apply(Fill("c", "BTCUSDT", side, qty, price, D(0), T0))
    if pos.is_flat:
        return
    expected = pos.unrealized_pnl(mark)
    before = pos.realized_pnl
    closing_side = Side.SELL if pos.quantity > 0 else Side.BUY
    pos.apply(Fill("c", "BTCUSDT", closing_side, abs(pos.quantity), mark, D(0), T0))
    assert pos.is_flat
    assert abs((pos.realized_pnl - before) - expected) < D("1e-12")
