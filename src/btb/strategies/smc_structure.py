"""Market-structure scanner behind :mod:`btb.strategies.smc` (rules documented there).

One forward pass over the candles; every decision at row t reads rows 0..t only, so running it
on a prefix of the data gives exactly the prefix of the full result (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

#: columns of :func:`scan_structure`'s frame.
STRUCTURE_COLUMNS = (
    "swing_high",
    "swing_low",
    "trend",
    "bos",
    "choch",
    "enter_long",
    "enter_short",
    "stop_price",
    "zone_kind",
)

ORDER_BLOCK, FAIR_VALUE_GAP = 1.0, 2.0
_OHLC = ("open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class ScanParams:
    """Settings of one scan (see the strategy's parameters)."""

    swing_length: int = 5
    use_order_blocks: bool = True
    use_fvg: bool = True
    stop_buffer: float = 0.001
    max_zone_age: int = 50


@dataclass(slots=True)
class Zone:
    """A price zone that may be retested: an order block or a fair-value gap."""

    direction: int  # +1 bullish (buy on retest), -1 bearish
    bottom: float
    top: float
    created: int  # row at whose close the zone became known
    kind: float  # ORDER_BLOCK or FAIR_VALUE_GAP


@dataclass(slots=True)
class _Swing:
    index: int
    level: float
    broken: bool = False


class _Scanner:
    """State of the forward pass; :meth:`step` handles one closed bar."""

    def __init__(
        self, o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray, p: ScanParams
    ) -> None:
        self.o, self.h, self.lo, self.c, self.p = o, h, lo, c, p
        n = len(c)
        self.out = {
            "swing_high": np.full(n, np.nan),
            "swing_low": np.full(n, np.nan),
            "trend": np.zeros(n),
            "bos": np.zeros(n),
            "choch": np.zeros(n),
            "enter_long": np.zeros(n, dtype=bool),
            "enter_short": np.zeros(n, dtype=bool),
            "stop_price": np.full(n, np.nan),
            "zone_kind": np.zeros(n),
        }
        self.trend = 0
        self.high: _Swing | None = None
        self.low: _Swing | None = None
        self.zones: list[Zone] = []

    def step(self, t: int) -> None:
        self._confirm_swings(t)
        new_zones = self._structure(t)
        self._retest(t)
        if self.p.use_fvg:
            new_zones += self._fair_value_gaps(t)
        self.zones.extend(new_zones)
        self.out["trend"][t] = self.trend

    def _confirm_swings(self, t: int) -> None:
        """Bar i = t - L is a swing high if its high beats the L highs each side (strictly)."""
        L, i = self.p.swing_length, t - self.p.swing_length
        if i < L:
            return
        h, lo = self.h, self.lo
        if h[i] > h[i - L : i].max() and h[i] > h[i + 1 : t + 1].max():
            self.high = _Swing(i, float(h[i]))
            self.out["swing_high"][t] = h[i]
        if lo[i] < lo[i - L : i].min() and lo[i] < lo[i + 1 : t + 1].min():
            self.low = _Swing(i, float(lo[i]))
            self.out["swing_low"][t] = lo[i]

    def _structure(self, t: int) -> list[Zone]:
        """A close beyond the last unbroken swing is a BOS (with the trend) or CHoCH (against)."""
        zones: list[Zone] = []
        for swing, direction in ((self.high, 1), (self.low, -1)):
            if swing is None or swing.broken:
                continue
            if (self.c[t] - swing.level) * direction <= 0:
                continue
            swing.broken = True
            key = "choch" if self.trend == -direction else "bos"
            self.out[key][t] = direction
            if self.trend != direction:  # the old direction's zones no longer apply
                self.zones = [z for z in self.zones if z.direction == direction]
            self.trend = direction
            if self.p.use_order_blocks:
                zones.append(self._order_block(swing.index, t, direction))
        return zones

    def _order_block(self, start: int, t: int, direction: int) -> Zone:
        """Last opposite candle at or before the extreme of the leg start..t that broke out."""
        o, c = self.o[start : t + 1], self.c[start : t + 1]
        if direction == 1:  # bullish break: impulse starts at the leg's lowest low
            k = int(np.argmin(self.lo[start : t + 1]))
            opposite = c[: k + 1] < o[: k + 1]
        else:
            k = int(np.argmax(self.h[start : t + 1]))
            opposite = c[: k + 1] > o[: k + 1]
        hits = np.flatnonzero(opposite)
        j = start + (int(hits[-1]) if hits.size else k)
        return Zone(direction, float(self.lo[j]), float(self.h[j]), t, ORDER_BLOCK)

    def _fair_value_gaps(self, t: int) -> list[Zone]:
        """Three-candle imbalance: bars t-2 and t do not overlap."""
        if t < 2:
            return []
        h, lo = self.h, self.lo
        if lo[t] > h[t - 2]:
            return [Zone(1, float(h[t - 2]), float(lo[t]), t, FAIR_VALUE_GAP)]
        if h[t] < lo[t - 2]:
            return [Zone(-1, float(h[t]), float(lo[t - 2]), t, FAIR_VALUE_GAP)]
        return []

    def _retest(self, t: int) -> None:
        """Enter on the first touch of a live zone in the trend's direction; touched = used."""
        c, keep, hit = self.c[t], [], None
        for z in self.zones:
            if t - z.created > self.p.max_zone_age:
                continue
            if (z.direction == 1 and c < z.bottom) or (z.direction == -1 and c > z.top):
                continue  # closed through: invalid
            touched = self.lo[t] <= z.top if z.direction == 1 else self.h[t] >= z.bottom
            if not touched:
                keep.append(z)
            elif z.direction == self.trend and (hit is None or z.created > hit.created):
                hit = z
        self.zones = keep
        if hit is None:
            return
        buffer = self.p.stop_buffer
        if hit.direction == 1:
            self.out["enter_long"][t] = True
            self.out["stop_price"][t] = hit.bottom * (1 - buffer)
        else:
            self.out["enter_short"][t] = True
            self.out["stop_price"][t] = hit.top * (1 + buffer)
        self.out["zone_kind"][t] = hit.kind


def scan_structure(df: pd.DataFrame, params: ScanParams) -> pd.DataFrame:
    """Swings, structure events, zones' retests and entry stops for every row of ``df``."""
    o, h, lo, c = (np.ascontiguousarray(df[k].to_numpy(np.float64)) for k in _OHLC)
    scanner = _Scanner(o, h, lo, c, params)
    for t in range(len(df)):
        scanner.step(t)
    return pd.DataFrame(scanner.out, index=df.index)
