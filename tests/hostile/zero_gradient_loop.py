# A gradient that returns zeros and a loop that returns its start repeated (issue 24): each
# "step" follows the student's own gradient exactly, and nothing moves. Nothing is forged;
# it once counted as a right loop over a wrong gradient.
import numpy as np

from honest import *  # noqa: F401,F403


def mse_grad(params, X, y):
    return np.zeros(2)


def gradient_descent(params0, X, y, lr, n_steps):
    return np.tile(np.asarray(params0, dtype=np.float64), (n_steps, 1))
