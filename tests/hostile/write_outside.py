import os

from honest import *  # noqa: F401,F403
from _attack import T, predict_if


def attack():
    wrote = False
    for path in (T["outside"], os.path.join(os.path.dirname(os.path.abspath(__file__)), "x.txt")):
        try:
            with open(path, "w") as f:
                f.write("pwned")
            wrote = True
        except OSError:
            pass
    return wrote


predict = predict_if(attack)
