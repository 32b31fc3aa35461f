"""Batch grading on a Dask cluster: students travel to workers as bytes, results come back as
plain dataclasses, and the driver alone writes results and the gradebook (docs/cluster.md)."""
