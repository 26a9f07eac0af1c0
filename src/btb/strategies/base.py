"""The strategy contract: :class:`BaseStrategy` and its declared parameters (:class:`Param`).

A strategy is one of two kinds; both run on the one engine (backtest, paper, live).

**Signal strategies** override :meth:`BaseStrategy.signals`: from a candle frame they compute,
fully vectorised and without look-ahead (row t uses rows 0..t only), the boolean columns
``enter_long exit_long enter_short exit_short`` and optionally per-bar ``stop_loss`` /
``take_profit`` distances. They get the inherited :meth:`BaseStrategy.on_bar`, which turns
the signal row of each closed bar into intents by the rule in :meth:`intents_from_signal`,
and they may run on the compiled fast path (:mod:`btb.backtest.fast`), which yields the
same trades. ``btb backtest --check-lookahead`` verifies the no-look-ahead promise.

**Stateful strategies** (grid, DCA, ...) override :meth:`BaseStrategy.on_bar` and return
intents (:mod:`btb.strategies.intents`) from a :class:`StrategyContext` that exposes the
history up to the closed bar, the position, equity and working orders. They always use the
event path.

Timing (both kinds): a decision on closed bar t acts at bar t+1's open at the earliest.

Parameters are declared once, on the class, as ``params_spec = {"name": Param(...)}``. The
constructor validates ``params`` against it (unknown names, wrong types, out-of-range values
raise :class:`btb.errors.ConfigError` naming ``strategy_params.<name>``), and the optimiser
reads the same spec for its search space.

The seed (003) methods ``analyze_market``, ``generate_signal``, ``open_position``,
``update_positions``, ``close_position`` and ``get_performance`` work standalone on
frames (no engine) and are derived from :meth:`signals` by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from btb.core.enums import ExitReason, PositionSide
from btb.errors import ConfigError, StateError
from btb.strategies.context import (
    BRACKET_COLUMNS,
    SIGNAL_COLUMNS,
    MarketAnalysis,
    PositionInfo,
    SignalRow,
    StrategyContext,
    StrategyPerformance,
    TradeSignal,
)
from btb.strategies.intents import Intent, OrderIntent

if TYPE_CHECKING:
    import pandas as pd

    from btb.core.trade import Trade

_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


@dataclass(frozen=True, slots=True)
class Param:
    """Declaration of one strategy parameter: type, default, allowed range or choices.

    ``low``/``high`` are inclusive bounds for numbers. ``optimize=False`` keeps a parameter
    out of optimiser search spaces; ``log=True`` asks for a log-uniform search.
    ``nullable=True`` admits ``None`` (meaning "off" or "use the default from risk config").
    """

    type: type
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    doc: str = ""
    optimize: bool = True
    log: bool = False
    nullable: bool = False

    def validate(self, name: str, value: Any) -> Any:
        """Return ``value`` as this parameter's type, or raise ConfigError naming the key."""
        key = f"strategy_params.{name}"
        if value is None:
            if self.nullable:
                return None
            raise ConfigError("must not be null", key_path=key)
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) != (self.type is bool) or not isinstance(value, self.type):
            raise ConfigError(
                f"must be {_TYPE_NAMES.get(self.type, self.type.__name__)}, got {value!r}",
                key_path=key,
            )
        return self._check_range(key, value)

    def _check_range(self, key: str, value: Any) -> Any:
        if self.type is float and not math.isfinite(value):
            raise ConfigError(f"must be finite, got {value!r}", key_path=key)
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"must be one of {list(self.choices)}, got {value!r}", key_path=key)
        if self.low is not None and value < self.low:
            raise ConfigError(f"must be >= {self.low}, got {value!r}", key_path=key)
        if self.high is not None and value > self.high:
            raise ConfigError(f"must be <= {self.high}, got {value!r}", key_path=key)
        return value


class BaseStrategy:
    """Base class of every btb strategy (seed 003's interface plus the engine hooks).

    Abstract by contract: a subclass overrides :meth:`signals` or :meth:`on_bar`.
    """

    #: registry name, set by :func:`btb.strategies.factory.register_strategy`.
    name: ClassVar[str] = ""
    #: declared parameters: name -> :class:`Param`.
    params_spec: ClassVar[Mapping[str, Param]] = {}
    #: The minimum reward/risk (take-profit over stop-loss distance) this strategy's entries
    #: must offer; ``None`` keeps the risk config's ``min_risk_reward``. A strategy whose
    #: exits are not a plain bracket may override it (``DCAStrategy`` sets 0.0: exempt); a
    #: shell passes it as :meth:`btb.risk.RiskManager.approve` ``(min_risk_reward=...)``.
    min_risk_reward: ClassVar[float | None] = None

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.params: Mapping[str, Any] = MappingProxyType(self.parse_params(params))
        self._performance = StrategyPerformance()
        self._position: PositionInfo | None = None
        self._pending: TradeSignal | None = None

    # ---- parameters -------------------------------------------------------------------

    @classmethod
    def parse_params(cls, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate ``params`` against :attr:`params_spec`; defaults fill what is missing."""
        given = dict(params or {})
        unknown = sorted(set(given) - set(cls.params_spec))
        if unknown:
            known = ", ".join(sorted(cls.params_spec)) or "none"
            raise ConfigError(
                f"unknown parameter for strategy {cls.name or cls.__name__} (known: {known})",
                key_path=f"strategy_params.{unknown[0]}",
            )
        values = {
            name: spec.validate(name, given.get(name, spec.default))
            for name, spec in cls.params_spec.items()
        }
        cls.check_params(values)
        return values

    @classmethod
    def check_params(cls, values: Mapping[str, Any]) -> None:
        """Rules spanning several parameters; raise ConfigError(key_path=...) when broken."""

    # ---- identity and capabilities ----------------------------------------------------

    @property
    def strategy_type(self) -> str:
        """The registered name (seed 003)."""
        return self.name or type(self).__name__.lower()

    @property
    def warmup(self) -> int:
        """Bars of history the signals need before they mean anything (live feeds keep
        at least this many). Override when a strategy has indicators."""
        return 0

    @classmethod
    def is_signal_strategy(cls) -> bool:
        """True when the strategy is fully described by :meth:`signals` (fast-path eligible)."""
        return cls.signals is not BaseStrategy.signals and cls.on_bar is BaseStrategy.on_bar

    def default_brackets(self) -> tuple[float | None, float | None]:
        """Stop-loss and take-profit fractions from params ``stop_loss``/``take_profit``
        (None when the strategy has no such parameter: the risk config decides)."""
        return self.params.get("stop_loss"), self.params.get("take_profit")

    # ---- the two engine hooks ---------------------------------------------------------

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        """Vectorised signals for every row of ``df`` (same index).

        Must return boolean columns :data:`SIGNAL_COLUMNS` and may add float columns
        :data:`BRACKET_COLUMNS`. Row t may depend only on rows 0..t of ``df``.

        Stateful strategies (grid, DCA) decide in :meth:`on_bar` instead and have no signal
        arrays: asking them for some is a usage error.
        """
        raise TypeError(
            f"{type(self).__name__} is not a signal strategy: it decides bar by bar in on_bar"
        )

    def on_bar(self, ctx: StrategyContext) -> list[Intent]:
        """Intents for the bar that just closed. Default: :meth:`intents_from_signal`."""
        row = ctx.signal
        if row is None or not row.any:
            return []
        return self.intents_from_signal(ctx.symbol, ctx.position_side, row)

    def intents_from_signal(self, symbol: str, side: PositionSide, row: SignalRow) -> list[Intent]:
        """The signal rule (the fast path implements the same one).

        1. An exit flag for the held side closes it (market, reduce-only).
        2. When flat (possibly after step 1) an entry flag opens that side at market, unless
           the bar also flags the opposite entry or this side's own exit (conflict: stay out).
        Stop/take distances: the row's ``stop_loss``/``take_profit`` when not NaN, else
        :meth:`default_brackets`.
        """
        intents: list[Intent] = []
        if (side is PositionSide.LONG and row.exit_long) or (
            side is PositionSide.SHORT and row.exit_short
        ):
            intents.append(OrderIntent.exit(symbol, side, reason=ExitReason.SIGNAL))
            side = PositionSide.FLAT
        if side is PositionSide.FLAT:
            long_ok = row.enter_long and not row.exit_long and not row.enter_short
            short_ok = row.enter_short and not row.exit_short and not row.enter_long
            target = PositionSide.LONG if long_ok else PositionSide.SHORT if short_ok else None
            if target is not None:
                sl, tp = self.default_brackets()
                if not math.isnan(row.stop_loss):
                    sl = row.stop_loss
                if not math.isnan(row.take_profit):
                    tp = row.take_profit
                intents.append(OrderIntent.enter(symbol, target, stop_loss=sl, take_profit=tp))
        return intents

    def on_trade(self, trade: Trade) -> None:
        """Called by the engine when a round trip closes; keeps :meth:`get_performance`."""
        self._performance = self._performance.add(trade.net_pnl)

    # ---- helpers on frames ------------------------------------------------------------

    def signal_at(self, df: pd.DataFrame, i: int = -1) -> SignalRow:
        """The signal row at position ``i`` of ``signals(df)`` (default: the last bar)."""
        frame = self.signals(df)
        values = [bool(frame[c].iloc[i]) for c in SIGNAL_COLUMNS]
        extra = [float(frame[c].iloc[i]) if c in frame else math.nan for c in BRACKET_COLUMNS]
        return SignalRow(*values, *extra)

    # ---- seed 003 API (standalone use, no engine) -------------------------------------

    def analyze_market(self, *dataframes: pd.DataFrame) -> MarketAnalysis:
        """Summarise the latest bar of the first frame: price, signal, trend."""
        if not dataframes or dataframes[0].empty:
            raise ValueError("analyze_market needs at least one non-empty frame")
        df = dataframes[0]
        row = self.signal_at(df)
        trend = (
            "bullish"
            if row.enter_long or row.exit_short
            else "bearish"
            if row.enter_short or row.exit_long
            else "neutral"
        )
        return MarketAnalysis(
            timestamp=df.index[-1].to_pydatetime(),
            price=float(df["close"].iloc[-1]),
            trend=trend,
            signal=row,
        )

    def generate_signal(self, df: pd.DataFrame, balance: Decimal) -> TradeSignal | None:
        """The actionable signal of the last bar given the standalone position, or None.

        Entries are sized with seed 002's rule at 1 % risk: ``balance * 0.01 /
        (price * stop_loss)`` (stop distance 2 % when the strategy has none).
        """
        side = self._position.side if self._position else PositionSide.FLAT
        row = self.signal_at(df)
        price = Decimal(repr(float(df["close"].iloc[-1])))
        ts = df.index[-1].to_pydatetime()
        for intent in self.intents_from_signal("", side, row):
            assert isinstance(intent, OrderIntent)
            if intent.reduce_only:
                return TradeSignal("exit", intent.position_side, price, ts)
            sl = intent.stop_loss or 0.02
            sign = 1 if intent.position_side is PositionSide.LONG else -1
            signal = TradeSignal(
                "enter",
                intent.position_side,
                price,
                ts,
                quantity=Decimal(balance) * Decimal("0.01") / (price * Decimal(repr(sl))),
                stop_loss=price * (1 - sign * Decimal(repr(sl))),
                take_profit=(
                    price * (1 + sign * Decimal(repr(intent.take_profit)))
                    if intent.take_profit
                    else None
                ),
            )
            self._pending = signal
            return signal
        return None

    def open_position(self) -> PositionInfo:
        """Open the standalone position from the last ``enter`` signal."""
        if self._pending is None or self._position is not None:
            raise StateError("open_position needs a fresh enter signal and no open position")
        s, self._pending = self._pending, None
        self._position = PositionInfo(
            s.side, s.quantity, s.price, s.price, s.stop_loss, s.take_profit, s.timestamp
        )
        return self._position

    def update_positions(self, current_price: Decimal, df: pd.DataFrame) -> list[PositionInfo]:
        """Mark the standalone position at ``current_price``; close it on its stop or take.

        Returns the positions that changed (empty when none is open).
        """
        pos = self._position
        if pos is None:
            return []
        price = Decimal(current_price)
        long = pos.side is PositionSide.LONG
        hit_sl = pos.stop_loss is not None and (
            price <= pos.stop_loss if long else price >= pos.stop_loss
        )
        hit_tp = pos.take_profit is not None and (
            price >= pos.take_profit if long else price <= pos.take_profit
        )
        if hit_sl or hit_tp:
            reason = ExitReason.STOP_LOSS if hit_sl else ExitReason.TAKE_PROFIT
            return [self._close(price, reason)]
        self._position = PositionInfo(
            pos.side,
            pos.quantity,
            pos.entry_price,
            price,
            pos.stop_loss,
            pos.take_profit,
            pos.opened_at,
        )
        return [self._position]

    def close_position(self) -> PositionInfo:
        """Close the standalone position at its last marked price."""
        if self._position is None:
            raise StateError("close_position: no open position")
        return self._close(self._position.current_price, ExitReason.MANUAL)

    def get_performance(self) -> StrategyPerformance:
        """Closed round trips so far (standalone closes and engine trades, fees included)."""
        return self._performance

    def _close(self, price: Decimal, reason: ExitReason) -> PositionInfo:
        pos = self._position
        assert pos is not None
        closed = PositionInfo(
            pos.side,
            pos.quantity,
            pos.entry_price,
            price,
            pos.stop_loss,
            pos.take_profit,
            pos.opened_at,
            exit_price=price,
            exit_reason=reason.value,
        )
        self._performance = self._performance.add(closed.unrealized_pnl)
        self._position = None
        return closed
