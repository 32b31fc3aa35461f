# Tries to carry the hidden cases' inputs out through everything a report shows of a case:
# an exception's message, the name of an exception's type, the shape of a wrong output and
# what it prints. Appended to a correct 01 (`honest`), it replaces three of its names.
import json as _json

import numpy as _np


def _tag(X):
    return "LEAK" + _json.dumps([round(float(v), 6) for v in _np.ravel(X)[:4]])


def predict(params, X):
    print("PRINTED" + _tag(X))
    raise ValueError(_tag(X))


def mse_loss(params, X, y):
    raise type("LEAK_" + str(abs(int(float(_np.ravel(X)[0]) * 1e6))), (Exception,), {})()


def mse_grad(params, X, y):
    return _np.zeros(int(abs(float(_np.ravel(X)[0])) * 1000) + 7)
