"""Performance benchmarks: `make bench` (python -m benchmarks.run) writes benchmarks/results/."""
