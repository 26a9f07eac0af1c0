"""Grid trading: buy limits on levels below the price, each filled buy sold one level higher.

Rules (long-only, buy-first grid: it starts holding only quote currency):

* **Levels.** ``levels`` prices ``L_0 < … < L_{n-1}`` from ``lower`` to ``upper``, equally
  spaced (``arithmetic``) or in equal ratios (``geometric``). ``lower``/``upper`` null: set from
  the close of the first bar the strategy sees, ``close * (1 -/+ range_pct)``.
* **Slots.** Slot i (``0 <= i < n-1``) buys at ``L_i`` and sells at ``L_{i+1}``. Its size is an
  equal share of ``investment`` (quote currency; null: ``investment_fraction`` of the equity at
  the first bar): ``qty_i = investment / (n - 1) / L_i``, floored to ``qty_step``.
* **Arming buys.** At each closed bar, while ``lower <= close <= upper``, every idle slot whose
  ``L_i`` is below the close gets a limit buy at ``L_i``, unless slot i-1 holds inventory (its
  sell occupies ``L_i``): one order per level.
* **Buy filled -> sell.** A filled buy of slot i arms a reduce-only limit sell of the filled
  quantity at ``L_{i+1}``. **Sell filled -> buy.** The slot becomes idle and its buy is
  re-armed at ``L_i`` by the rule above (once the price is back above ``L_i``).
* **Leaving the range.** Above ``upper`` or below ``lower`` no new buys are armed; working
  orders stay (sells still take profit if the price comes back). With ``stop_loss`` set, a
  close below ``lower * (1 - stop_loss)`` cancels every grid order, sells the inventory at
  market and stops the grid for good.
* Fills are learnt from the engine through :class:`~btb.strategies.order_tracker.OrderTracker`;
  an order that disappears unfilled (rejected, e.g. for funds) frees its slot again.
* ``qty_step`` must be the instrument's lot step (or a multiple of it): the grid sizes its own
  orders and the exchange must accept them as they are.

**Risk: no exchange-side stop.** The grid is the one built-in strategy whose entries carry no
attached stop-loss (``protect=False``): each buy is closed by its own limit sell one level up,
and a position held below the range is closed only by the *range stop*, which the strategy
decides at a bar's close and sends at market (filled at the next bar's open in a backtest).
It therefore acts only while the bot runs, and a gap goes straight through it. With
``stop_loss`` null (the default, as on exchange grid bots) nothing ever sells inventory below
``lower``: the worst case is the whole ``investment`` held in the base asset, losing as much as
the price falls. On spot that loss is bounded by ``investment``; on leveraged futures a fall
can liquidate the position first. Use the grid on spot (or futures at leverage 1) and set
``stop_loss`` when trading real money.

:meth:`GridStrategy.grid_levels` reports one row per level in the shape of the database's
``grid_levels`` table (level_index, price, side, quantity, status, order_id).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar

import pandas as pd

from btb.core.enums import OrderType, PositionSide, Side
from btb.errors import ConfigError
from btb.strategies.base import BaseStrategy, Param
from btb.strategies.context import MarketAnalysis, SignalRow, StrategyContext, TradeSignal
from btb.strategies.factory import register_strategy
from btb.strategies.intents import CancelIntent, Intent, OrderIntent
from btb.strategies.order_tracker import OrderTracker, Outcome

ZERO = Decimal(0)


class SlotState(enum.StrEnum):
    IDLE = "idle"
    BUYING = "buying"  # limit buy working at L_i
    HOLDING = "holding"  # bought, sell not (yet) working
    SELLING = "selling"  # limit sell working at L_{i+1}


@dataclass(slots=True)
class Slot:
    """One buy level and the sell one level up."""

    index: int
    buy_price: float
    sell_price: float
    quantity: Decimal  # planned buy size
    state: SlotState = SlotState.IDLE
    held: Decimal = ZERO
    tag: str | None = None  # tag of the working order


@dataclass(frozen=True, slots=True)
class GridLevel:
    """One row of the ``grid_levels`` table (status: idle, pending or open)."""

    level_index: int
    price: Decimal
    side: str
    quantity: Decimal
    status: str
    order_id: str | None


def grid_prices(lower: float, upper: float, levels: int, spacing: str) -> list[float]:
    """``levels`` prices from ``lower`` to ``upper`` inclusive."""
    if spacing == "geometric":
        ratio = (upper / lower) ** (1 / (levels - 1))
        return [lower * ratio**k for k in range(levels - 1)] + [upper]
    step = (upper - lower) / (levels - 1)
    return [lower + step * k for k in range(levels - 1)] + [upper]


def floor_qty(qty: float, step: float) -> Decimal:
    """``qty`` floored to a multiple of ``step`` (as the exchange's lot step demands)."""
    unit = Decimal(repr(float(step)))
    return (Decimal(repr(float(qty))) / unit).to_integral_value(rounding=ROUND_DOWN) * unit


@register_strategy("grid")
class GridStrategy(BaseStrategy):
    """Limit-order grid between two prices (stateful: event path only)."""

    params_spec: ClassVar[Mapping[str, Param]] = {
        "lower": Param(float, None, low=0.0, nullable=True, optimize=False, doc="grid bottom"),
        "upper": Param(float, None, low=0.0, nullable=True, optimize=False, doc="grid top"),
        "range_pct": Param(float, 0.1, low=0.005, high=0.9, doc="auto range: close -/+ this"),
        "levels": Param(int, 10, low=3, high=200, doc="number of price levels"),
        "spacing": Param(str, "arithmetic", choices=("arithmetic", "geometric"), doc="spacing"),
        "investment": Param(float, None, low=0.0, nullable=True, doc="quote spread over slots"),
        "investment_fraction": Param(float, 0.5, low=0.01, high=1.0, doc="of equity if null"),
        "stop_loss": Param(float, None, low=0.0, high=0.9, nullable=True, doc="below lower"),
        "qty_step": Param(float, 1e-5, low=1e-12, high=1e6, optimize=False, doc="lot step"),
    }

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.slots: list[Slot] = []
        self.prices: list[float] = []
        self.tracker = OrderTracker()
        self.stopped = False
        self.cycles = 0  # completed buy -> sell round trips
        self._seq = 0

    @classmethod
    def check_params(cls, values: Mapping[str, Any]) -> None:
        lower, upper = values["lower"], values["upper"]
        if (lower is None) != (upper is None):
            raise ConfigError(
                "give both lower and upper, or neither", key_path="strategy_params.lower"
            )
        if lower is not None and not 0 < lower < upper:
            raise ConfigError(
                f"must satisfy 0 < lower < upper, got {lower} and {upper}",
                key_path="strategy_params.lower",
            )

    # ---- setup ----------------------------------------------------------------------------

    def _setup(self, close: float, equity: float) -> None:
        p = self.params
        lower, upper = p["lower"], p["upper"]
        if lower is None:
            lower, upper = close * (1 - p["range_pct"]), close * (1 + p["range_pct"])
        self.prices = grid_prices(lower, upper, p["levels"], p["spacing"])
        investment = p["investment"]
        if investment is None:
            investment = equity * p["investment_fraction"]
        share = investment / (p["levels"] - 1)
        step = p["qty_step"]
        self.slots = [
            Slot(i, self.prices[i], self.prices[i + 1], floor_qty(share / self.prices[i], step))
            for i in range(p["levels"] - 1)
        ]

    # ---- the event hook --------------------------------------------------------------------

    def on_bar(self, ctx: StrategyContext) -> list[Intent]:
        assert ctx.bar is not None
        close = ctx.bar.close
        if not self.slots:
            self._setup(close, ctx.equity)
        for outcome in self.tracker.update(ctx.position, ctx.open_orders):
            self._apply(outcome, ctx.position.quantity)
        if self.stopped:
            return []
        stop = self.params["stop_loss"]
        if stop is not None and close < self.prices[0] * (1 - stop):
            return self._stop_out(ctx)
        intents: list[Intent] = []
        for slot in self.slots:
            if slot.state is SlotState.HOLDING:
                intents.append(self._sell(ctx.symbol, slot))
        if self.prices[0] <= close <= self.prices[-1]:
            for slot in self.slots:
                if self._can_buy(slot, close):
                    intents.append(self._buy(ctx.symbol, slot))
        return intents

    def _can_buy(self, slot: Slot, close: float) -> bool:
        if slot.state is not SlotState.IDLE or slot.quantity <= 0 or not slot.buy_price < close:
            return False
        below = self.slots[slot.index - 1] if slot.index > 0 else None
        return below is None or below.state in (SlotState.IDLE, SlotState.BUYING)

    def _tag(self, kind: str, slot: Slot) -> str:
        self._seq += 1
        return f"grid-{kind}{slot.index}-{self._seq}"

    def _buy(self, symbol: str, slot: Slot) -> OrderIntent:
        tag = self._tag("b", slot)
        slot.state, slot.tag = SlotState.BUYING, tag
        self.tracker.expect(tag, Side.BUY, slot.quantity, slot.buy_price)
        return OrderIntent(
            symbol,
            Side.BUY,
            OrderType.LIMIT,
            quantity=slot.quantity,
            price=slot.buy_price,
            protect=False,
            tag=tag,
        )

    def _sell(self, symbol: str, slot: Slot) -> OrderIntent:
        tag = self._tag("s", slot)
        slot.state, slot.tag = SlotState.SELLING, tag
        self.tracker.expect(tag, Side.SELL, slot.held, slot.sell_price)
        return OrderIntent.exit(
            symbol, PositionSide.LONG, quantity=slot.held, price=slot.sell_price, tag=tag
        )

    def _apply(self, outcome: Outcome, position_qty: Decimal) -> None:
        slot = self.slots[int(outcome.tag.split("-")[1][1:])]
        if outcome.tag != slot.tag:
            return  # an order the grid already gave up on (after a stop-out)
        slot.tag = None
        if outcome.side is Side.BUY:
            slot.held = outcome.filled_qty
            slot.state = SlotState.HOLDING if outcome.filled else SlotState.IDLE
            return
        slot.held -= outcome.filled_qty
        if slot.held > 0 and position_qty > 0:
            slot.state = SlotState.HOLDING  # partly sold or dropped: sell the rest again
            return
        if outcome.filled:
            self.cycles += 1
        slot.held, slot.state = ZERO, SlotState.IDLE

    def _stop_out(self, ctx: StrategyContext) -> list[Intent]:
        self.stopped = True
        self.tracker.forget(list(self.tracker.pending))
        for slot in self.slots:
            slot.state, slot.tag, slot.held = SlotState.IDLE, None, ZERO
        intents: list[Intent] = [CancelIntent(ctx.symbol)]
        if ctx.position_side is PositionSide.LONG:
            intents.append(OrderIntent.exit(ctx.symbol, PositionSide.LONG, tag="grid-stop"))
        return intents

    # ---- reporting ------------------------------------------------------------------------

    def grid_levels(self) -> list[GridLevel]:
        """One row per level: the order working there (buy of slot i or sell of slot i-1)."""
        rows: list[GridLevel] = []
        bound = {e.tag: e.coid for e in self.tracker.pending.values()}
        for k, price in enumerate(self.prices):
            own = self.slots[k] if k < len(self.slots) else None
            below = self.slots[k - 1] if k > 0 else None
            if own is not None and own.state is SlotState.BUYING:
                side, qty, tag = "buy", own.quantity, own.tag
            elif below is not None and below.state is SlotState.SELLING:
                side, qty, tag = "sell", below.held, below.tag
            else:
                side, qty, tag = ("buy" if own is not None else "sell"), ZERO, None
            coid = bound.get(tag) if tag else None
            status = "idle" if tag is None else ("open" if coid else "pending")
            rows.append(GridLevel(k, Decimal(repr(price)), side, qty, status, coid))
        return rows

    def generate_signal(self, df: pd.DataFrame, balance: Decimal) -> TradeSignal | None:
        """Always None: a grid acts through its limit orders (:meth:`on_bar`), not signals."""
        return None

    def analyze_market(self, *dataframes: pd.DataFrame) -> MarketAnalysis:
        """Price and grid position of the last bar (a grid has no directional signal)."""
        if not dataframes or dataframes[0].empty:
            raise ValueError("analyze_market needs at least one non-empty frame")
        df = dataframes[0]
        holding = sum(1 for s in self.slots if s.state in (SlotState.HOLDING, SlotState.SELLING))
        indicators = {"levels": float(len(self.prices)), "slots_holding": float(holding)}
        if self.prices:
            indicators.update(lower=self.prices[0], upper=self.prices[-1])
        return MarketAnalysis(
            df.index[-1].to_pydatetime(),
            float(df["close"].iloc[-1]),
            "neutral",
            SignalRow(),
            indicators,
        )
