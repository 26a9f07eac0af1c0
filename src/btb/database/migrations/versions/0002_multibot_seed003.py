"""Several bots per database, full order lifecycle, seed 003's tables, dashboard tables.

* ``bot_name`` on every seed-002 table (existing rows belong to bot ``default``); bot_state
  keys become unique per bot instead of globally.
* orders keep the whole lifecycle (filled quantity, average price, exchange id, ...);
  trades keep the round trip (entry time/price, gross P&L, exit reason); positions keep the
  realised P&L and fees.
* New tables: fills, credentials, bots, grid_levels, bot_logs, events, equity.
* Indexes for the hot queries (open orders by status, daily P&L by trade time).
* Seed 002 wrote exchange spellings (``BUY``, ``NEW``); they become btb's lower-case values so
  that SQL filters (open orders by status) find them.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from btb.database.types import Money, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SEED_TABLES = ("orders", "trades", "account_snapshot", "positions", "bot_state")
_NEW_COLUMNS: dict[str, list[sa.Column[object]]] = {
    "orders": [
        sa.Column("exchange_order_id", sa.String(64)),
        sa.Column("filled_qty", Money(), nullable=False, server_default="0"),
        sa.Column("avg_fill_price", Money()),
        sa.Column("trigger_price", Money()),
        sa.Column("reduce_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("time_in_force", sa.String(16), nullable=False, server_default="gtc"),
        sa.Column("stop_loss", Money()),
        sa.Column("take_profit", Money()),
        sa.Column("tag", sa.String(64), nullable=False, server_default=""),
        sa.Column("reject_reason", sa.Text()),
        sa.Column("updated_at", UTCDateTime()),
    ],
    "trades": [
        sa.Column("entry_time", UTCDateTime()),
        sa.Column("entry_price", Money()),
        sa.Column("gross_pnl", Money()),
        sa.Column("exit_reason", sa.String(24)),
    ],
    "account_snapshot": [sa.Column("unrealized_pnl", Money())],
    "positions": [
        sa.Column("market_type", sa.String(16), nullable=False, server_default="linear"),
        sa.Column("leverage", Money(), nullable=False, server_default="1"),
        sa.Column("realized_pnl", Money(), nullable=False, server_default="0"),
        sa.Column("fees_paid", Money(), nullable=False, server_default="0"),
        sa.Column("opened_at", UTCDateTime()),
    ],
    "bot_state": [],
}
_INDEXES = {
    "ix_orders_status": ("orders", ["status"]),
    "ix_orders_bot_name_symbol": ("orders", ["bot_name", "symbol"]),
    "ix_trades_timestamp": ("trades", ["timestamp"]),
    "ix_trades_bot_name_timestamp": ("trades", ["bot_name", "timestamp"]),
    "ix_account_snapshot_bot_name_timestamp": ("account_snapshot", ["bot_name", "timestamp"]),
    "ix_positions_bot_name_symbol_id": ("positions", ["bot_name", "symbol", "id"]),
}

# Exchange and ccxt status spellings -> btb's OrderStatus values (as btb.database.seed_input).
_NORMALISE_ORDERS = """
UPDATE orders SET
    side = lower(side),
    order_type = lower(order_type),
    status = CASE lower(status)
        WHEN 'new' THEN 'accepted'
        WHEN 'open' THEN 'accepted'
        WHEN 'closed' THEN 'filled'
        WHEN 'cancelled' THEN 'canceled'
        WHEN 'partially_filled_canceled' THEN 'canceled'
        ELSE lower(status)
    END
"""


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def _bot() -> sa.Column[str]:
    return sa.Column("bot_name", sa.String(64), nullable=False, server_default="default")


def _timestamp(name: str = "timestamp") -> sa.Column[object]:
    return sa.Column(
        name, UTCDateTime(), nullable=False, server_default=sa.func.current_timestamp()
    )


def upgrade() -> None:
    for table in _SEED_TABLES:
        op.add_column(table, _bot())
        for column in _NEW_COLUMNS[table]:
            op.add_column(table, column)
    with op.batch_alter_table("bot_state") as batch:
        batch.drop_constraint("uq_bot_state_key", type_="unique")
        batch.create_unique_constraint("uq_bot_state_bot_name_key", ["bot_name", "key"])
    for name, (table, columns) in _INDEXES.items():
        op.create_index(name, table, columns)
    op.execute(_NORMALISE_ORDERS)
    op.execute("UPDATE trades SET side = lower(side)")
    _create_execution_tables()
    _create_seed003_tables()
    _create_dashboard_tables()


def _create_execution_tables() -> None:
    op.create_table(
        "fills",
        _id(),
        sa.Column("fill_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        _bot(),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("fee_currency", sa.String(16), nullable=False),
        sa.Column("liquidity", sa.String(8), nullable=False),
        sa.Column("exchange_order_id", sa.String(64)),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("fill_id", name="uq_fills_fill_id"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name="fk_fills_order_id_orders"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])


def _create_seed003_tables() -> None:
    op.create_table(
        "credentials",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("testnet", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("api_key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("api_secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("passphrase_enc", sa.LargeBinary()),
        sa.Column("api_key_fingerprint", sa.String(16), nullable=False),
        sa.Column("master_key_id", sa.String(16), nullable=False),
        _timestamp("created_at"),
        sa.Column("updated_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        sa.UniqueConstraint("name", name="uq_credentials_name"),
    )
    op.create_table(
        "bots",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("credential_name", sa.String(64)),
        sa.Column("config", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="stopped"),
        _timestamp("created_at"),
        sa.Column("updated_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_bots"),
        sa.UniqueConstraint("name", name="uq_bots_name"),
    )
    op.create_table(
        "grid_levels",
        _id(),
        sa.Column("bot_name", sa.String(64), nullable=False),
        sa.Column("level_index", sa.Integer(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("order_id", sa.String(64)),
        sa.Column("updated_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_grid_levels"),
        sa.UniqueConstraint("bot_name", "level_index", name="uq_grid_levels_bot_name_level_index"),
        sa.ForeignKeyConstraint(
            ["bot_name"], ["bots.name"], name="fk_grid_levels_bot_name_bots", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "bot_logs",
        _id(),
        _bot(),
        _timestamp(),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("context", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_bot_logs"),
    )
    op.create_index("ix_bot_logs_bot_name_timestamp", "bot_logs", ["bot_name", "timestamp"])


def _create_dashboard_tables() -> None:
    op.create_table(
        "events",
        _id(),
        _bot(),
        sa.Column("event_type", sa.String(32), nullable=False),
        _timestamp(),
        sa.Column("data", sa.Text(), nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_bot_name_timestamp", "events", ["bot_name", "timestamp"])
    op.create_table(
        "equity",
        _id(),
        _bot(),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("equity", Money(), nullable=False),
        sa.Column("balance", Money()),
        sa.Column("unrealized_pnl", Money()),
        sa.PrimaryKeyConstraint("id", name="pk_equity"),
        sa.UniqueConstraint("bot_name", "timestamp", name="uq_equity_bot_name_timestamp"),
    )


def downgrade() -> None:
    for table in ("equity", "events", "bot_logs", "grid_levels", "bots", "credentials", "fills"):
        op.drop_table(table)
    for name, (table, _columns) in _INDEXES.items():
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("bot_state") as batch:
        batch.drop_constraint("uq_bot_state_bot_name_key", type_="unique")
        batch.create_unique_constraint("uq_bot_state_key", ["key"])
    for table in _SEED_TABLES:
        with op.batch_alter_table(table) as batch:
            for column in reversed(_NEW_COLUMNS[table]):
                batch.drop_column(column.name)
            batch.drop_column("bot_name")
