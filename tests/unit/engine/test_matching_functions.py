"""btb.core.matching: each fill function on hand-worked numbers, and its numba twin agrees."""

from __future__ import annotations

import math
from decimal import Decimal

import numba
import pytest

from btb.core import MarketType, Position
from btb.core import matching as m
from btb.core.enums import Side
from btb.core.fill import Fill

BUY, SELL = 1, -1


def test_slippage_moves_against_the_order() -> None:
    assert m.with_slippage(100.0, BUY, 25.0) == pytest.approx(100.25)
    assert m.with_slippage(100.0, SELL, 25.0) == pytest.approx(99.75)


def test_levels_are_distances_from_entry() -> None:
    assert m.stop_loss_level(200.0, 1, 0.05) == pytest.approx(190.0)
    assert m.stop_loss_level(200.0, -1, 0.05) == pytest.approx(210.0)
    assert m.take_profit_level(200.0, 1, 0.1) == pytest.approx(220.0)
    assert m.take_profit_level(200.0, -1, 0.1) == pytest.approx(180.0)


@pytest.mark.parametrize(
    ("kind", "sign", "level", "candle", "phase"),
    [
        (m.KIND_MARKET, BUY, math.nan, (100, 101, 99), m.PHASE_OPEN),
        (m.KIND_STOP, SELL, 98, (100, 101, 98), m.PHASE_ADVERSE),  # touch is enough
        (m.KIND_STOP, SELL, 98, (100, 101, 98.01), m.NO_FILL),
        (m.KIND_STOP, SELL, 98, (97, 99, 96), m.PHASE_OPEN),  # gapped through
        (m.KIND_STOP, BUY, 102, (100, 102, 99), m.PHASE_ADVERSE),
        (m.KIND_TAKE_PROFIT, SELL, 104, (100, 104, 99), m.PHASE_FAVOURABLE),
        (m.KIND_TAKE_PROFIT, SELL, 104, (105, 106, 104), m.PHASE_OPEN),
        (m.KIND_TAKE_PROFIT, BUY, 96, (100, 101, 96), m.PHASE_FAVOURABLE),
        (m.KIND_LIMIT, BUY, 99, (100, 101, 99), m.NO_FILL),  # touch is not enough
        (m.KIND_LIMIT, BUY, 99, (100, 101, 98.99), m.PHASE_FAVOURABLE),
        (m.KIND_LIMIT, BUY, 99, (98, 99.5, 97), m.PHASE_OPEN),
        (m.KIND_LIMIT, SELL, 101, (100, 101.01, 99), m.PHASE_FAVOURABLE),
        (m.KIND_LIQUIDATION, SELL, 90.5, (95, 96, 90.5), m.PHASE_ADVERSE),
    ],
)
def test_fill_phase(kind, sign, level, candle, phase) -> None:
    o, h, lo = candle
    assert m.fill_phase(kind, sign, float(level), float(o), float(h), float(lo)) == phase


@pytest.mark.parametrize(
    ("kind", "sign", "level", "open_", "phase", "bps", "price"),
    [
        (m.KIND_MARKET, BUY, math.nan, 100.0, m.PHASE_OPEN, 10.0, 100.1),
        (m.KIND_STOP, SELL, 98.0, 100.0, m.PHASE_ADVERSE, 0.0, 98.0),
        (m.KIND_STOP, SELL, 98.0, 97.0, m.PHASE_OPEN, 0.0, 97.0),
        (m.KIND_STOP, SELL, 98.0, 100.0, m.PHASE_ADVERSE, 100.0, 97.02),
        (m.KIND_TAKE_PROFIT, SELL, 104.0, 105.0, m.PHASE_OPEN, 0.0, 105.0),
        (m.KIND_LIMIT, BUY, 99.0, 98.0, m.PHASE_OPEN, 50.0, 98.0),  # no slippage on limits
        (m.KIND_LIMIT, BUY, 99.0, 100.0, m.PHASE_FAVOURABLE, 50.0, 99.0),
        (m.KIND_LIQUIDATION, SELL, 90.5, 95.0, m.PHASE_ADVERSE, 50.0, 90.5),
    ],
)
def test_fill_price(kind, sign, level, open_, phase, bps, price) -> None:
    assert m.fill_price(kind, sign, level, open_, phase, bps) == pytest.approx(price, rel=1e-12)


def test_priority_orders_a_bar() -> None:
    gap_exit = m.priority(m.PHASE_OPEN, m.KIND_MARKET, SELL, math.nan, 7)
    stop_hi = m.priority(m.PHASE_ADVERSE, m.KIND_STOP, SELL, 98.0, 3)
    stop_lo = m.priority(m.PHASE_ADVERSE, m.KIND_STOP, SELL, 95.0, 2)
    liq_same = m.priority(m.PHASE_ADVERSE, m.KIND_LIQUIDATION, SELL, 98.0, m.LIQUIDATION_SEQ)
    take = m.priority(m.PHASE_FAVOURABLE, m.KIND_TAKE_PROFIT, SELL, 104.0, 1)
    assert sorted([take, stop_lo, liq_same, stop_hi, gap_exit]) == [
        gap_exit,
        stop_hi,
        liq_same,
        stop_lo,
        take,
    ]
    short_stops = [m.priority(m.PHASE_ADVERSE, m.KIND_STOP, BUY, lv, 1) for lv in (105.0, 102.0)]
    assert short_stops[1] < short_stops[0]  # a rising price meets the lower buy stop first


def test_only_stops_live_in_the_bar_after_an_intrabar_fill() -> None:
    assert m.is_live(m.KIND_STOP, m.BORN_INTRABAR)
    assert m.is_live(m.KIND_LIQUIDATION, m.BORN_INTRABAR)
    assert not m.is_live(m.KIND_TAKE_PROFIT, m.BORN_INTRABAR)
    assert not m.is_live(m.KIND_LIMIT, m.BORN_INTRABAR)
    assert m.is_live(m.KIND_TAKE_PROFIT, m.BORN_AT_OPEN)


@pytest.mark.parametrize(("qty", "leverage", "mmr"), [(1, 10, "0.005"), (-2, 5, "0.01")])
def test_liquidation_level_matches_core_position(qty, leverage, mmr) -> None:
    pos = Position("X", market_type=MarketType.LINEAR, leverage=Decimal(leverage))
    side = Side.BUY if qty > 0 else Side.SELL
    pos.apply(Fill("o", "X", side, Decimal(abs(qty)), Decimal(250), Decimal(0), _ts()))
    want = float(pos.liquidation_price(Decimal(mmr)))
    got = m.liquidation_level(250.0, 1 if qty > 0 else -1, float(leverage), float(mmr))
    assert got == pytest.approx(want, rel=1e-12)
    # 10x long: 250 * (1 - 0.1 + 0.005) = 226.25; 5x short: 250 * (1 + 0.2 - 0.01) = 297.5
    assert got == pytest.approx(226.25 if qty > 0 else 297.5)


def test_fee_is_notional_times_rate() -> None:
    assert m.fee(-2000.0, 0.001) == pytest.approx(2.0)
    assert m.fee(2000.0, -0.0001) == pytest.approx(-0.2)


def test_numba_compiles_every_rule_to_the_same_answers() -> None:
    phase = numba.njit(m.fill_phase)
    price = numba.njit(m.fill_price)
    prio = numba.njit(m.priority)
    candle = (100.0, 105.0, 97.0)
    for kind in (m.KIND_MARKET, m.KIND_LIMIT, m.KIND_STOP, m.KIND_TAKE_PROFIT):
        for sign in (BUY, SELL):
            for level in (96.0, 98.0, 102.0, 106.0):
                ph = m.fill_phase(kind, sign, level, *candle)
                assert phase(kind, sign, level, *candle) == ph
                if ph != m.NO_FILL:
                    assert price(kind, sign, level, candle[0], ph, 7.0) == m.fill_price(
                        kind, sign, level, candle[0], ph, 7.0
                    )
                    assert prio(ph, kind, sign, level, 4) == m.priority(ph, kind, sign, level, 4)


def _ts():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2024, 1, 1, tzinfo=UTC)
