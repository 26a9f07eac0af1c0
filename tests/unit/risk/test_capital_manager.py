"""CapitalManager: phase allocations, every scaling gate, refusal and halt."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btb.errors import StateError
from btb.risk import CapitalManager, DeploymentPhase, ScalingGates

D = Decimal


def record(cm: CapitalManager, results: list[tuple[int, str]]) -> None:
    """``results``: (count, pnl) groups recorded in order; a win is pnl > 0."""
    for count, pnl in results:
        for _ in range(count):
            cm.record_trade(D(pnl) > 0, D(pnl))


def good_phase(cm: CapitalManager) -> None:
    # 8 losses of 5 (equity 500 -> 460, drawdown 8 %) then 12 wins of 10:
    # win rate 60 %, profit factor 120 / 40 = 3, net +80.
    record(cm, [(8, "-5"), (12, "10")])


def test_phases_deploy_5_15_35_100_percent() -> None:
    cm = CapitalManager(D("10000"))
    assert cm.phase is DeploymentPhase.NOT_STARTED and cm.allocated_capital == 0
    assert cm.start_phase_1() == D("500")
    for expected, phase in [
        ("1500", DeploymentPhase.PHASE_2),
        ("3500", DeploymentPhase.PHASE_3),
        ("10000", DeploymentPhase.FULL),
    ]:
        good_phase(cm)
        decision = cm.evaluate_scaling()
        assert decision.can_scale and decision.next_phase is phase and not decision.blockers
        assert len(decision.reasons) == 6
        assert cm.advance_phase() == D(expected) and cm.phase is phase
    final = cm.evaluate_scaling()
    assert not final.can_scale and final.next_phase is None
    assert final.blockers == ["already at full deployment"]


def test_counters_restart_each_phase() -> None:
    cm = CapitalManager(10_000)
    cm.start_phase_1()
    good_phase(cm)
    cm.advance_phase()
    decision = cm.evaluate_scaling()
    assert not decision.can_scale
    assert any(b.startswith("trades 0 vs minimum 20") for b in decision.blockers)


@pytest.mark.parametrize(
    "results,errors,blocker",
    [
        ([(7, "-5"), (12, "10")], 0, "trades 19 vs minimum 20"),
        # 8 wins of 30 (peak 740), 12 losses of 5: win rate 40 % < 45 %; PF 4, drawdown 8.1 %
        ([(8, "30"), (12, "-5")], 0, "win rate 40.0%"),
        # 10 losses of 5 (drawdown exactly 10 %: allowed), 10 wins of 5.9: PF 59 / 50 = 1.18
        ([(10, "-5"), (10, "5.9")], 0, "profit factor 1.18"),
        ([(8, "-5"), (12, "10")], 4, "errors 4 vs max 3"),
        # peak 500 + 20 * 10 = 700, then 8 losses of 10 -> 620: drawdown 80 / 700 = 11.4 %
        ([(20, "10"), (8, "-10")], 0, "max drawdown 11.4%"),
    ],
)
def test_each_gate_blocks(results: list[tuple[int, str]], errors: int, blocker: str) -> None:
    cm = CapitalManager(D("10000"))
    cm.start_phase_1()
    record(cm, results)
    for _ in range(errors):
        cm.record_error()
    decision = cm.evaluate_scaling()
    assert not decision.can_scale
    assert len(decision.blockers) == 1 and decision.blockers[0].startswith(blocker)
    with pytest.raises(StateError, match="cannot scale up: " + blocker.replace("%", "")):
        cm.advance_phase()
    assert cm.phase is DeploymentPhase.PHASE_1 and cm.allocated_capital == D("500")


def test_profit_factor_boundary_and_net_pnl_gate() -> None:
    cm = CapitalManager(D("10000"))
    cm.start_phase_1()
    record(cm, [(10, "-5"), (10, "6")])  # PF 60 / 50 = 1.2: passes (>=)
    assert cm.evaluate_scaling().can_scale
    losing = CapitalManager(D("10000"), ScalingGates(min_profit_factor=0.0, min_win_rate=0.0))
    losing.start_phase_1()
    record(losing, [(10, "-5"), (10, "5")])  # net 0: the net-PnL gate alone blocks
    assert losing.evaluate_scaling().blockers == ["net pnl 0 must be > 0"]


def test_halt_and_misuse() -> None:
    cm = CapitalManager(D("10000"))
    with pytest.raises(StateError, match="before start_phase_1"):
        cm.record_trade(True, D("1"))
    assert cm.evaluate_scaling().blockers == ["phase 1 not started"]
    cm.start_phase_1()
    with pytest.raises(StateError, match="already started"):
        cm.start_phase_1()
    good_phase(cm)
    cm.halt("exchange desync")
    assert cm.allocated_capital == 0
    decision = cm.evaluate_scaling()
    assert not decision.can_scale and decision.blockers == ["halted: exchange desync"]
    with pytest.raises(StateError, match="halted"):
        cm.advance_phase()
    with pytest.raises(ValueError, match="total_capital"):
        CapitalManager(D("0"))


def test_report() -> None:
    cm = CapitalManager(D("10000"))
    cm.start_phase_1()
    record(cm, [(1, "-5"), (3, "10")])
    cm.record_error()
    report = cm.get_report()
    assert report["phase"] == "phase_1" and report["allocated_capital"] == D("500")
    assert (report["trades"], report["wins"], report["losses"], report["errors"]) == (4, 3, 1, 1)
    assert report["net_pnl"] == D("25") and report["win_rate"] == 0.75
    assert report["profit_factor"] == 6.0  # 30 / 5
    assert report["max_drawdown_pct"] == pytest.approx(0.01)  # 5 / 500
    assert report["next_phase"] == "phase_2" and not report["can_scale"]
    assert report["history"] == [{"phase": "phase_1", "allocation": D("500")}]
