"""What a strategy sees when it decides, and the value types of the seed strategy API.

:class:`StrategyContext` is handed to :meth:`BaseStrategy.on_bar` once per closed bar. It is
a thin, reused view over whoever drives the strategy (the engine, in backtests and live):
reading ``history``, ``equity`` or ``open_orders`` asks the :class:`MarketSource` at that
moment, so a strategy pays only for what it reads. Do not keep a context (or the frames it
returns) beyond the call: the next bar reuses it.

:data:`SIGNAL_COLUMNS` and :class:`SignalRow` define the vectorised signal contract of
:meth:`BaseStrategy.signals`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from btb.core.enums import PositionSide

if TYPE_CHECKING:
    import pandas as pd

    from btb.core.bar import Bar
    from btb.core.order import Order
    from btb.core.position import Position

SIGNAL_COLUMNS: tuple[str, ...] = ("enter_long", "exit_long", "enter_short", "exit_short")
"""Boolean columns every :meth:`BaseStrategy.signals` frame has (one row per candle)."""

BRACKET_COLUMNS: tuple[str, ...] = ("stop_loss", "take_profit")
"""Optional float columns: per-bar stop/take distances (fractions of the entry fill; NaN =
the strategy's default)."""


class SignalRow(NamedTuple):
    """The signals of one closed bar: what :meth:`BaseStrategy.signals` says at row t."""

    enter_long: bool = False
    exit_long: bool = False
    enter_short: bool = False
    exit_short: bool = False
    stop_loss: float = math.nan
    take_profit: float = math.nan

    @property
    def any(self) -> bool:
        return self.enter_long or self.exit_long or self.enter_short or self.exit_short


class MarketSource(Protocol):
    """The driver's side of a :class:`StrategyContext` (the engine implements it)."""

    def history(self, symbol: str) -> pd.DataFrame:
        """Candles (and nothing later) up to and including the bar being decided on."""
        ...

    def signal(self, symbol: str) -> SignalRow | None:
        """The signal row of the bar being decided on (None for non-signal strategies)."""
        ...

    def position(self, symbol: str) -> Position:
        """The current position (read-only: never mutate it)."""
        ...

    def equity(self) -> float:
        """Account equity in quote currency: cash plus open positions marked at last close."""
        ...

    def cash(self) -> float:
        """Free cash / wallet balance in quote currency."""
        ...

    def open_orders(self, symbol: str) -> tuple[Order, ...]:
        """Working orders in ``symbol`` (entries, exits and protective orders)."""
        ...

    def open_positions(self) -> int:
        """Number of symbols with an open position or a pending entry (all symbols)."""
        ...


class StrategyContext:
    """The closed bar being decided on plus lazy views of history, position and account."""

    __slots__ = ("_source", "bar", "index", "symbol", "timeframe")

    def __init__(self, symbol: str, timeframe: str, source: MarketSource) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self._source = source
        self.bar: Bar | None = None
        #: position of ``bar`` in the driver's series (0-based; informative only).
        self.index = -1

    @property
    def now(self) -> datetime:
        """Close time of the bar being decided on: the earliest moment an order can act."""
        assert self.bar is not None, "context read outside on_bar"
        return self.bar.close_time

    @property
    def history(self) -> pd.DataFrame:
        return self._source.history(self.symbol)

    @property
    def signal(self) -> SignalRow | None:
        return self._source.signal(self.symbol)

    @property
    def position(self) -> Position:
        return self._source.position(self.symbol)

    @property
    def position_side(self) -> PositionSide:
        return self._source.position(self.symbol).side

    @property
    def equity(self) -> float:
        return self._source.equity()

    @property
    def cash(self) -> float:
        return self._source.cash()

    @property
    def open_orders(self) -> tuple[Order, ...]:
        return self._source.open_orders(self.symbol)

    @property
    def open_positions(self) -> int:
        return self._source.open_positions()


# ---- value types of the seed (003) strategy API -------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketAnalysis:
    """Result of :meth:`BaseStrategy.analyze_market` (seed 003's ``BaseMarketAnalysis``)."""

    timestamp: datetime | None
    price: float
    trend: str  # "bullish" | "bearish" | "neutral"
    signal: SignalRow
    indicators: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TradeSignal:
    """Result of :meth:`BaseStrategy.generate_signal` (seed 003's ``BaseSignal``).

    ``action`` is ``"enter"`` or ``"exit"``; ``side`` the position side concerned.
    ``stop_loss``/``take_profit`` are absolute prices derived from ``price``.
    """

    action: str
    side: PositionSide
    price: Decimal
    timestamp: datetime | None
    quantity: Decimal = Decimal(0)
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    strength: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PositionInfo:
    """A strategy's own view of one position (seed 003); ``exit_price`` set once closed."""

    side: PositionSide
    quantity: Decimal
    entry_price: Decimal
    current_price: Decimal
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    opened_at: datetime | None = None
    exit_price: Decimal | None = None
    exit_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.exit_price is None

    @property
    def unrealized_pnl(self) -> Decimal:
        sign = 1 if self.side is PositionSide.LONG else -1
        last = self.exit_price if self.exit_price is not None else self.current_price
        return (last - self.entry_price) * self.quantity * sign


@dataclass(frozen=True, slots=True)
class StrategyPerformance:
    """Round-trip statistics of a strategy (seed 003); PnL net of fees, in quote currency."""

    total_trades: int = 0
    winning_trades: int = 0
    losing_trades: int = 0
    total_pnl: Decimal = Decimal(0)
    gross_profit: Decimal = Decimal(0)
    gross_loss: Decimal = Decimal(0)

    @property
    def win_rate(self) -> float:
        return self.winning_trades / self.total_trades if self.total_trades else 0.0

    @property
    def profit_factor(self) -> float:
        if self.gross_loss == 0:
            return math.inf if self.gross_profit > 0 else 0.0
        return float(self.gross_profit / self.gross_loss)

    def add(self, net_pnl: Decimal) -> StrategyPerformance:
        """A copy with one more closed round trip of ``net_pnl``."""
        win = net_pnl > 0
        return StrategyPerformance(
            total_trades=self.total_trades + 1,
            winning_trades=self.winning_trades + win,
            losing_trades=self.losing_trades + (net_pnl < 0),
            total_pnl=self.total_pnl + net_pnl,
            gross_profit=self.gross_profit + (net_pnl if win else 0),
            gross_loss=self.gross_loss + (-net_pnl if net_pnl < 0 else 0),
        )
