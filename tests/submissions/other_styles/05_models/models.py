import numpy as np
import torch
from torch import nn


def closed_form(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    return np.array([intercept, slope])


def matrix_grad(theta, X, y):
    n = X.shape[0]
    return (2 / n) * X.T.dot(X.dot(theta) - y)


def matrix_gd(theta0, X, y, lr, n_steps):
    theta = theta0.astype(float).copy()
    path = np.zeros((n_steps, theta.size))
    for i in range(n_steps):
        theta -= lr * matrix_grad(theta, X, y)
        path[i, :] = theta
    return path


class LogisticRegression(nn.Module):
    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.linear(x))


def train_logistic(model, X, y, lr, n_epochs):
    crit = nn.BCELoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(n_epochs):
        opt.zero_grad()
        loss = crit(model(X), y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return torch.tensor(losses)


def accuracy(model, X, y):
    with torch.no_grad():
        pred = (model(X) >= 0.5).to(y.dtype)
    return (pred == y).float().mean().item()
