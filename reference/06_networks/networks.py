"""Layers, ``nn.Sequential`` and training by hand over ``model.parameters()``; a stable softmax.

The network is ``Linear -> Sigmoid -> Linear`` in float64; training is full batch on the mean
squared error, one update of every parameter per epoch.
"""
import numpy as np
import torch
from torch import nn


def softmax(z):
    """Row-wise softmax of an ``(N, K)`` float64 array, finite for every finite input.

    Subtract each row's maximum first: ``exp`` of a large entry (1000) overflows otherwise,
    and the result does not change, since the factor ``exp(-max)`` cancels."""
    ### BEGIN SOLUTION
    shifted = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=1, keepdims=True)
    ### END SOLUTION


def two_layer_net(n_in, n_hidden, n_out):
    """``nn.Sequential(Linear(n_in, n_hidden), Sigmoid(), Linear(n_hidden, n_out))`` in float64.

    Its parameters are then named ``0.weight``, ``0.bias``, ``2.weight`` and ``2.bias``."""
    ### BEGIN SOLUTION
    return nn.Sequential(nn.Linear(n_in, n_hidden, dtype=torch.float64), nn.Sigmoid(),
                         nn.Linear(n_hidden, n_out, dtype=torch.float64))
    ### END SOLUTION


def sgd_step(model, lr):
    """One gradient-descent update of every parameter, after ``loss.backward()``.

    In place (``p -= lr * p.grad``) under ``torch.no_grad()``, then the gradient cleared;
    returns None."""
    ### BEGIN SOLUTION
    with torch.no_grad():
        for param in model.parameters():
            param -= lr * param.grad
            param.grad = None
    ### END SOLUTION


def train_net(model, X, y, lr, n_epochs):
    """Full-batch training on ``nn.MSELoss()``, one ``sgd_step`` per epoch.

    Returns the ``(n_epochs,)`` float64 tensor of the loss at each epoch, computed before
    that epoch's update."""
    ### BEGIN SOLUTION
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(n_epochs):
        loss = loss_fn(model(X), y)
        losses.append(loss.detach().clone())
        loss.backward()
        sgd_step(model, lr)
    return torch.stack(losses)
    ### END SOLUTION
