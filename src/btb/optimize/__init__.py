"""btb.optimize."""
