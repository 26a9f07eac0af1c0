"""ConfigValidator (seed 003): risk and grid/DCA sanity checks with hand-computed boundaries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from btb.utils.config import CheckResult, ConfigValidator, ValidationReport
from btb.utils.config_validator import ValidationLimits


def _only(report: ValidationReport, name: str) -> CheckResult:
    matches = [c for c in report.checks if c.name == name]
    assert len(matches) == 1, report
    return matches[0]


def test_seed_003_example_call() -> None:
    report = ConfigValidator().run_full_validation(
        risk={"risk_per_trade": Decimal("0.02")},
        grid={"num_levels": 10},
        dca={"max_safety_orders": 5},
    )
    assert report.passed
    assert [(c.name, c.category) for c in report.checks] == [
        ("risk_per_trade", "risk"),
        ("grid_levels", "strategy"),
        ("dca_safety_orders", "strategy"),
    ]
    assert report.failed_checks == []


def test_all_checks_run_when_all_inputs_given() -> None:
    report = ConfigValidator().run_full_validation(
        risk={"risk_per_trade": 0.01, "max_exposure": 1, "max_daily_loss": 0.03,
              "min_risk_reward": 1.5},
        grid={"num_levels": 11, "upper_price": 110, "lower_price": 100, "total_investment": 1000},
        dca={"max_safety_orders": 3, "max_capital": 1000, "take_profit_pct": 0.01},
    )  # fmt: skip
    names = {(c.category, c.name) for c in report.checks}
    assert names == {
        ("risk", "risk_per_trade"), ("risk", "max_exposure"), ("risk", "max_daily_loss"),
        ("risk", "min_risk_reward"), ("strategy", "grid_levels"), ("strategy", "grid_range"),
        ("strategy", "grid_total_investment"), ("strategy", "dca_safety_orders"),
        ("strategy", "dca_max_capital"), ("strategy", "dca_take_profit"),
    }  # fmt: skip
    assert report.passed, report.failed_checks
    assert report.to_dict()["passed"] is True


@pytest.mark.parametrize(
    ("risk", "check", "passed"),
    [
        ({"risk_per_trade": 0.05}, "risk_per_trade", True),
        ({"risk_per_trade": Decimal("0.0501")}, "risk_per_trade", False),
        ({"risk_per_trade": 0}, "risk_per_trade", False),
        ({"risk_per_trade": "0.02"}, "risk_per_trade", False),  # text is not a number
        ({"risk_per_trade": True}, "risk_per_trade", False),  # nor is a bool
        ({"risk_per_trade": float("nan")}, "risk_per_trade", False),
        ({"max_exposure": 3}, "max_exposure", True),
        ({"max_exposure": 3.5}, "max_exposure", False),
        ({"max_daily_loss": 0.1}, "max_daily_loss", True),
        ({"max_daily_loss": 0.11}, "max_daily_loss", False),
        ({"daily_max_loss_pct": 0.03}, "max_daily_loss", True),  # btb's config name
        ({"max_daily_loss": 0.01, "risk_per_trade": 0.02}, "max_daily_loss", False),
        ({"max_daily_loss": 0.02, "risk_per_trade": 0.02}, "max_daily_loss", True),
        ({"min_risk_reward": 1}, "min_risk_reward", True),
        ({"min_risk_reward": 0.9}, "min_risk_reward", False),
    ],
)
def test_risk_checks(risk: dict[str, Any], check: str, passed: bool) -> None:
    report = ConfigValidator().run_full_validation(risk=risk)
    result = _only(report, check)
    assert result.passed is passed, result.reason
    assert report.passed is all(c.passed for c in report.checks)
    if not passed:
        assert result in report.failed_checks and result.reason


def test_daily_loss_below_trade_risk_explains_why() -> None:
    report = ConfigValidator().run_full_validation(
        risk={"max_daily_loss": 0.01, "risk_per_trade": 0.02}
    )
    assert "one losing trade" in _only(report, "max_daily_loss").reason


@pytest.mark.parametrize(
    ("grid", "check", "passed"),
    [
        ({"num_levels": 2}, "grid_levels", True),
        ({"num_levels": 1}, "grid_levels", False),
        ({"grid_levels": 200}, "grid_levels", True),
        ({"levels": 201}, "grid_levels", False),
        ({"num_levels": 10.5}, "grid_levels", False),
        # 11 levels over 100..110: step 1, i.e. 1/110 = 0.91 % > 0.2 % round-trip fees.
        ({"num_levels": 11, "upper_price": 110, "lower_price": 100}, "grid_range", True),
        # 101 levels: step 0.1, 0.1/110 = 0.091 % < 0.2 %: every grid trade loses to fees.
        ({"num_levels": 101, "upper_price": 110, "lower_price": 100}, "grid_range", False),
        # The boundary: 46 levels = 45 steps of 10/45, 0.2222/110 = 0.2020 % > 0.2 %;
        # 47 levels = 46 steps of 10/46, 0.2174/110 = 0.1976 % <= 0.2 %.
        ({"num_levels": 46, "upper_price": 110, "lower_price": 100}, "grid_range", True),
        ({"num_levels": 47, "upper_price": 110, "lower_price": 100}, "grid_range", False),
        ({"upper_price": 100, "lower_price": 100}, "grid_range", False),
        ({"upper_price": 90, "lower_price": 100}, "grid_range", False),
        ({"upper_price": 110, "lower_price": 0}, "grid_range", False),
        ({"upper_price": 110}, "grid_range", False),
        ({"upper": Decimal("65000.5"), "lower": Decimal("60000")}, "grid_range", True),
        # 1000 over 10 levels = 100 per order >= 5; 40 over 10 = 4 < 5 minimum notional.
        ({"num_levels": 10, "total_investment": 1000}, "grid_total_investment", True),
        ({"num_levels": 10, "total_investment": 40}, "grid_total_investment", False),
        ({"num_levels": 10, "total_investment": 50}, "grid_total_investment", True),
        ({"investment": -5}, "grid_total_investment", False),
    ],
)
def test_grid_checks(grid: dict[str, Any], check: str, passed: bool) -> None:
    result = _only(ConfigValidator().run_full_validation(grid=grid), check)
    assert result.passed is passed, result.reason
    assert result.category == "strategy"


def test_grid_investment_above_available_capital() -> None:
    validator = ConfigValidator()
    grid = {"num_levels": 10, "total_investment": 1000}
    low = validator.run_full_validation(grid=grid, available_capital=Decimal("999.99"))
    assert not _only(low, "grid_total_investment").passed
    ok = validator.run_full_validation(grid=grid, available_capital=1000)
    assert _only(ok, "grid_total_investment").passed


@pytest.mark.parametrize(
    ("dca", "check", "passed"),
    [
        ({"max_safety_orders": 1}, "dca_safety_orders", True),
        ({"max_safety_orders": 25}, "dca_safety_orders", True),
        ({"max_safety_orders": 0}, "dca_safety_orders", False),
        ({"safety_orders": 26}, "dca_safety_orders", False),
        # base 100 + safety 50 * (1 + 2 + 4) = 450 needed for 3 safety orders at scale 2.
        ({"max_safety_orders": 3, "max_capital": 450, "base_order_size": 100,
          "safety_order_size": 50, "safety_order_volume_scale": 2}, "dca_max_capital", True),
        ({"max_safety_orders": 3, "max_capital": Decimal("449.99"), "base_order": 100,
          "safety_order": 50, "volume_scale": 2}, "dca_max_capital", False),
        # Without a scale: 100 + 3 * 50 = 250.
        ({"max_safety_orders": 3, "max_capital": 249, "base_order_size": 100,
          "safety_order_size": 50}, "dca_max_capital", False),
        ({"max_capital": 0}, "dca_max_capital", False),
        # Round trip in fees at 0.1 % per side is 0.2 %: take profit must exceed it.
        ({"take_profit_pct": 0.002}, "dca_take_profit", False),
        ({"take_profit_pct": 0.0021}, "dca_take_profit", True),
        ({"take_profit": 1.5}, "dca_take_profit", False),
    ],
)  # fmt: skip
def test_dca_checks(dca: dict[str, Any], check: str, passed: bool) -> None:
    result = _only(ConfigValidator().run_full_validation(dca=dca), check)
    assert result.passed is passed, result.reason


def test_limits_are_configurable() -> None:
    cheap = ConfigValidator(ValidationLimits(fee_rate=Decimal("0.0005")))
    # With 0.05 % fees the round trip is 0.1 %, so 0.15 % take profit is enough.
    assert _only(
        cheap.run_full_validation(dca={"take_profit_pct": 0.0015}), "dca_take_profit"
    ).passed
    strict = ConfigValidator(ValidationLimits(max_risk_per_trade=Decimal("0.01")))
    report = strict.run_full_validation(risk={"risk_per_trade": 0.02})
    assert not report.passed and report.failed_checks[0].name == "risk_per_trade"


def test_nothing_given_runs_nothing() -> None:
    report = ConfigValidator().run_full_validation()
    assert report.checks == () and report.passed
