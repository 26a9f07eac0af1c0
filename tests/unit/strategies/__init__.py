"""Tests of btb.strategies."""
