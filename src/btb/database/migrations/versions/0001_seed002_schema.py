"""Seed 002's schema: orders, trades, account_snapshot, positions, bot_state (one bot).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from btb.database.types import Money, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def _timestamp() -> sa.Column[object]:
    return sa.Column(
        "timestamp", UTCDateTime(), nullable=False, server_default=sa.func.current_timestamp()
    )


def upgrade() -> None:
    op.create_table(
        "orders",
        _id(),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(24), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("price", Money()),
        sa.Column("status", sa.String(24), nullable=False),
        _timestamp(),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("order_id", name="uq_orders_order_id"),
    )
    op.create_table(
        "trades",
        _id(),
        sa.Column("trade_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("commission", Money()),
        sa.Column("pnl", Money()),
        _timestamp(),
        sa.PrimaryKeyConstraint("id", name="pk_trades"),
        sa.UniqueConstraint("trade_id", name="uq_trades_trade_id"),
    )
    op.create_table(
        "account_snapshot",
        _id(),
        sa.Column("total_balance", Money(), nullable=False),
        sa.Column("available_balance", Money(), nullable=False),
        sa.Column("total_pnl", Money()),
        sa.Column("total_margin", Money()),
        _timestamp(),
        sa.PrimaryKeyConstraint("id", name="pk_account_snapshot"),
    )
    op.create_table(
        "positions",
        _id(),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("entry_price", Money(), nullable=False),
        sa.Column("current_price", Money()),
        sa.Column("unrealized_pnl", Money()),
        sa.Column("margin", Money()),
        _timestamp(),
        sa.PrimaryKeyConstraint("id", name="pk_positions"),
    )
    op.create_table(
        "bot_state",
        _id(),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _timestamp(),
        sa.PrimaryKeyConstraint("id", name="pk_bot_state"),
        sa.UniqueConstraint("key", name="uq_bot_state_key"),
    )


def downgrade() -> None:
    for table in ("bot_state", "positions", "account_snapshot", "trades", "orders"):
        op.drop_table(table)
