import numpy as np

from honest import *  # noqa: F401,F403


def predict(params, X):
    """One result too large to send back (40 MB of float64, 53 MB encoded)."""
    return np.ones(5_000_000)


def mse_loss(params, X, y):
    """Results each small enough to send back, too large all together (27 MB a call)."""
    return np.ones(2_500_000)
