"""Exchange clients against local servers (recorded payloads, the simulator)."""
