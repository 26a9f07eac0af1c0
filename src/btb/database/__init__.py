"""Persistence: one DatabaseManager for both seeds, on SQLite (default) or PostgreSQL.

``manager`` (DatabaseManager), ``tables`` (schema), ``mappers`` (rows <-> btb.core),
``seed_input`` (seed 002 dicts and exchange spellings), ``migrate`` + ``migrations/``
(Alembic), ``credentials`` (encrypted API keys), ``engine`` (URLs, connection settings),
``types`` (exact money and UTC time columns).
"""
