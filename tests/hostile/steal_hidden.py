import gc
import hashlib
import sys

import numpy as np

from honest import *  # noqa: F401,F403
from honest import predict as _predict


def _walk(value, seen, depth=0):
    if id(value) in seen or depth > 6:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        if value.size:
            print("held", hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest())
    elif isinstance(value, dict):
        for v in list(value.values()):
            _walk(v, seen, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _walk(v, seen, depth + 1)


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
