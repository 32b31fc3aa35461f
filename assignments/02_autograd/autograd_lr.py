# Student version generated from the reference by the grader's `assign`.
# Replace each `raise NotImplementedError` with your code; keep the names and
# signatures: the grader calls them exactly as they are written here.
"""The same linear regression in PyTorch: autograd, optimizers and ``nn.Module``."""
import torch
from torch import nn


def autograd_grad(params, X, y):
    """Return ``[dJ/db, dJ/dw]`` computed by ``loss.backward()`` (not by the formula)."""
    raise NotImplementedError("autograd_grad: your code here")


def autograd_gd(params0, X, y, lr, n_steps):
    """Gradient descent with autograd; return the ``(n_steps, 2)`` trajectory.

    Leaf tensors with ``requires_grad``, updates in place under ``torch.no_grad()``, and
    gradients zeroed after every step.
    """
    raise NotImplementedError("autograd_gd: your code here")


def optimizer_gd(params0, X, y, lr, n_steps):
    """The same trajectory as ``autograd_gd``, using ``torch.optim.SGD``."""
    raise NotImplementedError("optimizer_gd: your code here")


class LR(nn.Module):
    """``y = b + w*x`` with two 0-d float64 parameters ``b`` and ``w``."""

    def __init__(self, b0=1.0, w0=1.5):
        raise NotImplementedError("__init__: your code here")

    def forward(self, x):
        raise NotImplementedError("forward: your code here")


class BetterLR(nn.Module):
    """The same model through ``nn.Linear(1, 1)`` in float64: ``(N, 1)`` in, ``(N, 1)`` out."""

    def __init__(self, b0=1.0, w0=1.5):
        raise NotImplementedError("__init__: your code here")

    def forward(self, x):
        raise NotImplementedError("forward: your code here")


def train_model(model, X, y, lr, n_epochs):
    """Full-batch SGD on ``nn.MSELoss()``; return ``(n_epochs, P)`` parameters per epoch."""
    raise NotImplementedError("train_model: your code here")
