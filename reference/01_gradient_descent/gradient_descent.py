"""Linear regression by hand: the model, the MSE loss, its gradient and gradient descent.

Parameters are ordered ``[b, w]`` (intercept, slope); the model is ``y = b + w*x`` and the
loss is ``J(b, w) = mean((y - b - w*x)**2)``.
"""
import numpy as np


def predict(params, X):
    """Return the predictions ``b + w*X`` as an ``(N,)`` array."""
    ### BEGIN SOLUTION
    b, w = params[0], params[1]
    return b + w * X
    ### END SOLUTION


def mse_loss(params, X, y):
    """Return the mean squared error ``J(b, w)`` as a Python float."""
    ### BEGIN SOLUTION
    b, w = params[0], params[1]
    return float(np.mean((y - b - w * X) ** 2))
    ### END SOLUTION


def mse_grad(params, X, y):
    """Return the gradient ``[dJ/db, dJ/dw]`` as a ``(2,)`` float64 array (the formula)."""
    ### BEGIN SOLUTION
    b, w = params[0], params[1]
    residual = y - b - w * X
    return np.array([np.mean(2 * residual * -1), np.mean(2 * residual * -X)])
    ### END SOLUTION


def gradient_descent(params0, X, y, lr, n_steps):
    """Run full-batch gradient descent; return the ``(n_steps, 2)`` trajectory.

    Row ``t`` holds the parameters after update ``t + 1``; ``params0`` is left unchanged.
    """
    ### BEGIN SOLUTION
    p = np.array(params0, dtype=np.float64)
    path = []
    for _ in range(n_steps):
        p = p - lr * mse_grad(p, X, y)
        path.append(p)
    return np.array(path).reshape(n_steps, 2)
    ### END SOLUTION


def make_batches(n, batch_size, rng=None):
    """Cut the indices ``0..n-1`` into consecutive chunks of ``batch_size``.

    With ``rng`` (a ``numpy.random.Generator`` or ``RandomState``) the indices are
    ``rng.permutation(n)``; without it they stay in order. The last chunk may be shorter.
    """
    ### BEGIN SOLUTION
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]
    ### END SOLUTION


def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    """One update per batch, batches in the given order every epoch.

    Returns the ``(n_epochs, 2)`` array of the parameters at the end of each epoch.
    """
    ### BEGIN SOLUTION
    p = np.array(params0, dtype=np.float64)
    path = []
    for _ in range(n_epochs):
        for idx in batches:
            p = p - lr * mse_grad(p, X[idx], y[idx])
        path.append(p)
    return np.array(path).reshape(n_epochs, 2)
    ### END SOLUTION
