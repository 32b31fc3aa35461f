"""Asked of every node of a cluster before a batch: which grader would it run?

The driver sends ``node_grader`` by value (``cloudpickle.register_pickle_by_value``), not as a
reference to this module: a node that cannot import the grader still runs it and says why,
instead of failing to read the task. So it imports everything it uses itself, inside.
"""


def node_grader() -> tuple:
    """``(version, "")`` of the grader this process imports (``fingerprint.engine_version``),
    or ``(None, why)`` where it cannot import it."""
    try:
        from grader.course.fingerprint import engine_version
    except BaseException as exc:  # whatever the import raised, it is the answer
        return None, f"{type(exc).__name__}: {exc}"
    try:
        return engine_version(), ""
    except BaseException as exc:
        return None, f"{type(exc).__name__}: {exc}"
