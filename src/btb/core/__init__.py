"""btb.core."""
