"""Fixtures: ``database_url`` and ``db`` on SQLite and PostgreSQL (see tests/db_fixtures.py)."""

from db_fixtures import database_url, db

__all__ = ["database_url", "db"]
