import os
import stat
import struct
import sys
import time

from honest import *  # noqa: F401,F403
from honest import predict as honest_predict


def where():
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "run_call":
            return frame.f_locals["mi"], frame.f_locals["i"]
        frame = frame.f_back
    return 0, 0


def predict(params, X):
    """Loop for 20 s (past any time limit here), writing events out of turn all the while —
    the module's import starting again, an earlier call ending — each of which once
    restarted the call's clock; then answer right, as if on time."""
    mi, i = where()
    events = [b'{"event":"importing","module":%d}' % mi,
              b'{"event":"error","module":%d,"index":%d,"error":{}}' % (mi, max(i - 1, 0)),
              b'{"event":"imported","module":%d,"notes":[]}' % mi]
    fds = [fd for fd in range(3, 64) if _is_pipe(fd)]
    until = time.monotonic() + 20
    while time.monotonic() < until:
        for fd in fds:
            for event in events:
                try:
                    os.write(fd, struct.pack(">I", len(event)) + event)
                except OSError:
                    pass
        time.sleep(0.2)
    return honest_predict(params, X)


def _is_pipe(fd):
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False
