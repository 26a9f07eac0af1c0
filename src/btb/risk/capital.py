"""CapitalManager: deploy capital in phases, and scale up only when results earn it (seed 003).

A new bot trades a small slice of the capital first. After enough trades, if the phase's results
pass every gate, :meth:`CapitalManager.advance_phase` raises the allocation to the next slice:

=========== ======================= ==========================================
phase       share of total capital  reached by
=========== ======================= ==========================================
NOT_STARTED 0 %                     construction
PHASE_1     5 %                     :meth:`~CapitalManager.start_phase_1`
PHASE_2     15 %                    :meth:`~CapitalManager.advance_phase` (gates pass)
PHASE_3     35 %                    advance_phase (gates pass)
FULL        100 %                   advance_phase (gates pass); the last phase
=========== ======================= ==========================================

Gates (:class:`ScalingGates`, evaluated over the trades of the *current* phase only; counters
restart when a phase begins, so each step up is earned at its own size):

* ``trades >= min_trades`` (default 20);
* ``win rate >= min_win_rate`` (default 45 %);
* ``profit factor >= min_profit_factor`` (gross profit / gross loss, default 1.2; infinite with
  profit and no loss) and ``net PnL > 0``;
* ``errors <= max_errors`` (default 3; :meth:`~CapitalManager.record_error`);
* ``max drawdown <= max_drawdown_pct`` (default 10 %): the largest fall of phase equity
  (allocation + cumulative PnL of the phase) from its running peak, as a fraction of that peak.

:meth:`~CapitalManager.advance_phase` refuses by raising :class:`btb.errors.StateError` whose
message lists the blockers (call :meth:`~CapitalManager.evaluate_scaling` first to see them
without an exception). :meth:`~CapitalManager.halt` stops deployment: the allocation becomes 0
until a new manager is made, and evaluate/advance report the halt as a blocker. No I/O here.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from btb.errors import StateError
from btb.risk.sizing import Number, to_decimal

__all__ = [
    "PHASE_ALLOCATION",
    "CapitalManager",
    "DeploymentPhase",
    "ScalingDecision",
    "ScalingGates",
]

log = logging.getLogger(__name__)
ZERO = Decimal(0)


class DeploymentPhase(enum.StrEnum):
    """How much of the capital is deployed (see :data:`PHASE_ALLOCATION`)."""

    NOT_STARTED = "not_started"
    PHASE_1 = "phase_1"
    PHASE_2 = "phase_2"
    PHASE_3 = "phase_3"
    FULL = "full"


PHASE_ALLOCATION: dict[DeploymentPhase, Decimal] = {
    DeploymentPhase.NOT_STARTED: Decimal("0"),
    DeploymentPhase.PHASE_1: Decimal("0.05"),
    DeploymentPhase.PHASE_2: Decimal("0.15"),
    DeploymentPhase.PHASE_3: Decimal("0.35"),
    DeploymentPhase.FULL: Decimal("1"),
}
"""Share of the total capital each phase deploys."""

_ORDER = list(DeploymentPhase)


@dataclass(frozen=True, slots=True)
class ScalingGates:
    """Thresholds a phase must pass before the next one (defaults in the module docstring)."""

    min_trades: int = 20
    min_win_rate: float = 0.45
    min_profit_factor: float = 1.2
    max_errors: int = 3
    max_drawdown_pct: float = 0.10


@dataclass(slots=True)
class ScalingDecision:
    """Whether the next phase may start: ``reasons`` are passed gates, ``blockers`` failed ones."""

    can_scale: bool
    current_phase: DeploymentPhase
    next_phase: DeploymentPhase | None
    reasons: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _PhaseStats:
    trades: int = 0
    wins: int = 0
    gross_profit: Decimal = ZERO
    gross_loss: Decimal = ZERO  # positive number
    errors: int = 0
    peak_equity: Decimal = ZERO
    equity: Decimal = ZERO
    max_drawdown: Decimal = ZERO  # fraction of the peak

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_profit - self.gross_loss

    @property
    def win_rate(self) -> float:
        return self.wins / self.trades if self.trades else 0.0

    @property
    def profit_factor(self) -> float:
        if self.gross_loss == 0:
            return float("inf") if self.gross_profit > 0 else 0.0
        return float(self.gross_profit / self.gross_loss)


class CapitalManager:
    """Phased capital deployment with performance gates."""

    def __init__(self, total_capital: Number, gates: ScalingGates | None = None) -> None:
        total = to_decimal(total_capital, "total_capital")
        if total <= 0:
            raise ValueError(f"total_capital must be > 0, got {total_capital!r}")
        self.total_capital = total
        self.gates = gates or ScalingGates()
        self.phase = DeploymentPhase.NOT_STARTED
        self.halted_reason: str | None = None
        self.history: list[dict[str, Any]] = []
        self._stats = _PhaseStats()

    @property
    def allocated_capital(self) -> Decimal:
        """Capital the bot may trade now (0 before phase 1 and after a halt)."""
        if self.halted_reason is not None:
            return ZERO
        return self.total_capital * PHASE_ALLOCATION[self.phase]

    @property
    def is_halted(self) -> bool:
        return self.halted_reason is not None

    def _enter(self, phase: DeploymentPhase) -> Decimal:
        self.phase = phase
        alloc = self.allocated_capital
        self._stats = _PhaseStats(peak_equity=alloc, equity=alloc)
        self.history.append({"phase": phase.value, "allocation": alloc})
        log.info("capital deployment: %s, allocation %s", phase.value, alloc)
        return alloc

    def start_phase_1(self) -> Decimal:
        """Begin trading 5 % of the capital; returns that allocation."""
        if self.is_halted:
            raise StateError(f"capital deployment is halted: {self.halted_reason}")
        if self.phase is not DeploymentPhase.NOT_STARTED:
            raise StateError(f"phase 1 already started (current phase {self.phase.value})")
        return self._enter(DeploymentPhase.PHASE_1)

    def record_trade(self, won: bool, pnl: Number) -> None:
        """Record one closed trade of the current phase (``pnl`` net, in quote currency)."""
        if self.phase is DeploymentPhase.NOT_STARTED:
            raise StateError("record_trade before start_phase_1")
        amount = to_decimal(pnl, "pnl")
        s = self._stats
        s.trades += 1
        s.wins += 1 if won else 0
        if amount > 0:
            s.gross_profit += amount
        else:
            s.gross_loss -= amount
        s.equity += amount
        s.peak_equity = max(s.peak_equity, s.equity)
        if s.peak_equity > 0:
            s.max_drawdown = max(s.max_drawdown, (s.peak_equity - s.equity) / s.peak_equity)

    def record_error(self) -> None:
        """Count an operational error (rejected order, desync, crash) against this phase."""
        self._stats.errors += 1

    def evaluate_scaling(self) -> ScalingDecision:
        """Check every gate for moving to the next phase."""
        nxt = self._next_phase()
        decision = ScalingDecision(False, self.phase, nxt)
        if self.is_halted:
            decision.blockers.append(f"halted: {self.halted_reason}")
        if self.phase is DeploymentPhase.NOT_STARTED:
            decision.blockers.append("phase 1 not started")
            return decision
        if nxt is None:
            decision.blockers.append("already at full deployment")
            return decision
        for passed, text in self._gate_results():
            (decision.reasons if passed else decision.blockers).append(text)
        decision.can_scale = not decision.blockers
        return decision

    def _gate_results(self) -> list[tuple[bool, str]]:
        s, g = self._stats, self.gates
        pf = s.profit_factor
        return [
            (s.trades >= g.min_trades, f"trades {s.trades} vs minimum {g.min_trades}"),
            (
                s.win_rate >= g.min_win_rate,
                f"win rate {s.win_rate:.1%} vs min {g.min_win_rate:.1%}",
            ),
            (pf >= g.min_profit_factor, f"profit factor {pf:.2f} vs min {g.min_profit_factor}"),
            (s.net_pnl > 0, f"net pnl {s.net_pnl} must be > 0"),
            (s.errors <= g.max_errors, f"errors {s.errors} vs max {g.max_errors}"),
            (
                s.max_drawdown <= Decimal(str(g.max_drawdown_pct)),
                f"max drawdown {float(s.max_drawdown):.1%} vs max {g.max_drawdown_pct:.1%}",
            ),
        ]

    def _next_phase(self) -> DeploymentPhase | None:
        i = _ORDER.index(self.phase)
        return _ORDER[i + 1] if i + 1 < len(_ORDER) else None

    def advance_phase(self) -> Decimal:
        """Move to the next phase and return its allocation; StateError listing blockers if not."""
        decision = self.evaluate_scaling()
        if not decision.can_scale or decision.next_phase is None:
            raise StateError("cannot scale up: " + "; ".join(decision.blockers))
        return self._enter(decision.next_phase)

    def halt(self, reason: str) -> None:
        """Stop all deployment: allocation 0, no scaling. Irreversible for this manager."""
        self.halted_reason = reason
        self.history.append({"phase": self.phase.value, "halted": reason})
        log.warning("capital deployment halted: %s", reason)

    def get_report(self) -> dict[str, Any]:
        """Deployment status: phase, allocation, this phase's statistics, gates and history."""
        s = self._stats
        decision = self.evaluate_scaling()
        return {
            "total_capital": self.total_capital,
            "phase": self.phase.value,
            "allocation_pct": float(PHASE_ALLOCATION[self.phase]),
            "allocated_capital": self.allocated_capital,
            "halted": self.is_halted,
            "halt_reason": self.halted_reason,
            "trades": s.trades,
            "wins": s.wins,
            "losses": s.trades - s.wins,
            "win_rate": s.win_rate,
            "gross_profit": s.gross_profit,
            "gross_loss": s.gross_loss,
            "net_pnl": s.net_pnl,
            "profit_factor": s.profit_factor,
            "errors": s.errors,
            "max_drawdown_pct": float(s.max_drawdown),
            "can_scale": decision.can_scale,
            "next_phase": decision.next_phase.value if decision.next_phase else None,
            "blockers": decision.blockers,
            "history": list(self.history),
        }
