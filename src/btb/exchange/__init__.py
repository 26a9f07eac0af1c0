"""btb.exchange."""
