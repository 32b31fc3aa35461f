"""A custom autograd Function (the Legendre polynomial P3) and polynomial fits of sin(x)."""
import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    """``P3(x) = (5x^3 - 3x) / 2`` with its hand-written derivative ``1.5 (5x^2 - 1)``."""

    @staticmethod
    def forward(ctx, input):
        ### BEGIN SOLUTION
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        ### BEGIN SOLUTION
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)
        ### END SOLUTION


def fit_sine(x, y, params0, lr, n_steps):
    """Fit ``a + b*P3(c + d*x)`` to ``y`` by gradient descent on the summed squared error.

    Returns the ``(n_steps, 4)`` trajectory of ``[a, b, c, d]``.
    """
    ### BEGIN SOLUTION
    a, b, c, d = (params0[i].detach().clone().requires_grad_(True) for i in range(4))
    P3 = LegendrePolynomial3.apply
    path = []
    for _ in range(n_steps):
        y_pred = a + b * P3(c + d * x)
        loss = ((y_pred - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
        path.append(torch.stack([a.detach(), b.detach(), c.detach(), d.detach()]))
    return torch.stack(path)
    ### END SOLUTION


def poly_grads(params, x, y):
    """Gradient of ``sum((a + b x + c x^2 + d x^3 - y)^2)`` w.r.t. ``[a, b, c, d]``, by hand."""
    ### BEGIN SOLUTION
    a, b, c, d = params
    residual = a + b * x + c * x ** 2 + d * x ** 3 - y
    g = 2.0 * residual
    return np.array([g.sum(), (g * x).sum(), (g * x ** 2).sum(), (g * x ** 3).sum()])
    ### END SOLUTION


def fit_poly(params0, x, y, lr, n_steps):
    """Gradient descent with ``poly_grads``; return the ``(n_steps, 4)`` trajectory."""
    ### BEGIN SOLUTION
    p = np.array(params0, dtype=np.float64)
    path = []
    for _ in range(n_steps):
        p = p - lr * poly_grads(p, x, y)
        path.append(p)
    return np.array(path).reshape(n_steps, 4)
    ### END SOLUTION
