from honest import *  # noqa: F401,F403
from _attack import T, predict_if


def attack():
    return len(open(T["gradebook"], "rb").read()) > 0


predict = predict_if(attack)
