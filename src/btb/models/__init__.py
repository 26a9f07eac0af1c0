"""btb.models."""
