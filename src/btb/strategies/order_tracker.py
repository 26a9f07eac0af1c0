"""Follow a stateful strategy's own orders through the engine: which ones filled, which died.

A strategy learns about its orders only through its strategy context: the working orders
(``ctx.open_orders``, each with the ``tag`` the intent carried) and the position with every
fill booked on it (``ctx.position.fills``, each with its order's ``client_order_id``).
:class:`OrderTracker` joins the two, once per bar:

* an expected order (by tag) that is still working binds its ``client_order_id``;
* one that is gone is *filled* by the quantity of the fills booked under its id, or, when it was
  never seen working (placed at bar t and filled inside bar t+1), by a fill of the same side and
  quantity that arrived since the previous update and whose price honours the limit (buy at or
  below, sell at or above);
* a gone order without fills was refused, rejected or cancelled: it is reported as dropped.

Matching never-seen orders: market orders first, then limits best first (highest buy, lowest
sell: the order in which a moving price reaches them), each taking the acceptable fill whose
price is *nearest its limit* (the highest buy price, the lowest sell price). The fill order in
the ledger does not matter: with buys at 100 and 95 of equal size filled at 95 and 100 (in that
order), 100 gets the fill at 100 and 95 the one at 95. This greedy choice also matches as many
orders as possible (a fill acceptable to a worse limit is acceptable to every better one).
When one fill could belong to either of two equal orders (a gap through both, one refused),
the better limit gets it.

Fills that match no expected order (exits by the engine itself, protective orders) are ignored
and forgotten at the end of the update, so a stale fill can never be claimed later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from btb.core.enums import Side
from btb.core.fill import Fill
from btb.core.order import Order
from btb.core.position import Position

ZERO = Decimal(0)
_TICK_ALLOWANCE = Decimal("0.0001")


@dataclass(slots=True)
class Expected:
    """An order the strategy asked for and has not heard the end of."""

    tag: str
    side: Side
    quantity: Decimal
    price: float | None  # limit price; None for market orders
    coid: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an expected order ended: ``filled_qty`` > 0 means (partly) filled."""

    tag: str
    side: Side
    filled_qty: Decimal
    avg_price: Decimal | None

    @property
    def filled(self) -> bool:
        return self.filled_qty > 0


@dataclass(slots=True)
class _Group:
    side: Side
    qty: Decimal = ZERO
    notional: Decimal = ZERO
    claimed: bool = False

    @property
    def price(self) -> Decimal:
        return self.notional / self.qty


@dataclass(slots=True)
class OrderTracker:
    """Expected orders by tag, resolved against working orders and the position's fills."""

    pending: dict[str, Expected] = field(default_factory=dict)
    _seen_fills: int = 0
    _groups: dict[str, _Group] = field(default_factory=dict)

    def expect(self, tag: str, side: Side, quantity: Decimal, price: float | None) -> None:
        """Record an order intent with a unique ``tag`` that was just handed to the engine."""
        if tag in self.pending:
            raise ValueError(f"order tag {tag!r} is already pending")
        self.pending[tag] = Expected(tag, side, quantity, price)

    def forget(self, tags: Iterable[str]) -> None:
        """Stop following ``tags`` (e.g. after cancelling them)."""
        for tag in tags:
            self.pending.pop(tag, None)

    def update(self, position: Position, working: Sequence[Order]) -> list[Outcome]:
        """Outcomes of the expected orders that are no longer working (call once per bar)."""
        self._absorb(position.fills[self._seen_fills :])
        self._seen_fills = len(position.fills)
        by_tag = {o.tag: o for o in working}
        gone: list[Expected] = []
        for exp in self.pending.values():
            order = by_tag.get(exp.tag)
            if order is not None:
                exp.coid = order.client_order_id
            else:
                gone.append(exp)
        outcomes = [self._resolve_bound(e) for e in gone if e.coid is not None]
        bound = {e.coid for e in self.pending.values() if e.coid is not None}
        unbound = sorted((e for e in gone if e.coid is None), key=_best_first)
        outcomes += [self._resolve_unbound(e, bound) for e in unbound]
        for exp in gone:
            del self.pending[exp.tag]
        # Keep only the fills of orders still working; anything else was not ours.
        live = {e.coid for e in self.pending.values()}
        self._groups = {c: g for c, g in self._groups.items() if c in live and not g.claimed}
        return outcomes

    def _absorb(self, fills: Sequence[Fill]) -> None:
        for f in fills:
            group = self._groups.setdefault(f.client_order_id, _Group(f.side))
            group.qty += f.quantity
            group.notional += f.notional

    def _resolve_bound(self, exp: Expected) -> Outcome:
        assert exp.coid is not None
        group = self._groups.get(exp.coid)
        if group is None:
            return Outcome(exp.tag, exp.side, ZERO, None)
        group.claimed = True
        return Outcome(exp.tag, exp.side, group.qty, group.price)

    def _resolve_unbound(self, exp: Expected, bound: set[str]) -> Outcome:
        best: _Group | None = None
        for coid, group in self._groups.items():
            if group.claimed or coid in bound or not _acceptable(exp, group):
                continue
            # nearest the limit: the highest buy price / the lowest sell price
            if best is None or (group.price - best.price) * exp.side.sign > 0:
                best = group
        if best is None:
            return Outcome(exp.tag, exp.side, ZERO, None)
        best.claimed = True
        return Outcome(exp.tag, exp.side, best.qty, best.price)


def _best_first(exp: Expected) -> tuple[int, float]:
    """Market orders first, then the best limit (highest buy, lowest sell)."""
    if exp.price is None:
        return (0, 0.0)
    return (1, -exp.price * exp.side.sign)


def _acceptable(exp: Expected, group: _Group) -> bool:
    """``group`` (the fills of one order) could be ``exp``: same side and size, limit honoured."""
    if group.side is not exp.side or group.qty != exp.quantity:
        return False
    if exp.price is None:
        return True
    # Exact binary value of the float limit (as the engine builds the order), with a 0.01 %
    # allowance for an exchange rounding the limit to its tick.
    limit = Decimal(exp.price) * (1 + exp.side.sign * _TICK_ALLOWANCE)
    return (group.price - limit) * exp.side.sign <= 0
