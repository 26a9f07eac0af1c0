"""btb.risk."""
