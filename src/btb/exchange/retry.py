"""The retry policy of every exchange client (tenacity).

Only :data:`btb.errors.RETRYABLE_ERRORS` (NetworkError, RateLimitError) are retried; every
other error is raised at once. Waits grow exponentially with random jitter; a RateLimitError
that says when the limit resets (``retry_after``) waits at least that long. Each retry is
logged at WARNING with the operation, the attempt and the error (messages carry no secrets).

Retrying is only safe for idempotent calls. Order submission must not be blindly retried: the
Bybit client looks the order up by its client order id before it submits it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
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


__all__ = ["RetryPolicy", "call_with_retry"]
