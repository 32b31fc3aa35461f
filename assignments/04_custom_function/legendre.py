# Student version generated from the reference by the grader's `assign`.
# Replace each `raise NotImplementedError` with your code; keep the names and
# signatures: the grader calls them exactly as they are written here.
"""A custom autograd Function (the Legendre polynomial P3) and polynomial fits of sin(x)."""
import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    """``P3(x) = (5x^3 - 3x) / 2`` with its hand-written derivative ``1.5 (5x^2 - 1)``."""

    @staticmethod
    def forward(ctx, input):
        raise NotImplementedError("forward: your code here")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("backward: your code here")


def fit_sine(x, y, params0, lr, n_steps):
    """Fit ``a + b*P3(c + d*x)`` to ``y`` by gradient descent on the summed squared error.

    Returns the ``(n_steps, 4)`` trajectory of ``[a, b, c, d]``.
    """
    raise NotImplementedError("fit_sine: your code here")


def poly_grads(params, x, y):
    """Gradient of ``sum((a + b x + c x^2 + d x^3 - y)^2)`` w.r.t. ``[a, b, c, d]``, by hand."""
    raise NotImplementedError("poly_grads: your code here")


def fit_poly(params0, x, y, lr, n_steps):
    """Gradient descent with ``poly_grads``; return the ``(n_steps, 4)`` trajectory."""
    raise NotImplementedError("fit_poly: your code here")
