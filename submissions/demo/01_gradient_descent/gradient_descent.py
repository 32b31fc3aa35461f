# Assignment 01 -- Sam Demo
import numpy as np


def predict(params, X):
    b = params[0]
    w = params[1]
    return b + w * X


def mse_loss(params, X, y):
    b = params[0]
    w = params[1]
    return ((y - b - w * X) ** 2).mean().item()


def mse_grad(params, X, y):
    b = params[0]
    w = params[1]
    db = (2 * (y - b - w * X) * (-1)).mean()
    dw = (2 * (y - b - w * X) * (-X)).mean()
    return np.array([db, dw])


def gradient_descent(params0, X, y, lr, n_steps):
    p = params0.copy()
    plist = [p]                      # I want to see where we start too
    for _ in range(n_steps - 1):
        p = p - lr * mse_grad(p, X, y)
        plist.append(p)
    return np.array(plist)


def make_batches(n, batch_size, rng=None):
    indx = np.arange(n)
    if rng is not None:
        indx = rng.permutation(n)
    batch_num = int(np.ceil(n / batch_size))
    batches = []
    for i in range(batch_num):
        last = np.minimum((i + 1) * batch_size, n)
        batches.append(indx[i * batch_size: last])
    return batches


def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    p = params0.copy()
    plist = []
    for epoch in range(n_epochs):
        for batch in batches:
            p = p - lr * mse_grad(p, X[batch], y[batch])
        plist.append([p[0], p[1]])
    return np.array(plist)
