import os

from honest import *  # noqa: F401,F403
from _attack import T, predict_if


def attack():
    return bool(open(T["other_student"]).read()) or bool(os.listdir(T["submissions"]))


predict = predict_if(attack)
