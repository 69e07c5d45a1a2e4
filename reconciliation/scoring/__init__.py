"""Seeded cash-application data with ground truth, and a scorer of the matching
rules against it (run it with `benchmarks/cash_matching.py`)."""
