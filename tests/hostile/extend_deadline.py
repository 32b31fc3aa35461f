import os
import struct
import time

from honest import *  # noqa: F401,F403
from honest import predict as honest_predict
from _attack import channels, running_call


def predict(params, X):
    """Loop for 20 s (past any time limit here), writing events out of turn all the while —
    the module's import starting again, an earlier call ending — each of which once
    restarted the call's clock; then answer right, as if on time."""
    mi, i = running_call()
    events = [b'{"event":"importing","module":%d}' % mi,
              b'{"event":"error","module":%d,"index":%d,"error":{}}' % (mi, max(i - 1, 0)),
              b'{"event":"imported","module":%d,"notes":[]}' % mi]
    fds = channels()
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
