"""Alembic environment for btb: migrations always run on a connection btb hands in.

btb has no alembic.ini; :mod:`btb.database.migrate` builds the configuration in code (so it
works from an installed package) and passes an open connection, inside a transaction it
commits itself, as ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from btb.database.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run btb migrations with `btb db upgrade` (btb.database.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
