"""Reliability measurements: model faults, crashes, PostgreSQL (see reliability/README or the project README)."""
