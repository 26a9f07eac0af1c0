"""The retry policy of every exchange client (tenacity).

Only :data:`btb.errors.RETRYABLE_ERRORS` (NetworkError, RateLimitError) are retried; every
other error is raised at once. Waits grow exponentially with random jitter; a RateLimitError
that says when the limit resets (``retry_after``) waits at least that long. Each retry is
logged at WARNING with the operation, the attempt and the error (messages carry no secrets).

Retrying is only safe for idempotent calls. Order submission must not be blindly retried: the
Bybit client looks the order up by its client order id before it submits it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from btb.errors import RETRYABLE_ERRORS, RateLimitError
from btb.exchange.errors import binance_used_weight

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry. ``attempts`` counts the first try."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 15.0
    max_rate_limit_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"retry attempts must be >= 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("retry delays must satisfy 0 <= base_delay <= max_delay")

    def wait_seconds(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, raised to a rate limit's ``retry_after``."""
        delay = wait_exponential_jitter(
            multiplier=self.base_delay, max=self.max_delay, jitter=self.base_delay
        )(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self.max_rate_limit_wait))
        return delay

    def retrying(self, operation: str, logger: logging.Logger | None = None) -> AsyncRetrying:
        """A tenacity AsyncRetrying for ``operation`` (used as ``async for attempt in ...``)."""
        logger = logger or log

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            sleep = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "retrying %s after %s: %s (attempt %d of %d, waiting %.2fs)",
                operation, type(error).__name__, error, state.attempt_number, self.attempts, sleep,
            )  # fmt: skip

        return AsyncRetrying(
            retry=retry_if_exception_type(RETRYABLE_ERRORS),
            stop=stop_after_attempt(self.attempts),
            wait=self.wait_seconds,
            before_sleep=before_sleep,
            reraise=True,
        )


class RateLimitPacer:
    """Holds requests back while the venue's rate-limit headers say the allowance is used up.

    Understands Bybit's per-endpoint ``X-Bapi-Limit-Status`` (requests left) with
    ``X-Bapi-Limit-Reset-Timestamp`` (epoch ms when the window resets), and Binance's
    ``X-MBX-USED-WEIGHT-1M`` (request weight used in the current minute), which is kept below
    ``weight_share`` of ``weight_limit_1m``. Waits never exceed the policy's
    ``max_rate_limit_wait``; each one is logged and counted in :attr:`waits`.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        weight_limit_1m: int = 2400,
        weight_share: float = 0.9,
        clock: Callable[[], float] = time.time,
        logger: logging.Logger | None = None,
    ) -> None:
        self.policy = policy
        self.weight_limit_1m = weight_limit_1m
        self.weight_share = weight_share
        self.waits = 0
        self._clock = clock
        self._log = logger or log
        self._until: dict[str, float] = {}  # endpoint (or "*" for all) -> epoch s

    def note(self, endpoint: str, headers: Mapping[str, str] | None) -> None:
        """Read the limit headers of an answer from ``endpoint`` (a URL path)."""
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        left, reset = (
            lowered.get("x-bapi-limit-status"),
            lowered.get("x-bapi-limit-reset-timestamp"),
        )
        with contextlib.suppress(ValueError):
            if left is not None and reset is not None:
                if int(left) > 0:
                    self._until.pop(endpoint, None)
                else:
                    self._until[endpoint] = int(reset) / 1000
            used = binance_used_weight(headers).get("1m")
            if used is not None and used >= self.weight_share * self.weight_limit_1m:
                now = self._clock()
                self._until["*"] = (now // 60 + 1) * 60  # Binance's minute windows
        # a malformed header is ignored: the venue's 429 and the retry policy still apply

    async def wait(self, endpoint: str | None = None) -> float:
        """Sleep until ``endpoint`` (None: every endpoint) may be called; seconds slept."""
        keys = [k for k in self._until if endpoint is None or k in (endpoint, "*")]
        until = max((self._until[k] for k in keys), default=0.0)
        delay = min(until - self._clock(), self.policy.max_rate_limit_wait)
        if delay <= 0:
            return 0.0
        self.waits += 1
        self._log.info("rate-limit allowance used up; waiting %.2fs for the reset", delay)
        await asyncio.sleep(delay)
        for key in keys:
            if self._until.get(key, 0.0) <= self._clock():
                self._until.pop(key, None)
        return delay


async def call_with_retry(
    operation: str,
    func: Callable[[], Awaitable[T]],
    policy: RetryPolicy | None = None,
    logger: logging.Logger | None = None,
) -> T:
    """Await ``func()`` under ``policy``, retrying only NetworkError and RateLimitError."""
    async for attempt in (policy or RetryPolicy()).retrying(operation, logger):
        with attempt:
            return await func()
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover


__all__ = ["RateLimitPacer", "RetryPolicy", "call_with_retry"]
