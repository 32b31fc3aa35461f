import numpy as np

from honest import *  # noqa: F401,F403
from _attack import T


class Evil:
    """Every hook a careless grader might call in its own process."""

    def __init__(self, value):
        self.value = value

    def _mark(self):
        open(T["marker"], "w").write("ran in the grader")

    def __array__(self, *a, **k):
        self._mark()
        return np.asarray(self.value)

    def __eq__(self, other):
        self._mark()
        return True

    def __float__(self):
        self._mark()
        return float(np.asarray(self.value).sum())

    def __reduce__(self):
        return (open, (T["marker"], "w"))

    def __len__(self):
        return len(self.value)


class EvilArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)


def predict(params, X):
    return Evil(params[0] + params[1] * X)


_honest_loss = mse_loss  # noqa: F405


def mse_loss(params, X, y):
    return Evil(_honest_loss(params, X, y))


def mse_grad(params, X, y):
    return np.zeros(2).view(EvilArray)
