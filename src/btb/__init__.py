"""btb (BestTradingBot): a crypto trading bot with one I/O-free engine and two shells.

Importing this package is cheap on purpose: it loads no pandas, torch, lightgbm or
ccxt. Heavy dependencies are imported by the modules that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
