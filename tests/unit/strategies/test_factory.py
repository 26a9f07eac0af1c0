"""btb.strategies.factory: registry, unknown names, strategy files."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from btb.errors import ConfigError
from btb.strategies import BUILTIN_MODULES
from btb.strategies.base import BaseStrategy
from btb.strategies.ema_cross import EmaCrossStrategy
from btb.strategies.factory import (
    STRATEGY_REGISTRY,
    UnknownStrategyError,
    create_strategy,
    get_strategy_class,
    load_strategy_file,
    register_strategy,
)


def test_builtins_are_registered() -> None:
    assert "btb.strategies.ema_cross" in BUILTIN_MODULES
    assert STRATEGY_REGISTRY["ema_cross"] is EmaCrossStrategy
    s = create_strategy("ema_cross", {"fast": 3, "slow": 7})
    assert isinstance(s, EmaCrossStrategy) and s.strategy_type == "ema_cross"
    assert s.params["fast"] == 3


def test_unknown_name_is_both_value_error_and_config_error() -> None:
    with pytest.raises(ValueError, match="Unknown strategy: nope") as err:
        create_strategy("nope", {})
    assert isinstance(err.value, ConfigError) and isinstance(err.value, UnknownStrategyError)
    assert err.value.key_path == "trading.strategy"


def test_register_strategy_decorator_and_name_clash() -> None:
    @register_strategy("test_factory_dummy")
    class Dummy(BaseStrategy):
        pass

    try:
        assert create_strategy("test_factory_dummy", None).strategy_type == "test_factory_dummy"
        with pytest.raises(ValueError, match="already registered"):

            @register_strategy("test_factory_dummy")
            class Other(BaseStrategy):
                pass

        with pytest.raises(TypeError):
            register_strategy("x")(int)  # type: ignore[type-var]
    finally:
        STRATEGY_REGISTRY.pop("test_factory_dummy", None)


def test_strategy_from_a_file(tmp_path) -> None:
    path = tmp_path / "my_strats.py"
    path.write_text(
        textwrap.dedent("""
        from typing import ClassVar
        from btb.strategies.base import BaseStrategy, Param
        from btb.strategies.ema_cross import EmaCrossStrategy

        class Helper:
            pass

        class MyCross(EmaCrossStrategy):
            pass

        class Other(BaseStrategy):
            params_spec: ClassVar = {"k": Param(int, 1, low=1)}
    """)
    )
    try:
        s = create_strategy(f"{path}:MyCross", {"fast": 4, "slow": 8})
        assert type(s).__name__ == "MyCross"
        assert STRATEGY_REGISTRY["mycross"] is type(s)  # registered under its class name
        assert create_strategy(f"{path}:Other", {"k": 2}).params["k"] == 2
        with pytest.raises(ConfigError, match="defines 2 strategy classes"):
            load_strategy_file(path)
        with pytest.raises(ConfigError, match="no BaseStrategy subclass 'Helper'"):
            create_strategy(f"{path}:Helper", {})
        with pytest.raises(ConfigError, match=r"strategy_params\.k"):
            create_strategy(f"{path}:Other", {"k": 0})
    finally:
        STRATEGY_REGISTRY.pop("mycross", None)
        STRATEGY_REGISTRY.pop("other", None)


def test_bad_strategy_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        create_strategy(str(tmp_path / "missing.py"), {})
    broken = tmp_path / "broken.py"
    broken.write_text("def oops(:\n")
    with pytest.raises(ConfigError, match="failed to import: SyntaxError") as err:
        create_strategy(f"{broken}:X", {})
    assert err.value.key_path == "trading.strategy"


def test_min_risk_reward_is_declared_on_every_strategy() -> None:
    """None (the risk config decides) unless a strategy opts out; DCA is exempt (0.0)."""
    assert "min_risk_reward" in vars(BaseStrategy)
    assert BaseStrategy.min_risk_reward is None
    assert EmaCrossStrategy({}).min_risk_reward is None
    assert get_strategy_class("dca").min_risk_reward == 0.0
    values = [cls.min_risk_reward for cls in STRATEGY_REGISTRY.values()]
    assert all(v is None or v >= 0.0 for v in values)


def test_stateful_strategies_have_no_signal_arrays() -> None:
    grid = create_strategy("grid", {"lower": 90.0, "upper": 110.0})
    assert not grid.is_signal_strategy()
    with pytest.raises(TypeError, match="GridStrategy is not a signal strategy"):
        grid.signals(pd.DataFrame())
    assert create_strategy("ema_cross", {}).is_signal_strategy()
