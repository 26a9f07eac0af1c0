"""The tenacity retry policy: only NetworkError/RateLimitError, backoff, rate-limit waits, logs."""

from __future__ import annotations

import logging
import time

import pytest

from btb.errors import AuthenticationError, InvalidOrderError, NetworkError, RateLimitError
from btb.exchange.retry import RateLimitPacer, RetryPolicy, call_with_retry

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


class FakeClock:
    """Epoch seconds that only move when the test (or a paced sleep) moves them."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_pacer_waits_for_an_exhausted_bybit_endpoint_only() -> None:
    clock = FakeClock(1_000.0)
    pacer = RateLimitPacer(RetryPolicy(max_rate_limit_wait=5.0), clock=clock)
    pacer.note("/v5/order/create", {"X-Bapi-Limit-Status": "0",
                                    "X-Bapi-Limit-Reset-Timestamp": "1000040"})  # fmt: skip
    pacer.note("/v5/order/realtime", {"X-Bapi-Limit-Status": "3",
                                      "X-Bapi-Limit-Reset-Timestamp": "1000900"})  # fmt: skip
    assert await pacer.wait("/v5/order/realtime") == 0.0  # requests left there
    started = time.monotonic()
    assert await pacer.wait("/v5/order/create") == pytest.approx(0.04)  # reset 40 ms ahead
    assert time.monotonic() - started >= 0.035
    clock.now = 1_000.05  # past the reset: the allowance is back
    assert await pacer.wait("/v5/order/create") == 0.0
    assert pacer.waits == 1


async def test_pacer_keeps_binance_weight_below_its_share_of_the_limit() -> None:
    clock = FakeClock(59.97)  # 30 ms before the minute ends
    pacer = RateLimitPacer(RetryPolicy(), weight_limit_1m=100, weight_share=0.9, clock=clock)
    pacer.note("/fapi/v1/klines", {"X-MBX-USED-WEIGHT-1M": "89"})
    assert await pacer.wait() == 0.0
    pacer.note("/fapi/v1/klines", {"x-mbx-used-weight-1m": "90"})  # 90 % of 100 used
    assert await pacer.wait("/fapi/v1/order") == pytest.approx(0.03)  # until the next minute


async def test_pacer_caps_waits_and_ignores_malformed_headers() -> None:
    clock = FakeClock(0.0)
    pacer = RateLimitPacer(RetryPolicy(max_rate_limit_wait=0.02), clock=clock)
    pacer.note("/a", {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": "3600000"})
    assert await pacer.wait() == pytest.approx(0.02)  # an hour announced, 20 ms allowed
    pacer = RateLimitPacer(RetryPolicy(), clock=clock)
    pacer.note("/a", {"X-Bapi-Limit-Status": "none", "X-Bapi-Limit-Reset-Timestamp": "x"})
    pacer.note("/a", {"X-MBX-USED-WEIGHT-1M": "lots"})
    assert await pacer.wait() == 0.0
