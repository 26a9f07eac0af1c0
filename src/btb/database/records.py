"""Rows that have no btb.core counterpart: bots, grid levels, logs, events, equity, reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class BotRecord:
    """A configured bot (seed 003's ``BotModel``)."""

    name: str
    strategy: str
    exchange: str
    symbol: str
    config: dict[str, Any] = field(default_factory=dict)
    credential_name: str | None = None
    status: str = "stopped"
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GridLevel:
    """One price level of a grid bot and the order working at it, if any."""

    level_index: int
    price: Decimal
    side: str
    quantity: Decimal
    status: str = "pending"
    order_id: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A structured log line kept for the dashboard (seed 003's ``BotLog``)."""

    ts: datetime
    bot_name: str
    level: str
    message: str
    context: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A trading event as stored: ``id`` increases in insertion order (for polling)."""

    id: int
    ts: datetime
    bot_name: str
    event_type: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """Account equity of one bot at one time."""

    ts: datetime
    equity: Decimal
    balance: Decimal | None = None
    unrealized_pnl: Decimal | None = None


class SymbolPerformance(NamedTuple):
    """Seed 002's symbol-performance row: trade count, total and average P&L of a symbol."""

    symbol: str
    trades: int
    total_pnl: Decimal | None  # None when no trade of the symbol has a P&L, as SQL's SUM
    avg_pnl: Decimal | None


class DailyPnl(NamedTuple):
    """Seed 002's daily P&L row: the net P&L of trades closed on one UTC day."""

    date: dt.date
    pnl: Decimal | None  # None when no trade of the day has a P&L, as SQL's SUM
