import os
import struct
import sys

from honest import *  # noqa: F401,F403
from _attack import channels, predict_if, running_call


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def _done_then_flush(flush=sys.stdout.flush):
    """Replaces sys.stdout.flush: the worker flushes right before it says "done", so a
    "done" written here arrives in turn, between calls, with CPU seconds no float holds."""
    def forged():
        for fd in channels():
            try:
                os.write(fd, frame(b'{"event":"done","cpu":1' + b"0" * 400 + b"}"))
            except OSError:
                pass
        return flush()
    return forged


FORGED = []


def attack():
    """Events in turn whose numbers and types the fork server once trusted: a result whose
    time is 10**400 (OverflowError), an event naming its call 0.0 (a float), an error
    whose kind is a list (unhashable), and at the end a "done" whose CPU is 10**400. Each
    killed the fork server; the dead server was the grader's failure, and paid."""
    if FORGED:
        return False
    FORGED.append(True)
    mi, i = running_call()
    wrong = b'{"result":{"kind":"float","type":"float","value":0.5},"mutated":[]}'
    events = [
        b'{"event":"result","module":%d,"index":%d,"seconds":1%s,"parts":[%d]}\n%s'
        % (mi, i, b"0" * 400, len(wrong), wrong),
        b'{"event":"error","module":%d,"index":%d.0,"error":{"kind":"error"}}' % (mi, i + 1),
        b'{"event":"error","module":%d,"index":%d,"error":{"kind":[],"type":"X"}}'
        % (mi, i + 1),
    ]
    for fd in channels():
        for event in events:
            try:
                os.write(fd, frame(event))
            except OSError:
                pass
    sys.stdout.flush = _done_then_flush()
    return False


predict = predict_if(attack)
