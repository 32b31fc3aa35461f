import numpy as np


def predict(params, X):
    b, w = params
    return np.polyval([w, b], X)


def mse_loss(params, X, y):
    residual = y - predict(params, X)
    return np.mean(np.square(residual))


def mse_grad(params, X, y):
    N = len(X)
    A = np.column_stack([np.ones(N), X])
    return -2.0 / N * A.T @ (y - A @ params)


def gradient_descent(params0, X, y, lr, n_steps):
    p = np.array(params0, dtype=float)
    out = np.empty((n_steps, 2))
    for t in range(n_steps):
        p = p - lr * mse_grad(p, X, y)
        out[t] = p
    return out


def make_batches(n, batch_size, rng=None):
    order = np.arange(n) if rng is None else rng.permutation(n)
    starts = range(0, n, batch_size)
    return [order[s:s + batch_size] for s in starts]


def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    p = params0.copy()
    history = []
    for _ in range(n_epochs):
        for idx in batches:
            p -= lr * mse_grad(p, X[idx], y[idx])
        history.append(p.copy())
    return np.vstack(history)
