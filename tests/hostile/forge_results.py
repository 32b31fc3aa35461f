import os
import struct

from honest import *  # noqa: F401,F403
from _attack import channels, predict_if, running_call


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def attack():
    """Forge the results of this call and the next ones, each in turn (a message out of
    turn is ignored): a value described without its numbers; an output the grader must
    refuse (a pickled-object array, a list nested too deep to decode), in today's message
    format and in the older one; an error report nested too deep to describe; then the
    start of a message too large to hold; and leave before any real result is sent. Each
    once counted as the grader's failure, which charges the student nothing, or stopped
    the judge."""
    mi, i = running_call()
    result = b'{"event":"result","module":%d,"index":%d,"seconds":0.0'
    hollow = b'{"result":{"kind":"ndarray"},"mutated":[]}'  # plain data, not a description
    bad = b'{"__ndarray__":{"dtype":"object","shape":[1],"data":""}}'
    deep = b"[" * 100000 + b"]" * 100000
    forged = []
    for part, old_too in ((hollow, False), (bad, True), (deep, False)):
        forged.append(result % (mi, i + len(forged)) + b',"parts":[%d]}\n' % len(part) + part)
        if old_too:
            forged.append(result % (mi, i + len(forged)) + b',"output":' + part + b"}")
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
