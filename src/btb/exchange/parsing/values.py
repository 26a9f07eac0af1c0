"""Venue-neutral snapshots parsed from exchange payloads, and the conversions they share.

``btb.core`` holds the objects the engine owns (Instrument, Bar, Fill, AccountSnapshot). What an
exchange *reports* about orders, positions and balances is a point-in-time view that the live
shell reconciles against the engine's own book; those views are the frozen snapshots below.
Money and quantities are ``Decimal`` (exchange boundary); tickers are float market data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from btb.core.account import AccountSnapshot
from btb.core.enums import OrderStatus, OrderType, PositionSide, Side, TimeInForce
from btb.errors import DataError

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """One order as the exchange reports it (REST query or stream update)."""

    symbol: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    quantity: Decimal
    client_order_id: str
    exchange_order_id: str
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    filled_qty: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    fee: Decimal = ZERO
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    reject_reason: str = ""

    @property
    def remaining_qty(self) -> Decimal:
        """Quantity still working: ordered minus filled, never negative."""
        return max(self.quantity - self.filled_qty, ZERO)


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """A venue's view of one position; ``quantity`` is signed (+ long, - short)."""

    symbol: str
    quantity: Decimal
    entry_price: Decimal
    leverage: Decimal = Decimal(1)
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    liquidation_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    updated_at: datetime | None = None

    @property
    def side(self) -> PositionSide:
        """LONG, SHORT or FLAT from the sign of ``quantity``."""
        if self.quantity > 0:
            return PositionSide.LONG
        if self.quantity < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """Holdings of one asset.

    ``total`` is the wallet balance; ``used`` is what margin, open orders and locks take;
    ``free`` is what can back new orders. Venues can report margin above the wallet (open
    losses): ``free`` is then 0, never negative, and ``free + used`` exceeds ``total``.
    """

    asset: str
    total: Decimal
    free: Decimal
    used: Decimal


@dataclass(frozen=True, slots=True)
class WalletSnapshot:
    """Per-asset balances plus, where the venue reports it, the account-level summary."""

    ts: datetime | None
    assets: dict[str, AssetBalance] = field(default_factory=dict)
    account: AccountSnapshot | None = None


@dataclass(frozen=True, slots=True)
class Ticker:
    """Latest prices of one symbol (market data, float)."""

    symbol: str
    last: float
    bid: float | None = None
    ask: float | None = None
    mark: float | None = None
    index: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None
    volume_24h: float | None = None
    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeeRate:
    symbol: str
    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class OrderAck:
    """What a venue answers to an order submission or cancel: the two ids."""

    exchange_order_id: str
    client_order_id: str


def to_decimal(value: Any, what: str) -> Decimal:
    """``value`` (str/int/float) as Decimal; DataError naming ``what`` if it is not a number."""
    if isinstance(value, bool) or value is None or value == "":
        raise DataError(f"{what}: expected a number, got {value!r}")
    try:
        # str() first: Decimal(0.1) would carry the float's binary error into the ledger.
        result = Decimal(str(value))
    except InvalidOperation:
        raise DataError(f"{what}: expected a number, got {value!r}") from None
    if not result.is_finite():
        raise DataError(f"{what}: expected a finite number, got {value!r}")
    return result


def opt_decimal(value: Any, what: str) -> Decimal | None:
    """Like :func:`to_decimal` but None/"" (the venues' "not set") give None."""
    if value is None or value == "":
        return None
    return to_decimal(value, what)


def price_or_none(value: Any, what: str) -> Decimal | None:
    """A price field where venues write "0" (or "") for "not set": None unless > 0."""
    result = opt_decimal(value, what)
    return result if result is not None and result > 0 else None


def opt_float(value: Any) -> float | None:
    """A market-data number as float, or None when the venue sends nothing or ""."""
    if value is None or value == "":
        return None
    return float(value)


def ms_to_datetime(value: Any, what: str) -> datetime:
    """Epoch milliseconds (int or numeric string) as an aware UTC datetime."""
    try:
        millis = int(value)
    except (TypeError, ValueError):
        raise DataError(f"{what}: expected epoch milliseconds, got {value!r}") from None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def opt_ms_to_datetime(value: Any, what: str) -> datetime | None:
    """Epoch ms, or None when the venue sends nothing, "" or 0."""
    if value in (None, "", 0, "0"):
        return None
    return ms_to_datetime(value, what)


def field_of(item: Mapping[str, Any], key: str, what: str) -> Any:
    """``item[key]`` or a DataError naming the payload and the missing key."""
    try:
        return item[key]
    except KeyError:
        raise DataError(f"{what}: missing field {key!r}") from None


__all__ = [
    "AssetBalance",
    "FeeRate",
    "OrderAck",
    "OrderSnapshot",
    "PositionSnapshot",
    "Ticker",
    "WalletSnapshot",
    "field_of",
    "ms_to_datetime",
    "opt_decimal",
    "opt_float",
    "opt_ms_to_datetime",
    "price_or_none",
    "to_decimal",
]
