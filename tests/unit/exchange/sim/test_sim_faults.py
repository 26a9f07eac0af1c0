"""Fault injection: which requests a rule hits, and how often."""

from __future__ import annotations

import pytest

from btb.exchange.sim.faults import FaultInjector, FaultRule


def test_mixed_faults_hit_the_requested_share_of_requests() -> None:
    faults = FaultInjector(seed=7)
    faults.mixed(
        0.2, {"rate_limit": 1, "server_error": 1, "timeout_after": 2}, path_prefix="/v5/order"
    )
    n = 20_000
    hits = [faults.pick("POST", "/v5/order/create") for _ in range(n)]
    failed = sum(h is not None for h in hits)
    assert failed / n == pytest.approx(0.2, abs=0.01)
    # split by weight 1:1:2 of the 20 %
    assert faults.injected["rate_limit"] / n == pytest.approx(0.05, abs=0.006)
    assert faults.injected["timeout_after"] / n == pytest.approx(0.10, abs=0.008)
    assert faults.pick("GET", "/v5/market/kline") is None  # other paths untouched


def test_count_and_method_limit_a_rule() -> None:
    faults = FaultInjector()
    faults.add(FaultRule("server_error", count=2, method="POST"))
    assert faults.pick("GET", "/x") is None
    assert [faults.pick("POST", "/x") is not None for _ in range(4)] == [True, True, False, False]


def test_drop_ws_runs_hooks_and_bad_rules_are_refused() -> None:
    faults = FaultInjector()
    dropped: list[int] = []
    faults.on_drop_ws.append(lambda: dropped.append(faults.ws_drop_generation))
    faults.add(FaultRule("drop_ws"))
    assert dropped == [1] and faults.rules == []
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="probability"):
        FaultRule("slow", probability=1.5)
