"""Tests of btb.exchange (parsing, errors, precision, ids, retry, signing)."""
