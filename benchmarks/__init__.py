"""The benchmark suite: `python benchmarks/run.py [--quick]` (see docs/performance.md)."""
