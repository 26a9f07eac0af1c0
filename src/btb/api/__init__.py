"""btb.api."""
