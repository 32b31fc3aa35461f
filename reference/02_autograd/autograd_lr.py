"""The same linear regression in PyTorch: autograd, optimizers and ``nn.Module``."""
import torch
from torch import nn


def autograd_grad(params, X, y):
    """Return ``[dJ/db, dJ/dw]`` computed by ``loss.backward()`` (not by the formula)."""
    ### BEGIN SOLUTION
    p = params.detach().clone().requires_grad_(True)
    loss = ((y - p[0] - p[1] * X) ** 2).mean()
    loss.backward()
    return p.grad
    ### END SOLUTION


def autograd_gd(params0, X, y, lr, n_steps):
    """Gradient descent with autograd; return the ``(n_steps, 2)`` trajectory.

    Leaf tensors with ``requires_grad``, updates in place under ``torch.no_grad()``, and
    gradients zeroed after every step.
    """
    ### BEGIN SOLUTION
    b = params0[0].detach().clone().requires_grad_(True)
    w = params0[1].detach().clone().requires_grad_(True)
    path = []
    for _ in range(n_steps):
        loss = ((y - b - w * X) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            b -= lr * b.grad
            w -= lr * w.grad
        b.grad.zero_()
        w.grad.zero_()
        path.append(torch.stack([b.detach().clone(), w.detach().clone()]))
    return torch.stack(path)
    ### END SOLUTION


def optimizer_gd(params0, X, y, lr, n_steps):
    """The same trajectory as ``autograd_gd``, using ``torch.optim.SGD``."""
    ### BEGIN SOLUTION
    p = params0.detach().clone().requires_grad_(True)
    optimizer = torch.optim.SGD([p], lr=lr)
    path = []
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = ((y - p[0] - p[1] * X) ** 2).mean()
        loss.backward()
        optimizer.step()
        path.append(p.detach().clone())
    return torch.stack(path)
    ### END SOLUTION


class LR(nn.Module):
    """``y = b + w*x`` with two 0-d float64 parameters ``b`` and ``w``."""

    def __init__(self, b0=1.0, w0=1.5):
        ### BEGIN SOLUTION
        super().__init__()
        self.b = nn.Parameter(torch.tensor(b0, dtype=torch.float64))
        self.w = nn.Parameter(torch.tensor(w0, dtype=torch.float64))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return self.b + self.w * x
        ### END SOLUTION


class BetterLR(nn.Module):
    """The same model through ``nn.Linear(1, 1)`` in float64: ``(N, 1)`` in, ``(N, 1)`` out."""

    def __init__(self, b0=1.0, w0=1.5):
        ### BEGIN SOLUTION
        super().__init__()
        self.linear = nn.Linear(1, 1, dtype=torch.float64)
        with torch.no_grad():
            self.linear.bias.fill_(b0)
            self.linear.weight.fill_(w0)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return self.linear(x)
        ### END SOLUTION


def train_model(model, X, y, lr, n_epochs):
    """Full-batch SGD on ``nn.MSELoss()``; return ``(n_epochs, P)`` parameters per epoch."""
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    path = []
    for _ in range(n_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        path.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    return torch.stack(path)
    ### END SOLUTION
