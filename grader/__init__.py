"""An autograder for numeric PyTorch and NumPy exercises."""
__version__ = "0.2.0"
__all__ = ["__version__", "check"]


def check(name: str, namespace: dict | None = None, device: str = "cpu"):
    """Self-check one exercise on its public cases (see ``grader.selfcheck``)."""
    from .selfcheck import check as run
    import inspect
    if namespace is None:
        frame = inspect.currentframe().f_back
        namespace = frame.f_globals if frame is not None else {}
    return run(name, namespace, device)
