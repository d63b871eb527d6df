"""Benchmarks (`make bench`): each figure is printed beside the ceiling measured in the same run."""
