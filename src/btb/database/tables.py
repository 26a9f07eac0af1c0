"""The schema at the newest migration, as SQLAlchemy Core tables.

Seed 002's tables (``orders``, ``trades``, ``account_snapshot``, ``positions``, ``bot_state``)
keep their names and columns; migration 0002 added a ``bot_name`` to each (several bots may
share one database) and seed 003's ``credentials``, ``bots``, ``grid_levels``, ``bot_logs``,
plus ``fills`` (executions, for idempotent fill handling), ``events`` and ``equity``.

The migrations under ``migrations/versions`` create this schema; a test checks that the two
agree, so change them together (a new migration, then this file).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)

from btb.database.types import Money, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
DEFAULT_BOT = "default"

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _bot() -> Column[str]:
    return Column("bot_name", String(64), nullable=False, server_default=DEFAULT_BOT)


def _now(name: str = "timestamp") -> Column[object]:
    return Column(name, UTCDateTime(), nullable=False, server_default=func.current_timestamp())


orders = Table(
    "orders",
    metadata,
    _id(),
    Column("order_id", String(64), nullable=False, unique=True),  # our client order id
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(24), nullable=False),
    Column("quantity", Money(), nullable=False),
    Column("price", Money()),
    Column("status", String(24), nullable=False),
    _now(),  # created
    _bot(),
    Column("exchange_order_id", String(64)),
    Column("filled_qty", Money(), nullable=False, server_default="0"),
    Column("avg_fill_price", Money()),
    Column("trigger_price", Money()),
    Column("reduce_only", Boolean(), nullable=False, server_default=false()),
    Column("time_in_force", String(16), nullable=False, server_default="gtc"),
    Column("stop_loss", Money()),
    Column("take_profit", Money()),
    Column("tag", String(64), nullable=False, server_default=""),
    Column("reject_reason", Text()),
    Column("updated_at", UTCDateTime()),
    Index(None, "status"),
    Index(None, "bot_name", "symbol"),
)

trades = Table(
    "trades",
    metadata,
    _id(),
    Column("trade_id", String(64), nullable=False, unique=True),
    Column("order_id", String(64), nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", Money(), nullable=False),
    Column("price", Money(), nullable=False),  # exit price of a round trip
    Column("commission", Money()),
    Column("pnl", Money()),  # net of commission
    _now(),  # exit time: the day the P&L counts for
    _bot(),
    Column("entry_time", UTCDateTime()),
    Column("entry_price", Money()),
    Column("gross_pnl", Money()),
    Column("exit_reason", String(24)),
    Index(None, "timestamp"),
    Index(None, "bot_name", "timestamp"),
)

account_snapshot = Table(
    "account_snapshot",
    metadata,
    _id(),
    Column("total_balance", Money(), nullable=False),
    Column("available_balance", Money(), nullable=False),
    Column("total_pnl", Money()),
    Column("total_margin", Money()),
    _now(),
    _bot(),
    Column("unrealized_pnl", Money()),
    Index(None, "bot_name", "timestamp"),
)

# Append-only: each row is the position after a change; the newest row per (bot, symbol) is
# the current position. Appending never loses history and needs no uniqueness migration.
positions = Table(
    "positions",
    metadata,
    _id(),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", Money(), nullable=False),  # signed: + long, - short
    Column("entry_price", Money(), nullable=False),
    Column("current_price", Money()),
    Column("unrealized_pnl", Money()),
    Column("margin", Money()),
    _now(),
    _bot(),
    Column("market_type", String(16), nullable=False, server_default="linear"),
    Column("leverage", Money(), nullable=False, server_default="1"),
    Column("realized_pnl", Money(), nullable=False, server_default="0"),
    Column("fees_paid", Money(), nullable=False, server_default="0"),
    Column("opened_at", UTCDateTime()),
    Index(None, "bot_name", "symbol", "id"),
)

bot_state = Table(
    "bot_state",
    metadata,
    _id(),
    Column("key", String(128), nullable=False),
    Column("value", Text(), nullable=False),  # JSON
    _now(),
    _bot(),
    UniqueConstraint("bot_name", "key"),
)

fills = Table(
    "fills",
    metadata,
    _id(),
    Column("fill_id", String(128), nullable=False, unique=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    _bot(),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", Money(), nullable=False),
    Column("price", Money(), nullable=False),
    Column("fee", Money(), nullable=False),
    Column("fee_currency", String(16), nullable=False),
    Column("liquidity", String(8), nullable=False),
    Column("exchange_order_id", String(64)),
    Column("timestamp", UTCDateTime(), nullable=False),
    Index(None, "order_id"),
)

credentials = Table(
    "credentials",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("exchange", String(32), nullable=False),
    Column("testnet", Boolean(), nullable=False, server_default=false()),
    Column("api_key_enc", LargeBinary(), nullable=False),
    Column("api_secret_enc", LargeBinary(), nullable=False),
    Column("passphrase_enc", LargeBinary()),
    Column("api_key_fingerprint", String(16), nullable=False),
    Column("master_key_id", String(16), nullable=False),
    _now("created_at"),
    Column("updated_at", UTCDateTime()),
)

bots = Table(
    "bots",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("strategy", String(64), nullable=False),
    Column("exchange", String(32), nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("credential_name", String(64)),
    Column("config", Text(), nullable=False, server_default="{}"),  # JSON
    Column("status", String(16), nullable=False, server_default="stopped"),
    _now("created_at"),
    Column("updated_at", UTCDateTime()),
)

grid_levels = Table(
    "grid_levels",
    metadata,
    _id(),
    Column(
        "bot_name",
        String(64),
        ForeignKey("bots.name", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("level_index", Integer(), nullable=False),
    Column("price", Money(), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", Money(), nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("order_id", String(64)),
    Column("updated_at", UTCDateTime()),
    UniqueConstraint("bot_name", "level_index"),
)

bot_logs = Table(
    "bot_logs",
    metadata,
    _id(),
    _bot(),
    _now(),
    Column("level", String(16), nullable=False),
    Column("message", Text(), nullable=False),
    Column("context", Text()),  # JSON
    Index(None, "bot_name", "timestamp"),
)

events = Table(
    "events",
    metadata,
    _id(),
    _bot(),
    Column("event_type", String(32), nullable=False),
    _now(),
    Column("data", Text(), nullable=False, server_default="{}"),  # JSON
    Index(None, "bot_name", "timestamp"),
)

equity = Table(
    "equity",
    metadata,
    _id(),
    _bot(),
    Column("timestamp", UTCDateTime(), nullable=False),
    Column("equity", Money(), nullable=False),
    Column("balance", Money()),
    Column("unrealized_pnl", Money()),
    UniqueConstraint("bot_name", "timestamp"),
)
