"""The benchmark: data generator, harness and results (docs/performance.md)."""
