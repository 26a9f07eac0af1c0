"""Order intents and the engine's settings for turning them into orders.

The intent types are defined in :mod:`btb.strategies.intents` (strategies sit below the
engine and may not import it) and re-exported here for the engine's callers.
"""

from __future__ import annotations

from dataclasses import dataclass

from btb.core.enums import MarketType
from btb.engine.sizing import SIZING_MODES
from btb.strategies.intents import BracketUpdate, CancelIntent, Intent, OrderIntent


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Risk and sizing rules the engine applies to every entry intent.

    ``stop_loss_pct``/``take_profit_pct`` protect entries whose intent names no distance
    (``None`` = no such protection). ``max_open_positions`` counts symbols with a position or
    a pending entry, across all symbols (shared capital). ``sizing`` is one of
    ``fixed_notional``, ``equity_fraction``, ``risk_per_trade`` (see :mod:`btb.engine.sizing`).
    ``taker_fee``, ``maker_fee`` (``None``: as the taker fee) and ``slippage_bps`` are the
    venue's costs, used to cap an entry at what free cash can pay at the expected fill.
    """

    sizing: str = "risk_per_trade"
    fixed_notional: float = 0.0
    equity_fraction: float = 0.1
    risk_per_trade: float = 0.01
    stop_loss_pct: float | None = 0.02
    take_profit_pct: float | None = 0.04
    max_open_positions: int = 3
    market_type: MarketType = MarketType.SPOT
    leverage: int = 1
    taker_fee: float = 0.001
    maker_fee: float | None = None
    slippage_bps: float = 0.0
    order_prefix: str = "btb"

    def __post_init__(self) -> None:
        if self.sizing not in SIZING_MODES:
            raise ValueError(f"sizing must be one of {sorted(SIZING_MODES)}, got {self.sizing!r}")
        if self.sizing == "fixed_notional" and not self.fixed_notional > 0:
            raise ValueError("fixed_notional sizing needs fixed_notional > 0")
        if self.market_type is MarketType.SPOT and self.leverage != 1:
            raise ValueError("spot trading cannot use leverage")
        if self.max_open_positions < 1 or self.leverage < 1:
            raise ValueError("max_open_positions and leverage must be >= 1")

    @property
    def sizing_mode(self) -> int:
        return SIZING_MODES[self.sizing]

    @property
    def entry_fee_rate(self) -> float:
        """The fee rate an entry is sized for: the higher of taker and maker (what the venue
        sets aside, not knowing in advance which side a fill will be)."""
        maker = self.maker_fee if self.maker_fee is not None else self.taker_fee
        return max(self.taker_fee, maker)

    @property
    def slippage(self) -> float:
        """``slippage_bps`` as a fraction (5 bps = 0.0005)."""
        return max(self.slippage_bps, 0.0) * 1e-4


__all__ = ["BracketUpdate", "CancelIntent", "EngineSettings", "Intent", "OrderIntent"]
