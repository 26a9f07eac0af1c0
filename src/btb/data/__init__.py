"""btb.data."""
