"""The harness measuring itself: fidelity, precision and cost (see benchmarks/README.md)."""
