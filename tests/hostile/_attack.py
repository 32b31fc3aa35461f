# Shared by every hostile submission: the targets, and a predict that is right only when
# the attack succeeded.
import json
import os

import numpy as np

T = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.json")))


def predict_if(attack):
    def predict(params, X):
        try:
            ok = attack()
        except BaseException:
            ok = False
        return params[0] + params[1] * X if ok else np.zeros(len(X))
    return predict
