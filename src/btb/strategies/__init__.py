"""btb.strategies."""
