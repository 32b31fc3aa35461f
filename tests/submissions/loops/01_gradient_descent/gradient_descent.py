"""A correct 01 written with plain Python loops instead of vectorised NumPy."""
import numpy as np


def predict(params, X):
    out = np.empty(len(X))
    for i in range(len(X)):
        out[i] = params[0] + params[1] * X[i]
    return out


def mse_loss(params, X, y):
    total = 0.0
    for xi, yi in zip(X, y):
        total += (yi - params[0] - params[1] * xi) ** 2
    return total / len(X)


def mse_grad(params, X, y):
    db = dw = 0.0
    for xi, yi in zip(X, y):
        r = yi - params[0] - params[1] * xi
        db += -2.0 * r
        dw += -2.0 * r * xi
    return np.array([db / len(X), dw / len(X)])


def gradient_descent(params0, X, y, lr, n_steps):
    b, w = float(params0[0]), float(params0[1])
    rows = []
    for _ in range(n_steps):
        g = mse_grad([b, w], X, y)
        b, w = b - lr * g[0], w - lr * g[1]
        rows.append([b, w])
    return np.array(rows)


def make_batches(n, batch_size, rng=None):
    order = list(range(n)) if rng is None else list(rng.permutation(n))
    batches = []
    while order:
        batches.append(np.array(order[:batch_size]))
        order = order[batch_size:]
    return batches


def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    p = [float(params0[0]), float(params0[1])]
    rows = []
    for _ in range(n_epochs):
        for batch in batches:
            g = mse_grad(p, X[batch], y[batch])
            p = [p[0] - lr * g[0], p[1] - lr * g[1]]
        rows.append(list(p))
    return np.array(rows)
