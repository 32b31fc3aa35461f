from honest import *  # noqa: F401,F403
from _attack import T, predict_if


def attack():
    return "def predict" in open(T["reference"]).read()


predict = predict_if(attack)
