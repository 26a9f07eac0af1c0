"""Pre-deployment sanity checks of risk and strategy settings (seed 003's ``ConfigValidator``).

The typed config (:mod:`btb.utils.config_models`) rejects values that are impossible; this
validator flags values that are *allowed but unsafe or self-defeating*, such as a grid whose
step is smaller than the fees or a daily loss limit smaller than one trade's risk. It is
imported from :mod:`btb.utils.config`::

    report = ConfigValidator().run_full_validation(
        risk={"risk_per_trade": Decimal("0.02")},
        grid={"num_levels": 10, "upper_price": 70000, "lower_price": 60000},
        dca={"max_safety_orders": 5},
    )
    report.passed, report.failed_checks

Only checks whose inputs are given are run (and listed). Numbers may be ``Decimal``,
``int`` or ``float``; anything else (including bool and numeric strings) fails its check.
The limits are in :class:`ValidationLimits`; defaults and why:

========================  =========================================================
risk_per_trade            0 < x <= 5 % of equity (btb's default is 1 %)
max_exposure              0 < x <= 3 x equity (more is leverage most users don't intend)
max_daily_loss            0 < x <= 10 %, and not below risk_per_trade (one stop-out
                          would otherwise exceed the daily limit)
min_risk_reward           >= 1.0 (below 1 the strategy needs > 50 % winners to break even)
grid_levels               integer 2..200
grid_range                0 < lower < upper; each step larger than a round trip in fees
grid_total_investment     > 0, <= available capital, >= min order notional per level
dca_safety_orders         integer 1..25
dca_max_capital           > 0, <= available capital, >= base + all safety orders
dca_take_profit           round trip in fees < x <= 100 %
========================  =========================================================

Key names (aliases in brackets): risk: ``risk_per_trade``, ``max_exposure``,
``max_daily_loss`` [``daily_max_loss_pct``], ``min_risk_reward``; grid: ``num_levels``
[``grid_levels``, ``levels``], ``upper_price`` [``upper``], ``lower_price`` [``lower``],
``total_investment`` [``investment``]; dca: ``max_safety_orders`` [``safety_orders``],
``max_capital``, ``take_profit_pct`` [``take_profit``], ``base_order_size`` [``base_order``],
``safety_order_size`` [``safety_order``], ``safety_order_volume_scale`` [``volume_scale``].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

RISK = "risk"
STRATEGY = "strategy"


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, category (``risk`` or ``strategy``), outcome and why."""

    name: str
    category: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class ValidationReport:
    """All checks that ran; ``passed`` is True when none failed."""

    checks: tuple[CheckResult, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}


@dataclass(frozen=True)
class ValidationLimits:
    """The thresholds the checks use (see the module docstring for the reasons)."""

    max_risk_per_trade: Decimal = Decimal("0.05")
    max_exposure: Decimal = Decimal("3")
    max_daily_loss: Decimal = Decimal("0.10")
    min_risk_reward: Decimal = Decimal("1")
    grid_levels: tuple[int, int] = (2, 200)
    dca_safety_orders: tuple[int, int] = (1, 25)
    fee_rate: Decimal = Decimal("0.001")  # one side (taker); a round trip pays it twice
    min_order_notional: Decimal = Decimal("5")  # seed 002's MIN_ORDER_USD_FALLBACK


class _NotNumber(ValueError):
    pass


def _num(value: Any) -> Decimal:
    """Decimal from Decimal/int/float; raise _NotNumber for bool, str, NaN, infinity."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise _NotNumber(f"not a number: {value!r}")
    try:
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise _NotNumber(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise _NotNumber(f"not a finite number: {value!r}")
    return result


def _pick(params: Mapping[str, Any], *names: str) -> tuple[str, Any] | None:
    for name in names:
        if name in params and params[name] is not None:
            return name, params[name]
    return None


@dataclass
class _Run:
    """Collects results for one category."""

    category: str
    results: list[CheckResult] = field(default_factory=list)

    def add(self, name: str, problem: str | None, ok_reason: str) -> None:
        passed = problem is None
        reason = ok_reason if passed else str(problem)
        self.results.append(CheckResult(name, self.category, passed, reason))


class ConfigValidator:
    """Runs the risk and strategy sanity checks; see the module docstring for the limits."""

    def __init__(self, limits: ValidationLimits | None = None) -> None:
        self.limits = limits or ValidationLimits()

    def run_full_validation(
        self,
        risk: Mapping[str, Any] | None = None,
        grid: Mapping[str, Any] | None = None,
        dca: Mapping[str, Any] | None = None,
        *,
        available_capital: Decimal | float | int | None = None,
    ) -> ValidationReport:
        """Run every check whose inputs are present and return the report."""
        checks = [*self.validate_risk(risk or {})]
        checks += self.validate_grid(grid or {}, available_capital=available_capital)
        checks += self.validate_dca(dca or {}, available_capital=available_capital)
        return ValidationReport(tuple(checks))

    def validate_risk(self, risk: Mapping[str, Any]) -> list[CheckResult]:
        """Checks risk_per_trade, max_exposure, max_daily_loss, min_risk_reward."""
        run, lim = _Run(RISK), self.limits
        rpt = _pick(risk, "risk_per_trade")
        if rpt:
            run.add("risk_per_trade", _range(rpt[1], Decimal(0), lim.max_risk_per_trade), "ok")
        exposure = _pick(risk, "max_exposure")
        if exposure:
            run.add("max_exposure", _range(exposure[1], Decimal(0), lim.max_exposure), "ok")
        daily = _pick(risk, "max_daily_loss", "daily_max_loss_pct")
        if daily:
            problem = _range(daily[1], Decimal(0), lim.max_daily_loss)
            rpt_ok = rpt is not None and _range(rpt[1], Decimal(0), Decimal(1)) is None
            if problem is None and rpt and rpt_ok and _num(daily[1]) < _num(rpt[1]):
                problem = (
                    f"{daily[0]} {daily[1]} is below risk_per_trade {rpt[1]}: "
                    "one losing trade would break the daily limit"
                )
            run.add("max_daily_loss", problem, "ok")
        rr = _pick(risk, "min_risk_reward")
        if rr:
            run.add("min_risk_reward", _at_least(rr[1], lim.min_risk_reward), "ok")
        return run.results

    def validate_grid(
        self, grid: Mapping[str, Any], *, available_capital: Any = None
    ) -> list[CheckResult]:
        """Checks grid_levels, grid_range, grid_total_investment."""
        run, lim = _Run(STRATEGY), self.limits
        levels = _pick(grid, "num_levels", "grid_levels", "levels")
        levels_ok = levels is not None and _int_range(levels[1], *lim.grid_levels) is None
        if levels:
            run.add("grid_levels", _int_range(levels[1], *lim.grid_levels), "ok")
        upper, lower = _pick(grid, "upper_price", "upper"), _pick(grid, "lower_price", "lower")
        if upper or lower:
            n = int(levels[1]) if levels and levels_ok else None
            run.add("grid_range", self._grid_range_problem(upper, lower, n), "ok")
        invest = _pick(grid, "total_investment", "investment")
        if invest:
            problem = _capital_problem(invest[1], available_capital)
            if problem is None and levels and levels_ok:
                per_level = _num(invest[1]) / int(levels[1])
                if per_level < lim.min_order_notional:
                    problem = (
                        f"{per_level:.4f} per level is below the minimum order notional "
                        f"{lim.min_order_notional}"
                    )
            run.add("grid_total_investment", problem, "ok")
        return run.results

    def _grid_range_problem(
        self, upper: tuple[str, Any] | None, lower: tuple[str, Any] | None, levels: int | None
    ) -> str | None:
        if upper is None or lower is None:
            return "needs both upper_price and lower_price"
        try:
            hi, lo = _num(upper[1]), _num(lower[1])
        except _NotNumber as exc:
            return str(exc)
        if lo <= 0 or hi <= lo:
            return f"needs 0 < lower_price < upper_price, got lower {lo} and upper {hi}"
        if levels is not None:
            # The narrowest step in percent is at the top of the range.
            step_pct = (hi - lo) / (levels - 1) / hi
            if step_pct <= 2 * self.limits.fee_rate:
                return (
                    f"grid step {step_pct:.4%} does not exceed a round trip in fees "
                    f"{2 * self.limits.fee_rate:.4%}: every grid trade would lose money"
                )
        return None

    def validate_dca(
        self, dca: Mapping[str, Any], *, available_capital: Any = None
    ) -> list[CheckResult]:
        """Checks dca_safety_orders, dca_max_capital, dca_take_profit."""
        run, lim = _Run(STRATEGY), self.limits
        safety = _pick(dca, "max_safety_orders", "safety_orders")
        if safety:
            run.add("dca_safety_orders", _int_range(safety[1], *lim.dca_safety_orders), "ok")
        cap = _pick(dca, "max_capital")
        if cap:
            problem = _capital_problem(cap[1], available_capital)
            if problem is None and safety and _int_range(safety[1], 0, 10**6) is None:
                problem = _dca_budget_problem(dca, _num(cap[1]), int(safety[1]))
            run.add("dca_max_capital", problem, "ok")
        tp = _pick(dca, "take_profit_pct", "take_profit")
        if tp:
            fees = 2 * lim.fee_rate
            problem = _range(tp[1], fees, Decimal(1))
            if problem is not None:
                problem += f" (it must exceed a round trip in fees, {fees})"
            run.add("dca_take_profit", problem, "ok")
        return run.results


def _range(value: Any, low_exclusive: Decimal, high: Decimal) -> str | None:
    try:
        x = _num(value)
    except _NotNumber as exc:
        return str(exc)
    return None if low_exclusive < x <= high else f"{x} is outside ({low_exclusive}, {high}]"


def _at_least(value: Any, low: Decimal) -> str | None:
    try:
        x = _num(value)
    except _NotNumber as exc:
        return str(exc)
    return None if x >= low else f"{x} is below {low}"


def _int_range(value: Any, low: int, high: int) -> str | None:
    try:
        x = _num(value)
    except _NotNumber as exc:
        return str(exc)
    if x != x.to_integral_value():
        return f"{x} is not a whole number"
    return None if low <= x <= high else f"{x} is outside {low}..{high}"


def _capital_problem(value: Any, available: Any) -> str | None:
    try:
        x = _num(value)
        cap = None if available is None else _num(available)
    except _NotNumber as exc:
        return str(exc)
    if x <= 0:
        return f"{x} must be positive"
    if cap is not None and x > cap:
        return f"{x} exceeds the available capital {cap}"
    return None


def _dca_budget_problem(dca: Mapping[str, Any], budget: Decimal, safety_orders: int) -> str | None:
    base, safety = (
        _pick(dca, "base_order_size", "base_order"),
        _pick(dca, "safety_order_size", "safety_order"),
    )
    if base is None or safety is None:
        return None
    scale = _pick(dca, "safety_order_volume_scale", "volume_scale")
    try:
        b, s = _num(base[1]), _num(safety[1])
        k = _num(scale[1]) if scale else Decimal(1)
    except _NotNumber as exc:
        return str(exc)
    needed = b + sum((s * k**i for i in range(safety_orders)), Decimal(0))
    if needed > budget:
        return f"base order plus {safety_orders} safety orders need {needed}, more than {budget}"
    return None


__all__ = ["CheckResult", "ConfigValidator", "ValidationLimits", "ValidationReport"]
