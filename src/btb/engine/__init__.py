"""btb.engine."""
