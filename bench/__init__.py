"""Benchmarks (run through the Makefile's bench-* targets)."""
