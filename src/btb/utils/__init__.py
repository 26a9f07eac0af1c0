"""btb.utils."""
