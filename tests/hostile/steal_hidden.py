import gc
import sys

from honest import *  # noqa: F401,F403
from honest import predict as _predict
from _attack import print_arrays


def _walk(value, seen):
    print_arrays(value, seen, limit=6)


def predict(params, X):
    """Every array this process holds (the worker's kept inputs, every frame's locals, every
    container the collector knows), printed by its digest: a public case shows what was
    printed, so a fork that held a hidden case's inputs would give them away."""
    seen = set()
    worker = sys.modules.get("grader.worker.student")
    if worker is not None:
        _walk(getattr(worker, "HELD_INPUTS", {}), seen)
    frame = sys._getframe()
    while frame is not None:
        _walk(dict(frame.f_locals), seen)
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, (dict, list)):
            _walk(obj, seen)
    return _predict(params, X)
