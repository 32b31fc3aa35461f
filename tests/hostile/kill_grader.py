import os

from honest import *  # noqa: F401,F403
from _attack import T, predict_if


def attack():
    # Signal 0 asks "may I signal this process?" without harming anything if the answer is yes.
    killed = False
    for pid in (os.getppid(), T["grader_pid"], 1):
        try:
            os.kill(pid, 0)
            killed = True
        except OSError:
            pass
    return killed


predict = predict_if(attack)
