"""Trading strategies: the contract (:mod:`.base`), the registry (:mod:`.factory`), built-ins.

Importing this package registers every built-in strategy listed in :data:`BUILTIN_MODULES`.
Built-in modules must be cheap to import: heavy libraries (TA-Lib, lightgbm, torch) are
imported inside the functions that use them.
"""

from __future__ import annotations

import importlib

#: modules whose import registers a built-in strategy; add new strategy modules here.
BUILTIN_MODULES: tuple[str, ...] = (
    "btb.strategies.ema_cross",
    "btb.strategies.enhanced",
    "btb.strategies.trend_follower",
    "btb.strategies.smc",
    "btb.strategies.grid",
    "btb.strategies.dca",
)

for _module in BUILTIN_MODULES:
    importlib.import_module(_module)

__all__ = ["BUILTIN_MODULES"]
