"""RiskManager: sizes, caps or refuses entries; never stands in the way of an exit.

Two faces, one set of limits (:class:`~btb.risk.limits.RiskLimits`):

* Seed 002's float API for the live shell: :meth:`RiskManager.calculate_position_size`,
  :meth:`~RiskManager.check_daily_loss_limit`, :meth:`~RiskManager.check_balance_threshold`,
  :meth:`~RiskManager.check_open_positions_limit`, :meth:`~RiskManager.validate_trade_parameters`.
* The engine's I/O-free gate :meth:`RiskManager.approve`: given an order intent and an
  :class:`AccountState`, return a :class:`RiskDecision` (approved or not, the quantity to send,
  and a reason a person can read in the log).

The manager does no I/O. ``db_manager`` is accepted for seed compatibility and kept only as an
attribute: the shell that owns the database passes the day's PnL and balances in.

Rules of :meth:`RiskManager.approve`, checked in this order for an entry (the first failing rule
refuses it, its reason names the numbers):

1. exits (``reduce_only`` or ``is_exit`` intents) are approved unchanged, always;
2. the manager is not halted (:meth:`RiskManager.halt`);
3. balance >= ``min_balance_threshold``;
4. daily loss: refused once ``-daily_pnl >= daily_max_loss_pct * day_start_equity``;
5. a new symbol needs a free slot: ``open_positions < max_open_positions`` (adding to a symbol
   already held does not take a slot);
6. a price to size with (the ``price`` argument, else the intent's limit ``price``); a usable
   bracket: the intent's ``stop_loss``/``take_profit`` are distances from the entry as fractions
   (``None`` = the config's ``stop_loss_pct``/``take_profit_pct``, as
   :class:`btb.strategies.intents.OrderIntent` defines them), and for a protected entry
   ``take_profit / stop_loss >= min_risk_reward`` (0 disables this rule). A strategy whose
   brackets are lopsided on purpose declares its own minimum as a class attribute
   (``DCAStrategy.min_risk_reward = 0``: a small take-profit against a stop beyond its
   safety orders); the shell passes it as ``approve(..., min_risk_reward=...)``, which
   replaces the config's value for that call (``None`` keeps the config's);
7. quantity: the intent's own, else ``risk_per_trade`` sizing,
   ``equity * risk_per_trade / (price * stop distance)``;
8. caps (the quantity shrinks, reason says which): gross notional after the entry <=
   ``min(max_exposure, leverage) * equity``; margin ``notional / leverage`` <= available;
   then the instrument's lot step, ``max_qty``, ``min_qty`` and ``min_notional`` (below the
   minimums the entry is refused). Leverage is the config's, capped by the instrument's
   ``max_leverage``; spot instruments use 1.

Fees are not reserved; the exposure cap should leave room for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from btb.core import Instrument, MarketType, Side
from btb.errors import StateError
from btb.risk.limits import RiskLimits, resolve_limits
from btb.risk.sizing import apply_instrument_limits, to_decimal

__all__ = ["AccountState", "IntentLike", "RiskDecision", "RiskManager"]

log = logging.getLogger(__name__)
ZERO = Decimal(0)
_SIGNALS = frozenset({"buy", "long", "sell", "short"})


class IntentLike(Protocol):
    """What :meth:`RiskManager.approve` reads from an order intent (read-only attributes).

    :class:`btb.strategies.intents.OrderIntent` fits (risk sits below strategies, so it is not
    imported here). Optional attributes read when present: ``quantity`` (None asks the manager
    to size the entry), ``price``, ``stop_loss``, ``take_profit`` (fractions), ``protect``,
    ``reduce_only`` / ``is_exit`` (an exit).
    """

    @property
    def symbol(self) -> str: ...

    @property
    def side(self) -> Side: ...


@dataclass(frozen=True, slots=True)
class AccountState:
    """The account as the engine sees it when an intent is checked (quote currency).

    ``gross_exposure`` is the summed absolute notional of open positions plus working entry
    orders; ``open_symbols`` are the symbols holding a position or a working entry (each takes
    one of ``max_open_positions``). ``daily_pnl`` defaults to ``equity - day_start_equity``.
    """

    equity: Decimal
    available: Decimal
    day_start_equity: Decimal
    open_symbols: frozenset[str] = frozenset()
    gross_exposure: Decimal = ZERO
    daily_pnl: Decimal | None = None
    balance: Decimal | None = None

    @property
    def open_positions(self) -> int:
        return len(self.open_symbols)

    @property
    def pnl_today(self) -> Decimal:
        if self.daily_pnl is not None:
            return self.daily_pnl
        return self.equity - self.day_start_equity


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """Outcome of :meth:`RiskManager.approve`; truthy when approved."""

    approved: bool
    quantity: Decimal | None  # None only for an exit that named no quantity (close it all)
    reason: str
    intent: Any = None
    requested: Decimal | None = None

    def __bool__(self) -> bool:
        return self.approved

    @property
    def resized(self) -> bool:
        """True when an approved quantity differs from the one the intent asked for."""
        return self.approved and self.requested is not None and self.quantity != self.requested


def _is_exit(intent: object) -> bool:
    return bool(getattr(intent, "reduce_only", False) or getattr(intent, "is_exit", False))


def _opt_decimal(value: Any, name: str) -> Decimal | None:
    return None if value is None else to_decimal(value, name)


class RiskManager:
    """Position sizing, risk limits and safety checks (seed 002 API plus :meth:`approve`)."""

    def __init__(self, config: Any = None, db_manager: Any = None) -> None:
        """``config``: the config, its risk section, a dict, a seed-style object or None."""
        self.limits: RiskLimits = resolve_limits(config)
        self.db_manager = db_manager  # never used for I/O here: the shell passes PnL in
        self.day: date | None = None
        self.day_start_balance: float | None = None
        self.current_balance: float | None = None
        self.current_pnl: float | None = None
        self.halted_reason: str | None = None
        self.last_rejection: str | None = None

    # --- shell-fed state -------------------------------------------------------------------
    def start_day(self, balance: float, day: date | None = None) -> None:
        """Record the balance the trading day starts with (the daily-loss base)."""
        self.day, self.day_start_balance = day, float(balance)
        self.current_balance, self.current_pnl = float(balance), 0.0

    def update_state(self, balance: float, daily_pnl: float) -> None:
        """Record the latest balance and the day's PnL (used by validate_trade_parameters)."""
        self.current_balance, self.current_pnl = float(balance), float(daily_pnl)

    def halt(self, reason: str) -> None:
        """Refuse every entry until :meth:`resume`; exits still pass."""
        self.halted_reason = reason
        log.warning("risk manager halted: %s", reason)

    def resume(self) -> None:
        self.halted_reason = None

    # --- seed 002 API ----------------------------------------------------------------------
    def calculate_position_size(
        self, balance: float, risk_per_trade: float, price: float, min_quantity: float
    ) -> float:
        """``balance * risk_per_trade / (price * stop_loss_pct)``; 0.0 below ``min_quantity``."""
        if price <= 0:
            raise ValueError(f"price must be > 0, got {price!r}")
        if balance <= 0:
            return 0.0
        size = balance * risk_per_trade / (price * self.limits.stop_loss_pct)
        return 0.0 if size < min_quantity else size

    def check_daily_loss_limit(self, current_pnl: float) -> bool:
        """True while today's loss is below ``daily_max_loss_pct`` of the day's start balance."""
        if self.day_start_balance is None:
            raise StateError("RiskManager.start_day(balance) must be called before daily checks")
        return -current_pnl < self.limits.daily_max_loss_pct * self.day_start_balance

    def check_balance_threshold(self, balance: float) -> bool:
        """True when ``balance >= min_balance_threshold``."""
        return balance >= self.limits.min_balance_threshold

    def check_open_positions_limit(self, open_positions: int) -> bool:
        """True when one more position fits: ``open_positions < max_open_positions``."""
        return open_positions < self.limits.max_open_positions

    def validate_trade_parameters(
        self,
        signal: str | None,
        strength: float,
        confidence: float,
        *,
        balance: float | None = None,
        daily_pnl: float | None = None,
    ) -> bool:
        """Seed 002's pre-trade filter; the reason of a refusal is kept in ``last_rejection``.

        Needs a known balance and daily PnL (arguments, or :meth:`update_state`/:meth:`start_day`);
        unknown account state refuses the trade.
        """
        reason = self._trade_parameter_problem(signal, strength, confidence, balance, daily_pnl)
        self.last_rejection = reason
        if reason:
            log.info("trade refused: %s", reason)
        return reason is None

    def _trade_parameter_problem(
        self,
        signal: str | None,
        strength: float,
        confidence: float,
        balance: float | None,
        daily_pnl: float | None,
    ) -> str | None:
        lim = self.limits
        if not signal or signal.lower() not in _SIGNALS:
            return f"signal {signal!r} is not BUY or SELL"
        if strength < lim.min_signal_strength:
            return f"strength {strength:.3f} below min_signal_strength {lim.min_signal_strength}"
        if confidence < lim.min_ml_confidence:
            return f"confidence {confidence:.3f} below min_ml_confidence {lim.min_ml_confidence}"
        if self.halted_reason:
            return f"halted: {self.halted_reason}"
        bal = self.current_balance if balance is None else balance
        pnl = self.current_pnl if daily_pnl is None else daily_pnl
        if bal is None or pnl is None or self.day_start_balance is None:
            return "account state unknown: call start_day() and update_state() first"
        if not self.check_daily_loss_limit(pnl):
            return f"daily loss limit reached: pnl {pnl:.2f} vs start {self.day_start_balance:.2f}"
        if not self.check_balance_threshold(bal):
            return f"balance {bal:.2f} below min_balance_threshold {lim.min_balance_threshold}"
        return None

    # --- engine gate -----------------------------------------------------------------------
    def approve(
        self,
        intent: IntentLike,
        account: AccountState,
        *,
        price: Decimal | None = None,
        instrument: Instrument | None = None,
        min_risk_reward: float | None = None,
    ) -> RiskDecision:
        """Approve, resize or refuse ``intent`` (rules in the module docstring).

        ``min_risk_reward`` overrides the config's minimum for this intent (a strategy's
        declared exemption, e.g. ``DCAStrategy.min_risk_reward``); None keeps the config's.
        """
        if min_risk_reward is not None and not min_risk_reward >= 0:
            raise ValueError(f"min_risk_reward must be >= 0, got {min_risk_reward!r}")
        requested = _opt_decimal(getattr(intent, "quantity", None), "intent.quantity")
        if _is_exit(intent):
            return RiskDecision(True, requested, "exit: always allowed", intent, requested)
        refusal = self._account_refusal(intent.symbol, account)
        if refusal is None:
            rr = self.limits.min_risk_reward if min_risk_reward is None else min_risk_reward
            decision = self._size_entry(intent, account, price, instrument, requested, rr)
        else:
            decision = RiskDecision(False, ZERO, refusal, intent, requested)
        if not decision.approved:
            log.info("entry %s %s refused: %s", intent.side, intent.symbol, decision.reason)
        return decision

    def _account_refusal(self, symbol: str, account: AccountState) -> str | None:
        lim = self.limits
        if self.halted_reason:
            return f"halted: {self.halted_reason}"
        balance = account.balance if account.balance is not None else account.equity
        if balance < Decimal(str(lim.min_balance_threshold)):
            return f"balance {balance} below min_balance_threshold {lim.min_balance_threshold}"
        loss_cap = Decimal(str(lim.daily_max_loss_pct)) * account.day_start_equity
        if -account.pnl_today >= loss_cap:
            return (
                f"daily loss limit: pnl {account.pnl_today} reaches -{lim.daily_max_loss_pct:.2%}"
                f" of day start {account.day_start_equity}"
            )
        if symbol not in account.open_symbols and account.open_positions >= lim.max_open_positions:
            return (
                f"max_open_positions {lim.max_open_positions} reached "
                f"({', '.join(sorted(account.open_symbols))})"
            )
        return None

    def _size_entry(
        self,
        intent: IntentLike,
        account: AccountState,
        price: Decimal | None,
        instrument: Instrument | None,
        requested: Decimal | None,
        min_risk_reward: float,
    ) -> RiskDecision:
        px = price if price is not None else getattr(intent, "price", None)
        if px is None or to_decimal(px, "price") <= 0:
            return RiskDecision(False, ZERO, "no price to size the entry with", intent, requested)
        px = to_decimal(px, "price")
        if requested is not None and requested <= 0:
            return RiskDecision(False, ZERO, f"quantity {requested} must be > 0", intent, requested)
        stop_pct, problem = self._stop_distance(intent, min_risk_reward)
        if problem:
            return RiskDecision(False, ZERO, problem, intent, requested)
        if requested is not None:
            qty, notes = requested, []
        else:
            risk_amount = account.equity * Decimal(str(self.limits.risk_per_trade))
            qty, notes = risk_amount / (px * stop_pct), [f"risk-sized at stop {stop_pct:.4%}"]
        qty, cap_notes = self._cap(qty, px, account, instrument)
        notes += cap_notes
        final = apply_instrument_limits(qty, px, instrument)
        if final <= 0:
            why = "below instrument minimum" if instrument is not None and qty > 0 else "no room"
            detail = "; ".join(notes) or "quantity 0"
            return RiskDecision(False, ZERO, f"{why} ({detail})", intent, requested)
        reason = "approved" + (f": {'; '.join(notes)}" if notes else "")
        return RiskDecision(True, final, reason, intent, requested)

    def _stop_distance(
        self, intent: IntentLike, min_risk_reward: float
    ) -> tuple[Decimal, str | None]:
        """Stop distance (fraction of the entry price), or a refusal when the bracket is unusable.

        ``stop_loss``/``take_profit`` on an intent are distances from the entry fill as fractions
        (``0.02`` = 2 %), ``None`` meaning the config's ``stop_loss_pct``/``take_profit_pct``.
        An intent with ``protect=False`` carries no bracket: it is sized as if its stop sat at
        ``stop_loss_pct`` and the reward/risk rule does not apply.
        """
        lim = self.limits
        stop = _opt_decimal(getattr(intent, "stop_loss", None), "intent.stop_loss")
        stop_pct = stop if stop is not None else Decimal(str(lim.stop_loss_pct))
        if not 0 < stop_pct < 1:
            return ZERO, f"stop_loss distance {stop_pct} must be a fraction in (0, 1)"
        if getattr(intent, "protect", True) and min_risk_reward > 0:
            target = _opt_decimal(getattr(intent, "take_profit", None), "intent.take_profit")
            target_pct = target if target is not None else Decimal(str(lim.take_profit_pct))
            rr = target_pct / stop_pct
            if rr < Decimal(str(min_risk_reward)):
                return ZERO, (
                    f"reward/risk {float(rr):.2f} (take-profit {target_pct}, stop {stop_pct}) "
                    f"below min_risk_reward {min_risk_reward}"
                )
        return stop_pct, None

    def effective_leverage(self, instrument: Instrument | None) -> Decimal:
        """Config leverage capped by the instrument's ``max_leverage``; 1 for spot."""
        lev = self.limits.leverage
        if instrument is not None:
            lev = (
                1
                if instrument.market_type is MarketType.SPOT
                else min(lev, instrument.max_leverage)
            )
        return Decimal(max(lev, 1))

    def _cap(
        self, qty: Decimal, price: Decimal, account: AccountState, instrument: Instrument | None
    ) -> tuple[Decimal, list[str]]:
        lev = self.effective_leverage(instrument)
        notes: list[str] = []
        multiple = min(Decimal(str(self.limits.max_exposure)), lev)
        room = max(multiple * account.equity - account.gross_exposure, ZERO)
        if qty * price > room:
            qty = room / price
            notes.append(f"capped by exposure {multiple}x equity")
        margin_room = max(account.available, ZERO) * lev
        if qty * price > margin_room:
            qty = margin_room / price
            notes.append(f"capped by available margin at {lev}x")
        return qty, notes
