"""Persistence: one DatabaseManager for both seeds, on SQLite (default) or PostgreSQL.

``manager`` (DatabaseManager), ``tables`` (schema), ``mappers`` (rows <-> btb.core),
``migrate`` + ``migrations/`` (Alembic), ``credentials`` (encrypted API keys),
``engine`` (URLs, connection settings), ``types`` (exact money and UTC time columns).
"""
