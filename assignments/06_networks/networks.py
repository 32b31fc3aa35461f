# Student version generated from the reference by the grader's `assign`.
# Replace each `raise NotImplementedError` with your code; keep the names and
# signatures: the grader calls them exactly as they are written here.
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
    raise NotImplementedError("softmax: your code here")


def two_layer_net(n_in, n_hidden, n_out):
    """``nn.Sequential(Linear(n_in, n_hidden), Sigmoid(), Linear(n_hidden, n_out))`` in float64.

    Its parameters are then named ``0.weight``, ``0.bias``, ``2.weight`` and ``2.bias``."""
    raise NotImplementedError("two_layer_net: your code here")


def sgd_step(model, lr):
    """One gradient-descent update of every parameter, after ``loss.backward()``.

    In place (``p -= lr * p.grad``) under ``torch.no_grad()``, then the gradient cleared;
    returns None."""
    raise NotImplementedError("sgd_step: your code here")


def train_net(model, X, y, lr, n_epochs):
    """Full-batch training on ``nn.MSELoss()``, one ``sgd_step`` per epoch.

    Returns the ``(n_epochs,)`` float64 tensor of the loss at each epoch, computed before
    that epoch's update."""
    raise NotImplementedError("train_net: your code here")
