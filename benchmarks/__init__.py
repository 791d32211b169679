"""Benchmarks: `make bench` (python -m benchmarks) runs them all and writes build/bench/results.json."""
