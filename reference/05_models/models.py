"""Regression models: the least-squares line, multivariate GD, and logistic regression."""
import numpy as np
import torch
from torch import nn


def closed_form(x, y):
    """The least-squares line ``[b0, b1]`` in closed form."""
    ### BEGIN SOLUTION
    dx = x - x.mean()
    b1 = np.sum(dx * (y - y.mean())) / np.sum(dx ** 2)
    b0 = y.mean() - b1 * x.mean()
    return np.array([b0, b1])
    ### END SOLUTION


def matrix_grad(theta, X, y):
    """The MSE gradient ``2/n X^T (X theta - y)``; ``X`` has a leading column of ones."""
    ### BEGIN SOLUTION
    n = X.shape[0]
    return 2.0 / n * X.T @ (X @ theta - y)
    ### END SOLUTION


def matrix_gd(theta0, X, y, lr, n_steps):
    """Gradient descent with ``matrix_grad``; return the ``(n_steps, D+1)`` trajectory."""
    ### BEGIN SOLUTION
    theta = np.array(theta0, dtype=np.float64)
    path = []
    for _ in range(n_steps):
        theta = theta - lr * matrix_grad(theta, X, y)
        path.append(theta)
    return np.array(path).reshape(n_steps, len(theta))
    ### END SOLUTION


class LogisticRegression(nn.Module):
    """``sigmoid(linear(x))`` with ``self.linear = nn.Linear(n_inputs, n_outputs)``."""

    def __init__(self, n_inputs, n_outputs):
        ### BEGIN SOLUTION
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return torch.sigmoid(self.linear(x))
        ### END SOLUTION


def train_logistic(model, X, y, lr, n_epochs):
    """Full-batch SGD on ``nn.BCELoss()``; the ``(n_epochs,)`` losses, each before its step."""
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCELoss()
    losses = []
    for _ in range(n_epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        losses.append(loss.detach())
        loss.backward()
        optimizer.step()
    return torch.stack(losses)
    ### END SOLUTION


def accuracy(model, X, y):
    """The fraction of rows where ``model(X) >= 0.5`` agrees with the 0/1 label ``y``."""
    ### BEGIN SOLUTION
    with torch.no_grad():
        predicted = (model(X) >= 0.5).to(y.dtype)
    return float((predicted == y).to(torch.float64).mean().item())
    ### END SOLUTION
