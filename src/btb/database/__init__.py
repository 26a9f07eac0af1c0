"""btb.database."""
