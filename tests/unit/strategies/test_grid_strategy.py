"""Grid: levels, buy -> sell re-arming, range exit and stop, through the real engine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btb.errors import ConfigError
from btb.strategies.grid import GridStrategy, SlotState, grid_prices

from .strategy_candles import fills_by_bar, frame, run_strategy

D = Decimal
# Levels 90 95 100 105 110; slot i buys at L_i and sells at L_{i+1}; 400 quote / 4 slots:
# quantities 100 / L_i floored to 0.001: 1.111, 1.052, 1.0, 0.952.
PARAMS = {"lower": 90.0, "upper": 110.0, "levels": 5, "investment": 400.0, "qty_step": 0.001}
BARS = [
    (102.0, 103.0, 101.0, 102.0),  # 0: setup; buys armed at 90, 95, 100 (below the close)
    (102.0, 102.5, 99.0, 99.5),  # 1: low 99 < 100: buy 1.0 @ 100 -> sell armed at 105
    (99.5, 106.0, 99.4, 105.5),  # 2: high 106 > 105: sell 1.0 @ 105; buys re-armed 100, 105
    (105.5, 105.8, 94.0, 94.5),  # 3: buys @ 105, 100, 95 fill -> sells at 110, 105, 100
    (94.5, 101.0, 94.2, 100.5),  # 4: sell 1.052 @ 100 -> buy re-armed at 95
    (100.5, 100.6, 80.0, 80.5),  # 5: buys @ 95 and 90 fill; close 80.5 < 90 * 0.95: stop
    (80.5, 81.0, 79.0, 80.0),  # 6: inventory 4.115 sold at the open, orders cancelled
    (80.0, 120.0, 80.0, 119.0),  # 7: stopped: nothing more
]
EXPECTED = [
    (1, 1.0, 100.0),
    (2, -1.0, 105.0),
    (3, 0.952, 105.0),
    (3, 1.0, 100.0),
    (3, 1.052, 95.0),
    (4, -1.052, 100.0),
    (5, 1.052, 95.0),
    (5, 1.111, 90.0),
    (6, -4.115, 80.5),
]


def test_grid_prices() -> None:
    assert grid_prices(90, 110, 5, "arithmetic") == [90, 95, 100, 105, 110]
    assert grid_prices(100, 400, 3, "geometric") == pytest.approx([100, 200, 400])


def test_fills_follow_the_grid_rules() -> None:
    df = frame(BARS)
    grid = GridStrategy({**PARAMS, "stop_loss": 0.05})
    out = run_strategy(grid, df)
    assert fills_by_bar(out, df) == EXPECTED
    assert grid.stopped and grid.cycles == 2
    trades = out.trades  # type: ignore[attr-defined]
    assert trades["net_pnl"].round(6).tolist() == [
        5.0,  # 1.0 bought at 100, sold at 105
        # second round trip: bought 0.952@105 + 1.0@100 + 1.052@95 + 1.052@95 + 1.111@90,
        # sold 1.052@100 and 4.115@80.5
        round(1.052 * 100 + 4.115 * 80.5 - (0.952 * 105 + 100 + 2 * 1.052 * 95 + 1.111 * 90), 6),
    ]


def test_levels_report_mid_run() -> None:
    df = frame(BARS[:5])
    grid = GridStrategy(PARAMS)
    run_strategy(grid, df)
    rows = [(r.level_index, r.price, r.side, r.quantity, r.status) for r in grid.grid_levels()]
    assert rows == [
        (0, D("90.0"), "buy", D("1.111"), "open"),  # working since bar 0
        (1, D("95.0"), "buy", D("1.052"), "pending"),  # re-armed at bar 4, not yet seen
        (2, D("100.0"), "buy", D("0"), "idle"),  # slot 2 holds: its sell sits at 105
        (3, D("105.0"), "sell", D("1.0"), "open"),
        (4, D("110.0"), "sell", D("0.952"), "open"),
    ]
    assert all(r.order_id for r in grid.grid_levels() if r.status == "open")
    assert [s.state for s in grid.slots] == [
        SlotState.BUYING, SlotState.BUYING, SlotState.SELLING, SlotState.SELLING,
    ]  # fmt: skip


def test_no_new_buys_outside_the_range() -> None:
    # Starts at 102, then closes above the top (111): buys armed at bar 0 stay, none are added
    # after a sell; without a stop the grid keeps its inventory below the range.
    bars = [
        (102.0, 103.0, 101.0, 102.0),
        (102.0, 102.5, 99.0, 99.5),  # buy 1.0 @ 100
        (99.5, 112.0, 99.4, 111.0),  # sell 1.0 @ 105; close 111 > 110: slot 2 is not re-armed
        (111.0, 111.5, 96.0, 96.5),  # nothing at 100 any more; 95/90 untouched
    ]
    df = frame(bars)
    out = run_strategy(GridStrategy(PARAMS), df)
    assert fills_by_bar(out, df) == [(1, 1.0, 100.0), (2, -1.0, 105.0)]


def test_auto_range_from_first_close() -> None:
    df = frame([(100.0, 100.0, 100.0, 100.0)] * 2)
    grid = GridStrategy({"range_pct": 0.2, "levels": 3, "investment": 100.0})
    run_strategy(grid, df)
    assert grid.prices == pytest.approx([80.0, 100.0, 120.0])
    # 50 quote per slot: 50 / 80 = 0.625 and 50 / 100 = 0.5; only 80 is below the close 100
    assert [(s.state, s.quantity) for s in grid.slots] == [
        (SlotState.BUYING, D("0.625")), (SlotState.IDLE, D("0.5")),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "params,key",
    [
        ({"lower": 90.0}, "strategy_params.lower"),
        ({"lower": 110.0, "upper": 90.0}, "strategy_params.lower"),
        ({"levels": 2}, "strategy_params.levels"),
        ({"spacing": "log"}, "strategy_params.spacing"),
    ],
)
def test_bad_params(params: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        GridStrategy(params)
    assert info.value.key_path == key


def test_seed_003_view_of_a_grid() -> None:
    df = frame(BARS[:3])
    grid = GridStrategy(PARAMS)
    run_strategy(grid, df)
    assert grid.generate_signal(df, D("1000")) is None  # a grid acts through orders only
    view = grid.analyze_market(df)
    assert view.trend == "neutral" and view.price == 105.5
    assert view.indicators == {"levels": 5.0, "slots_holding": 0.0, "lower": 90.0, "upper": 110.0}


def test_equal_size_slots_filled_in_one_bar_each_sell_their_own_level() -> None:
    # qty_step 1: every slot buys 100 / L_i floored = 1 unit (slot 3: 100 / 105 -> 0, idle).
    # The simulator fills the buys at 95 and 100 of bar 1 in submission order (95 first);
    # each slot must still learn its own fill, or the unit bought at 95 is never sold and
    # its slot buys again (inventory drift).
    params = {**PARAMS, "qty_step": 1.0}
    bars = [
        (102.0, 103.0, 101.0, 102.0),  # 0: buys armed at 90, 95, 100
        (102.0, 102.0, 94.0, 96.0),  # 1: buys @ 100 and @ 95 fill -> sells at 105 and 100
        (96.0, 97.0, 95.5, 96.5),  # 2: nothing
        (96.5, 101.0, 96.0, 100.5),  # 3: sell of slot 1 @ 100 fills; slot 1 re-armed at 95
        (100.5, 100.6, 99.5, 100.2),  # 4: end of data: the last unit sold at the close
    ]
    df = frame(bars)
    grid = GridStrategy(params)
    out = run_strategy(grid, df)
    assert fills_by_bar(out, df) == [
        (1, 1.0, 95.0), (1, 1.0, 100.0), (3, -1.0, 100.0), (4, -1.0, 100.2),
    ]  # fmt: skip
    assert [(s.state, s.held) for s in grid.slots] == [
        (SlotState.BUYING, D(0)), (SlotState.BUYING, D(0)), (SlotState.SELLING, D(1)),
        (SlotState.IDLE, D(0)),
    ]  # fmt: skip
    assert grid.cycles == 1
