"""DCA (dollar-cost averaging): a base buy, safety buys lower down, one take-profit for all.

Rules of a cycle (long only; sizes in quote currency, quantities floored to ``qty_step``):

1. **Start.** When flat with no cycle running, buy ``base_order / close`` at market; the first
   base order goes out at the first bar, later ones ``cooldown_bars`` bars after the bar on
   which the previous cycle ended (0: on that same bar).
2. **Safety orders.** Once the base order has filled at price ``P``, place ``max_safety_orders``
   limit buys. Safety order k (1-based) sits ``d_k`` below ``P`` and buys
   ``safety_order * volume_scale**(k-1)`` quote worth, where the gaps grow by ``step_scale``:
   ``d_k = price_deviation * (1 + step_scale + … + step_scale**(k-1))``. Example with the
   defaults (1.5 %, step scale 1.5): 1.5 %, 3.75 %, 7.125 %, 12.19 %, 19.78 % below ``P``.
3. **Take-profit** at ``take_profit`` above the *average* entry price and the **stop-loss**
   ``stop_loss`` below it are exchange-side orders the engine attaches to every fill of the
   cycle and re-places at the new average after each safety fill (the intents carry them as
   fractions; see :mod:`btb.strategies.intents`). ``stop_loss = null`` (the default) puts the
   stop one ``price_deviation`` beyond the deepest safety order, measured from the average:
   ``stop_loss = d_n + price_deviation`` (defaults: 19.78 % + 1.5 % = 21.28 %). As the average
   is never above ``P``, that stop always lies below the last safety order, so every safety
   order can fill first; with all five default safety orders filled (average 12.15 % below
   ``P``) it sits 30.85 % below ``P``. For no practical stop set ``stop_loss: 0.95``.
4. **End.** When the position is flat again (take-profit or stop filled), the remaining safety
   orders are cancelled and the next cycle may start (also after a stop-loss).

Risk: the most a cycle can lose is about ``stop_loss`` of everything it bought (base plus the
safety orders that filled, at most ``base_order + Σ safety sizes`` quote) plus fees and the
slippage of the stop. Reward/risk is small by design (1.5 % target against a stop beyond the
ladder: DCA wins often and loses rarely but big), so the class declares
:attr:`DCAStrategy.min_risk_reward` ``= 0``: a shell that gates entries with
:meth:`btb.risk.RiskManager.approve` passes ``min_risk_reward=strategy.min_risk_reward`` and
DCA's entries are exempt from the risk config's ``min_risk_reward`` (1.5 by default), which
they could never meet.

Fills are learnt through :class:`~btb.strategies.order_tracker.OrderTracker`; a base order
that is refused is retried on the next bar.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import pandas as pd

from btb.core.enums import OrderType, PositionSide, Side
from btb.errors import ConfigError
from btb.strategies.base import BaseStrategy, Param
from btb.strategies.context import MarketAnalysis, SignalRow, StrategyContext, TradeSignal
from btb.strategies.factory import register_strategy
from btb.strategies.grid import floor_qty
from btb.strategies.intents import CancelIntent, Intent, OrderIntent
from btb.strategies.order_tracker import OrderTracker


class CycleState(enum.StrEnum):
    IDLE = "idle"
    BASE_PENDING = "base_pending"  # base market buy sent
    ACTIVE = "active"  # base filled, safety orders working


def ladder_depth(count: int, deviation: float, step_scale: float) -> float:
    """``d_count``: how far below the base price the deepest safety order sits (a fraction)."""
    total, gap = 0.0, deviation
    for _ in range(count):
        total += gap
        gap *= step_scale
    return total


def safety_levels(
    base_price: float, count: int, deviation: float, step_scale: float
) -> list[float]:
    """Prices of safety orders 1..count below ``base_price`` (gaps grow by ``step_scale``)."""
    return [base_price * (1 - ladder_depth(k, deviation, step_scale)) for k in range(1, count + 1)]


@register_strategy("dca")
class DCAStrategy(BaseStrategy):
    """Base order plus scaled safety orders, closed by one take-profit on the average entry."""

    #: Exempt from the risk config's ``min_risk_reward`` (see the module docstring).
    min_risk_reward: ClassVar[float | None] = 0.0

    params_spec: ClassVar[Mapping[str, Param]] = {
        "base_order": Param(float, 100.0, low=0.0, doc="base order size (quote)"),
        "safety_order": Param(float, 100.0, low=0.0, doc="first safety order size (quote)"),
        "max_safety_orders": Param(int, 5, low=0, high=50, doc="safety orders per cycle"),
        "price_deviation": Param(float, 0.015, low=0.001, high=0.5, doc="first safety gap"),
        "step_scale": Param(float, 1.5, low=0.5, high=5.0, doc="growth of the gaps"),
        "volume_scale": Param(float, 1.5, low=0.5, high=5.0, doc="growth of safety sizes"),
        "take_profit": Param(float, 0.015, low=0.001, high=1.0, doc="above average entry"),
        # null: one price_deviation beyond the deepest safety order (module docstring, rule 3)
        "stop_loss": Param(float, None, low=0.001, high=0.95, nullable=True, doc="below average"),
        "cooldown_bars": Param(int, 0, low=0, high=10_000, doc="bars between cycles"),
        "qty_step": Param(float, 1e-5, low=1e-12, high=1e6, optimize=False, doc="lot step"),
    }

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.tracker = OrderTracker()
        self.state = CycleState.IDLE
        self.base_price: float | None = None
        self.safety_filled = 0
        self.cycles = 0
        self._wait = 0
        self._seq = 0
        self._base_tag: str | None = None
        self._safety_tags: set[str] = set()

    @classmethod
    def check_params(cls, values: Mapping[str, Any]) -> None:
        deviation = values["price_deviation"]
        depth = ladder_depth(values["max_safety_orders"], deviation, values["step_scale"])
        if depth >= 1:
            raise ConfigError(
                f"safety orders would reach {depth:.0%} below the base price (must stay < 100 %)",
                key_path="strategy_params.price_deviation",
            )
        if values["stop_loss"] is None and depth + deviation >= 1:
            raise ConfigError(
                f"the automatic stop (deepest safety order {depth:.2%} + {deviation:.2%}) must "
                "stay below 100 %: set stop_loss or a shallower ladder",
                key_path="strategy_params.stop_loss",
            )

    def stop_distance(self) -> float:
        """The stop-loss distance below the average entry (``stop_loss``, or the automatic one)."""
        p = self.params
        if p["stop_loss"] is not None:
            return float(p["stop_loss"])
        depth = ladder_depth(p["max_safety_orders"], p["price_deviation"], p["step_scale"])
        return depth + p["price_deviation"]

    def default_brackets(self) -> tuple[float | None, float | None]:
        """Stop and take-profit fractions every DCA order carries (never None)."""
        return self.stop_distance(), self.params["take_profit"]

    def _order(
        self, symbol: str, kind: str, quote: float, price: float, *, limit: bool
    ) -> OrderIntent | None:
        qty = floor_qty(quote / price, self.params["qty_step"])
        if qty <= 0:
            return None
        self._seq += 1
        tag = f"dca-{kind}-{self._seq}"
        sl, tp = self.default_brackets()
        self.tracker.expect(tag, Side.BUY, qty, price if limit else None)
        return OrderIntent(
            symbol,
            Side.BUY,
            OrderType.LIMIT if limit else OrderType.MARKET,
            quantity=qty,
            price=price if limit else None,
            stop_loss=sl,
            take_profit=tp,
            tag=tag,
        )

    def on_bar(self, ctx: StrategyContext) -> list[Intent]:
        assert ctx.bar is not None
        intents: list[Intent] = []
        for outcome in self.tracker.update(ctx.position, ctx.open_orders):
            if outcome.tag == self._base_tag:
                self._base_tag = None
                if outcome.filled:
                    assert outcome.avg_price is not None
                    self.base_price = float(outcome.avg_price)
                    self.state = CycleState.ACTIVE
                    if not ctx.position.is_flat:  # not already closed inside the same bar
                        intents += self._safety_orders(ctx.symbol)
                else:
                    self.state = CycleState.IDLE
            elif outcome.tag in self._safety_tags:
                self._safety_tags.discard(outcome.tag)
                self.safety_filled += int(outcome.filled)
        if self.state is CycleState.ACTIVE and ctx.position.is_flat:
            intents += self._end_cycle(ctx.symbol)
        if self.state is CycleState.IDLE and ctx.position.is_flat:
            if self._wait > 0:
                self._wait -= 1
            else:
                intents += self._start(ctx.symbol, ctx.bar.close)
        return intents

    def _start(self, symbol: str, close: float) -> list[Intent]:
        order = self._order(symbol, "base", self.params["base_order"], close, limit=False)
        if order is None:
            return []
        self._base_tag, self.state = order.tag, CycleState.BASE_PENDING
        self.safety_filled = 0
        return [order]

    def _safety_orders(self, symbol: str) -> list[Intent]:
        p = self.params
        assert self.base_price is not None
        prices = safety_levels(
            self.base_price, p["max_safety_orders"], p["price_deviation"], p["step_scale"]
        )
        intents: list[Intent] = []
        for k, price in enumerate(prices):
            quote = p["safety_order"] * p["volume_scale"] ** k
            order = self._order(symbol, f"so{k + 1}", quote, price, limit=True)
            if order is not None:
                self._safety_tags.add(order.tag)
                intents.append(order)
        return intents

    def _end_cycle(self, symbol: str) -> list[Intent]:
        self.cycles += 1
        self.state, self.base_price = CycleState.IDLE, None
        self.tracker.forget(self._safety_tags)
        self._safety_tags.clear()
        self._wait = self.params["cooldown_bars"]
        return [CancelIntent(symbol)]

    def generate_signal(self, df: pd.DataFrame, balance: Decimal) -> TradeSignal | None:
        """Seed 003 form without an engine: the base order of a new cycle while the standalone
        position is flat (safety orders need the engine), else None."""
        if self._position is not None or df.empty:
            return None
        price = Decimal(repr(float(df["close"].iloc[-1])))
        qty = floor_qty(self.params["base_order"] / float(price), self.params["qty_step"])
        if qty <= 0 or qty * price > balance:
            return None
        sl, tp = Decimal(repr(self.stop_distance())), Decimal(repr(self.params["take_profit"]))
        signal = TradeSignal(
            "enter", PositionSide.LONG, price, df.index[-1].to_pydatetime(), quantity=qty,
            stop_loss=price * (1 - sl), take_profit=price * (1 + tp),
        )  # fmt: skip
        self._pending = signal
        return signal

    def analyze_market(self, *dataframes: pd.DataFrame) -> MarketAnalysis:
        """Price and cycle state of the last bar (DCA has no directional signal)."""
        if not dataframes or dataframes[0].empty:
            raise ValueError("analyze_market needs at least one non-empty frame")
        df = dataframes[0]
        indicators = {"safety_filled": float(self.safety_filled), "cycles": float(self.cycles)}
        if self.base_price is not None:
            indicators["base_price"] = self.base_price
        return MarketAnalysis(
            df.index[-1].to_pydatetime(),
            float(df["close"].iloc[-1]),
            "neutral",
            SignalRow(),
            indicators,
        )
