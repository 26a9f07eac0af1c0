"""btb.run."""
