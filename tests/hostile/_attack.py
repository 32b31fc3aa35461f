# Shared by every hostile submission: the targets, and a predict that is right only when
# the attack succeeded.
import json
import os

import numpy as np

T = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.json")))


def predict_if(attack):
    def predict(params, X):
        try:
            ok = attack()
        except BaseException:
            ok = False
        return params[0] + params[1] * X if ok else np.zeros(len(X))
    return predict


def running_call():
    """(module, index) of the call the worker is running, read from its own stack frames."""
    import sys
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "run_call":
            return frame.f_locals["mi"], frame.f_locals["i"]
        frame = frame.f_back
    return 0, 0


def channels():
    """Every pipe this process may write to beyond stdout and stderr: its result channel
    (the pipe its requests come on is read-only)."""
    import fcntl
    import stat
    out = []
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and \
                    fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY:
                out.append(fd)
        except OSError:
            continue
    return out


def print_arrays(value, seen, depth=0, limit=8):
    """Print the digest of every array reachable from ``value`` (dicts, lists, tuples), each
    once: what a public case shows of this process's memory."""
    import hashlib
    if id(value) in seen or depth > limit:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        if value.size:
            print("held", hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest())
    elif isinstance(value, dict):
        for v in list(value.values()):
            print_arrays(v, seen, depth + 1, limit)
    elif isinstance(value, (list, tuple)):
        for v in list(value):
            print_arrays(v, seen, depth + 1, limit)
