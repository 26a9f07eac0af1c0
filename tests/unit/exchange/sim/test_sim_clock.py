"""The simulator clock: stepped, accelerated and real time, never backwards."""

from __future__ import annotations

import pytest

from btb.exchange.sim.clock import SimClock


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_stepped_clock_moves_only_when_told() -> None:
    wall = FakeMonotonic()
    clock = SimClock(1_700_000_000_000, monotonic=wall)
    wall.t += 3600
    assert clock.now_ms() == 1_700_000_000_000
    assert clock.advance(300_000) == 1_700_000_300_000
    assert clock.wall_seconds_until(1_700_000_600_000) is None


def test_accelerated_clock_runs_speed_times_wall_time() -> None:
    wall = FakeMonotonic()
    clock = SimClock(0, speed=60, monotonic=wall)
    wall.t += 2.5  # 2.5 wall seconds at x60 = 150 simulated seconds
    assert clock.now_ms() == 150_000
    assert clock.wall_seconds_until(300_000) == pytest.approx(2.5)


def test_real_time_clock_and_speed_change_keep_time_continuous() -> None:
    wall = FakeMonotonic()
    clock = SimClock(10_000, speed=1, monotonic=wall)
    wall.t += 1.0
    assert clock.now_ms() == 11_000
    clock.set_speed(0)
    wall.t += 100
    assert clock.now_ms() == 11_000  # stepped from now on, no jump


def test_clock_refuses_to_go_back() -> None:
    clock = SimClock(5_000)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(4_999)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="speed"):
        SimClock(0, speed=-1)
