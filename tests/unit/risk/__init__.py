"""Tests of btb.risk."""
