"""The tenacity retry policy: only NetworkError/RateLimitError, backoff, rate-limit waits, logs."""

from __future__ import annotations

import logging
import time

import pytest

from btb.errors import AuthenticationError, InvalidOrderError, NetworkError, RateLimitError
from btb.exchange.retry import RetryPolicy, call_with_retry

FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01)


class Flaky:
    """Fails with the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_transient_errors_are_retried_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    func = Flaky(NetworkError("timed out"), RateLimitError("slow down"), NetworkError("503"))
    with caplog.at_level(logging.WARNING):
        assert await call_with_retry("fetch x", func, FAST) == "ok"
    assert func.calls == 4
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert messages[0].startswith("retrying fetch x after NetworkError: timed out (attempt 1 of 4")


@pytest.mark.parametrize("error", [AuthenticationError("bad key"), InvalidOrderError("min qty")])
async def test_other_errors_are_not_retried(error: Exception) -> None:
    func = Flaky(error)
    with pytest.raises(type(error)):
        await call_with_retry("x", func, FAST)
    assert func.calls == 1


async def test_gives_up_after_the_attempts_with_the_last_error() -> None:
    func = Flaky(*(NetworkError(f"n{i}") for i in range(10)))
    with pytest.raises(NetworkError, match="n3"):
        await call_with_retry("x", func, FAST)
    assert func.calls == 4


async def test_rate_limit_retry_after_sets_the_minimum_wait() -> None:
    func = Flaky(RateLimitError("wait", retry_after=0.3))
    started = time.monotonic()
    await call_with_retry("x", func, FAST)
    assert time.monotonic() - started >= 0.3


async def test_announced_wait_is_capped() -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01, max_rate_limit_wait=0.05)
    func = Flaky(RateLimitError("ban", retry_after=3600))
    started = time.monotonic()
    await call_with_retry("x", func, policy)
    assert time.monotonic() - started < 1.0


def test_backoff_grows_exponentially_within_jitter() -> None:
    """wait(n) = base * 2**(n-1) + U(0, base), capped at max_delay (tenacity's formula)."""
    from tenacity import RetryCallState

    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=5.0)
    waits = []
    for attempt in range(1, 6):
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = attempt
        waits.append(policy.wait_seconds(state))
    for attempt, wait in enumerate(waits[:3], start=1):
        assert 2 ** (attempt - 1) <= wait <= 2 ** (attempt - 1) + 1.0
    assert waits[3] == waits[4] == 5.0


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=2, max_delay=1)
