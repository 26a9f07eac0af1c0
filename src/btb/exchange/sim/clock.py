"""The simulator's own clock: real time, accelerated ×N, or stepped by the caller.

Simulated time starts at ``start_ms`` (epoch milliseconds, UTC) and moves

* ``speed == 1``: at wall-clock pace (paper trading against replayed candles in real time),
* ``speed == N``: N simulated seconds per wall second (``btb sim --speed 60``: a 1-minute
  candle closes every wall second),
* ``stepped`` (``speed == 0``): only when :meth:`SimClock.advance` or :meth:`SimClock.set` is
  called, so tests are deterministic and never sleep.

Simulated time only ever moves forward. It is the time of the trading world (candle times,
order and execution timestamps, ``/v5/market/time``); request signatures are checked against
the wall clock instead (see :mod:`btb.exchange.sim.auth`), because clients sign with theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    """Simulated epoch-millisecond time; ``speed=0`` means stepped (moves only when told)."""

    def __init__(
        self,
        start_ms: int,
        *,
        speed: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError(f"clock speed must be >= 0 (0 = stepped), got {speed}")
        self._monotonic = monotonic
        self._speed = float(speed)
        self._anchor_sim_ms = int(start_ms)
        self._anchor_real = monotonic()

    @property
    def speed(self) -> float:
        """Simulated seconds per wall second; 0 when stepped."""
        return self._speed

    @property
    def stepped(self) -> bool:
        return self._speed == 0.0

    def now_ms(self) -> int:
        """Current simulated time in epoch milliseconds."""
        if self.stepped:
            return self._anchor_sim_ms
        elapsed = self._monotonic() - self._anchor_real
        return self._anchor_sim_ms + int(elapsed * 1000 * self._speed)

    def advance(self, ms: int) -> int:
        """Move simulated time forward by ``ms`` (any mode); return the new time."""
        if ms < 0:
            raise ValueError(f"the simulator clock cannot go back ({ms} ms)")
        return self.set(self.now_ms() + int(ms))

    def set(self, sim_ms: int) -> int:
        """Jump to ``sim_ms`` (not earlier than now); running clocks keep running from there."""
        now = self.now_ms()
        if sim_ms < now:
            raise ValueError(f"the simulator clock cannot go back from {now} to {sim_ms}")
        self._anchor_sim_ms = int(sim_ms)
        self._anchor_real = self._monotonic()
        return self._anchor_sim_ms

    def set_speed(self, speed: float) -> None:
        """Change pace from now on (0 = stepped) without a jump in simulated time."""
        if speed < 0:
            raise ValueError(f"clock speed must be >= 0 (0 = stepped), got {speed}")
        self._anchor_sim_ms = self.now_ms()
        self._anchor_real = self._monotonic()
        self._speed = float(speed)

    def wall_seconds_until(self, sim_ms: int) -> float | None:
        """Wall seconds until simulated time reaches ``sim_ms``; None for a stepped clock."""
        if self.stepped:
            return None
        return max(sim_ms - self.now_ms(), 0) / 1000 / self._speed
