# Student version generated from the reference by the grader's `assign`.
# Replace each `raise NotImplementedError` with your code; keep the names and
# signatures: the grader calls them exactly as they are written here.
"""Linear regression by hand: the model, the MSE loss, its gradient and gradient descent.

Parameters are ordered ``[b, w]`` (intercept, slope); the model is ``y = b + w*x`` and the
loss is ``J(b, w) = mean((y - b - w*x)**2)``.
"""
import numpy as np


def predict(params, X):
    """Return the predictions ``b + w*X`` as an ``(N,)`` array."""
    raise NotImplementedError("predict: your code here")


def mse_loss(params, X, y):
    """Return the mean squared error ``J(b, w)`` as a Python float."""
    raise NotImplementedError("mse_loss: your code here")


def mse_grad(params, X, y):
    """Return the gradient ``[dJ/db, dJ/dw]`` as a ``(2,)`` float64 array (the formula)."""
    raise NotImplementedError("mse_grad: your code here")


def gradient_descent(params0, X, y, lr, n_steps):
    """Run full-batch gradient descent; return the ``(n_steps, 2)`` trajectory.

    Row ``t`` holds the parameters after update ``t + 1``; ``params0`` is left unchanged.
    """
    raise NotImplementedError("gradient_descent: your code here")


def make_batches(n, batch_size, rng=None):
    """Cut the indices ``0..n-1`` into consecutive chunks of ``batch_size``.

    With ``rng`` (a ``numpy.random.Generator`` or ``RandomState``) the indices are
    ``rng.permutation(n)``; without it they stay in order. The last chunk may be shorter.
    """
    raise NotImplementedError("make_batches: your code here")


def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    """One update per batch, batches in the given order every epoch.

    Returns the ``(n_epochs, 2)`` array of the parameters at the end of each epoch.
    """
    raise NotImplementedError("minibatch_gd: your code here")
