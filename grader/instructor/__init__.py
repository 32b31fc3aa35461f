"""The instructor's side of the engine: authoring stubs, releases and bundles, batches, the
gradebook, imports, exports and class summaries. A student's copy of the grader is the
engine without this package (see release.py)."""
