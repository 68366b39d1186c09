"""Benchmarks of shipper's hot path: generated container logs through real pipelines."""
