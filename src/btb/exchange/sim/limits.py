"""Request allowances of the simulator, counted the way the venues count them.

Off unless configured (``SimExchange.allowances``). When on, every answer carries the venue's
rate-limit headers, and a request beyond the allowance is refused with the venue's rate-limit
answer (Bybit retCode 10006, Binance -1003 with ``Retry-After``), so clients can be tested
for reading the headers and slowing down *before* they are refused:

* Bybit V5: ``per_window`` requests per API key and endpoint per ``window_ms`` (1 s at
  Bybit); headers ``X-Bapi-Limit`` (the allowance), ``X-Bapi-Limit-Status`` (requests left)
  and ``X-Bapi-Limit-Reset-Timestamp`` (epoch ms when the window ends).
* Binance USDⓈ-M: request weight per client per minute (weight 1 per request here);
  header ``X-MBX-USED-WEIGHT-1M``.

Windows are fixed (they start at multiples of ``window_ms`` of the wall clock), as Binance's
minutes are; clients sign with the wall clock, so allowances count in wall time too.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from btb.exchange.sim.auth import wall_ms


class OverLimit(Exception):
    """The request exceeds its allowance; ``headers`` describe the allowance."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        super().__init__("rate limit exceeded")


@dataclass(slots=True)
class Allowance:
    """``per_window`` requests per key per fixed ``window_ms`` window."""

    per_window: int
    window_ms: int = 1000
    _used: dict[Hashable, tuple[int, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.per_window < 1 or self.window_ms < 1:
            raise ValueError("an allowance needs per_window >= 1 and window_ms >= 1")

    def take(self, key: Hashable, now_ms: int | None = None) -> tuple[int, int, bool]:
        """Count one request of ``key``: (used in this window, window end ms, allowed)."""
        now = wall_ms() if now_ms is None else now_ms
        start = now - now % self.window_ms
        window, used = self._used.get(key, (start, 0))
        if window != start:
            used = 0
        allowed = used < self.per_window
        used = used + 1 if allowed else used
        self._used[key] = (start, used)
        return used, start + self.window_ms, allowed


def bybit_headers(allowance: Allowance, used: int, reset_ms: int) -> dict[str, str]:
    return {
        "X-Bapi-Limit": str(allowance.per_window),
        "X-Bapi-Limit-Status": str(max(allowance.per_window - used, 0)),
        "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
    }


def bybit_allowance(allowance: Allowance, api_key: str, path: str) -> dict[str, str]:
    """Count a Bybit request; its headers, or OverLimit."""
    used, reset, allowed = allowance.take((api_key, path))
    headers = bybit_headers(allowance, used, reset)
    if not allowed:
        raise OverLimit(headers)
    return headers


def binance_allowance(allowance: Allowance) -> dict[str, str]:
    """Count a Binance request (weight 1); its headers, or OverLimit."""
    used, _, allowed = allowance.take("client")
    headers = {"X-MBX-USED-WEIGHT-1M": str(used)}
    if not allowed:
        raise OverLimit(headers)
    return headers


__all__ = ["Allowance", "OverLimit", "binance_allowance", "bybit_allowance"]
