"""The strategy registry (seed 000): :func:`register_strategy`, :func:`create_strategy`.

Built-in strategies register themselves when :mod:`btb.strategies` is imported (the list is
:data:`btb.strategies.BUILTIN_MODULES`). A user's own strategy is a Python file holding a
:class:`~btb.strategies.base.BaseStrategy` subclass; name it as ``path/to/file.py:ClassName``
wherever a strategy name is accepted (``create_strategy``, ``trading.strategy``), or load it
with :func:`load_strategy_file`. It is registered under its ``@register_strategy`` name, or
under the class name in lower case.

Loading a strategy file executes it: only load files you trust, as with any Python code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from btb.errors import ConfigError
from btb.strategies.base import BaseStrategy

StrategyT = TypeVar("StrategyT", bound=type[BaseStrategy])

STRATEGY_REGISTRY: dict[str, type[BaseStrategy]] = {}
"""Registered strategy classes by name."""

_KEY = "trading.strategy"


class UnknownStrategyError(ConfigError, ValueError):
    """No strategy of that name: both a btb ConfigError and (seed 000) a ValueError."""


def register_strategy(strategy_name: str) -> Callable[[StrategyT], StrategyT]:
    """Class decorator: register a :class:`BaseStrategy` subclass as ``strategy_name``.

    Registering another class under a taken name raises ValueError (re-registering the same
    class, e.g. on module reload, is allowed).
    """

    def decorator(cls: StrategyT) -> StrategyT:
        if not (isinstance(cls, type) and issubclass(cls, BaseStrategy)):
            raise TypeError(f"register_strategy({strategy_name!r}) needs a BaseStrategy subclass")
        taken = STRATEGY_REGISTRY.get(strategy_name)
        if taken is not None and taken.__qualname__ != cls.__qualname__:
            raise ValueError(
                f"strategy name {strategy_name!r} is already registered by {taken.__qualname__}"
            )
        cls.name = strategy_name
        STRATEGY_REGISTRY[strategy_name] = cls
        return cls

    return decorator


def is_strategy_path(spec: str) -> bool:
    """True when ``spec`` names a file (``path.py`` or ``path.py:ClassName``)."""
    return spec.split(":", 1)[0].endswith(".py")


def load_strategy_file(path: str | Path, class_name: str | None = None) -> type[BaseStrategy]:
    """Import the strategy file at ``path``, register its class and return it.

    ``class_name`` picks the class; without it the file must define exactly one
    BaseStrategy subclass. Errors (missing file, syntax error, no such class) raise
    ConfigError naming ``trading.strategy``.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ConfigError(f"strategy file {file} does not exist", key_path=_KEY)
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    module_name = f"btb_user_strategy_{file.stem}_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, file)
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot import strategy file {file}", key_path=_KEY)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise ConfigError(
                f"strategy file {file} failed to import: {type(exc).__name__}: {exc}",
                key_path=_KEY,
            ) from exc
    found = {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type)
        and issubclass(obj, BaseStrategy)
        and obj is not BaseStrategy
        and obj.__module__ == module_name
    }
    if class_name is None:
        if len(found) != 1:
            raise ConfigError(
                f"strategy file {file} defines {len(found)} strategy classes "
                f"({', '.join(sorted(found)) or 'none'}); name one as {file.name}:ClassName",
                key_path=_KEY,
            )
        (cls,) = found.values()
    elif class_name in found:
        cls = found[class_name]
    else:
        raise ConfigError(
            f"strategy file {file} has no BaseStrategy subclass {class_name!r} "
            f"(found: {', '.join(sorted(found)) or 'none'})",
            key_path=_KEY,
        )
    if not vars(cls).get("name"):  # not registered by the file itself (inherited names don't count)
        register_strategy(cls.__name__.lower())(cls)
    return cls


def get_strategy_class(strategy_name: str) -> type[BaseStrategy]:
    """The class registered as ``strategy_name`` (or loaded from ``file.py:Class``)."""
    if is_strategy_path(strategy_name):
        path, _, class_name = strategy_name.partition(":")
        return load_strategy_file(path, class_name or None)
    if strategy_name not in STRATEGY_REGISTRY:
        import btb.strategies  # noqa: F401 - registers the built-ins if not done yet

    cls = STRATEGY_REGISTRY.get(strategy_name)
    if cls is None:
        known = ", ".join(sorted(STRATEGY_REGISTRY)) or "none"
        raise UnknownStrategyError(
            f"Unknown strategy: {strategy_name} (registered: {known}; or give path/file.py:Class)",
            key_path=_KEY,
        )
    return cls


def create_strategy(strategy_name: str, params: Mapping[str, Any] | None = None) -> BaseStrategy:
    """Create a strategy instance by registered name or ``file.py:ClassName`` (seed 000).

    Raises UnknownStrategyError (a ValueError and a ConfigError) for an unknown name and
    ConfigError naming ``strategy_params.<name>`` for a bad parameter.
    """
    return get_strategy_class(strategy_name)(dict(params or {}))


__all__ = [
    "STRATEGY_REGISTRY",
    "UnknownStrategyError",
    "create_strategy",
    "get_strategy_class",
    "is_strategy_path",
    "load_strategy_file",
    "register_strategy",
]
