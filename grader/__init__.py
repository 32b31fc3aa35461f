"""An autograder for numeric PyTorch and NumPy exercises."""
from grader.course.fingerprint import __version__
__all__ = ["__version__", "check"]


def check(name: str, namespace: dict | None = None, device: str = "cpu"):
    """Self-check one exercise on its public cases (see ``grader.selfcheck``)."""
    from grader.selfcheck import check as run
    import inspect
    if namespace is None:
        frame = inspect.currentframe().f_back
        namespace = frame.f_globals if frame is not None else {}
    return run(name, namespace, device)
