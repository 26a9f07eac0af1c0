"""Faults injected on request: what a real venue and a real network do to a trading bot.

A :class:`FaultRule` names a kind, which requests it applies to (path prefix, method) and how
often (``probability`` per matching request, drawn from a seeded generator, and/or ``count``
occurrences). Kinds:

* ``rate_limit``: HTTP 429 with the venue's own body (Bybit retCode 10006, Binance -1003);
* ``server_error``: HTTP 5xx (``status``, default 503) with a plain body;
* ``timeout_before``: the request is never processed; the server holds the connection
  ``delay`` seconds (past the client's timeout), then drops it;
* ``timeout_after``: the request IS processed (an order is created) but the answer is held
  ``delay`` seconds and dropped - the case idempotent client order ids exist for;
* ``slow``: processed normally after ``delay`` seconds;
* ``reject``: an order request is refused as the venue would refuse it (``code``/``message``
  override; default: insufficient balance);
* ``drop_ws``: open websockets are closed (checked by the stream handlers).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

logger = logging.getLogger("btb.exchange.sim")

FaultKind = Literal[
    "rate_limit", "server_error", "timeout_before", "timeout_after", "slow", "reject", "drop_ws"
]
KINDS: frozenset[str] = frozenset(FaultKind.__args__)  # type: ignore[attr-defined]


@dataclass(slots=True)
class FaultRule:
    """Inject ``kind`` into matching requests; see the module docstring for the kinds."""

    kind: FaultKind
    probability: float = 1.0
    count: int | None = None
    path_prefix: str = ""
    method: str | None = None
    delay: float = 1.0
    status: int = 503
    code: int | None = None
    message: str | None = None
    fired: int = field(default=0)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (one of {sorted(KINDS)})")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault probability must be in [0, 1], got {self.probability}")

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.fired >= self.count:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path_prefix)


class FaultInjector:
    """Decides, per request, which fault (if any) hits it; counts what it injected."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.injected: Counter[str] = Counter()
        self.hits: Counter[tuple[str, str]] = Counter()  # (kind, path)
        self.ws_drop_generation = 0
        self.on_drop_ws: list[Callable[[], None]] = []

    def add(self, rule: FaultRule) -> FaultRule:
        """Activate ``rule``; a ``drop_ws`` rule also drops the streams that are open now."""
        if rule.kind == "drop_ws":
            self.drop_websockets()
            return rule
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def drop_websockets(self) -> None:
        """Close every open stream (handlers compare this generation number)."""
        self.ws_drop_generation += 1
        self.injected["drop_ws"] += 1
        logger.info("fault injected: drop_ws")
        for hook in list(self.on_drop_ws):
            hook()

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first active rule that matches and wins its draw, or None."""
        for rule in self.rules:
            if rule.matches(method, path) and self._rng.random() < rule.probability:
                rule.fired += 1
                self.injected[rule.kind] += 1
                self.hits[(rule.kind, path)] += 1
                logger.info("fault injected: %s on %s %s", rule.kind, method, path)
                return rule
        return None

    def mixed(
        self,
        rate: float,
        kinds: dict[str, float],
        *,
        path_prefix: str = "",
        method: str | None = None,
        delay: float = 1.0,
    ) -> None:
        """Fail a fraction ``rate`` of matching requests, split between ``kinds`` by weight.

        Realised as one rule per kind with the conditional probabilities that make the total
        failure rate ``rate`` when the rules are tried in order.
        """
        total = sum(kinds.values())
        remaining = 1.0
        for kind, weight in kinds.items():
            share = rate * weight / total
            probability = min(share / remaining, 1.0) if remaining > 0 else 0.0
            remaining -= share
            self.add(
                FaultRule(
                    kind=kind,  # type: ignore[arg-type]
                    probability=probability,
                    path_prefix=path_prefix,
                    method=method,
                    delay=delay,
                )
            )
