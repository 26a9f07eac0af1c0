"""Risk layer: position sizing, risk limits (RiskManager) and phased capital (CapitalManager).

Deciding code only: no I/O, no database, no exchange. The shells pass balances and PnL in.
"""

from btb.risk.capital import (
    PHASE_ALLOCATION,
    CapitalManager,
    DeploymentPhase,
    ScalingDecision,
    ScalingGates,
)
from btb.risk.limits import RiskLimits, resolve_limits
from btb.risk.manager import AccountState, IntentLike, RiskDecision, RiskManager
from btb.risk.sizing import apply_instrument_limits, equity_fraction, fixed_notional, risk_per_trade

__all__ = [
    "PHASE_ALLOCATION",
    "AccountState",
    "CapitalManager",
    "DeploymentPhase",
    "IntentLike",
    "RiskDecision",
    "RiskLimits",
    "RiskManager",
    "ScalingDecision",
    "ScalingGates",
    "apply_instrument_limits",
    "equity_fraction",
    "fixed_notional",
    "resolve_limits",
    "risk_per_trade",
]
