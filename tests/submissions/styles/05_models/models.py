import numpy as np
import torch
import torch.nn as nn


def closed_form(x, y):
    x_bar, y_bar = np.mean(x), np.mean(y)
    b1 = np.sum((x - x_bar) * (y - y_bar)) / np.sum((x - x_bar) ** 2)
    b0 = y_bar - b1 * x_bar
    return np.array([b0, b1])


def matrix_grad(theta, X, y):
    n = len(y)
    return (2 / n) * X.T.dot(X.dot(theta) - y)


def matrix_gd(theta0, X, y, lr, n_steps):
    theta = theta0.astype(np.float64).copy()
    path = np.empty((n_steps, theta.shape[0]))
    for i in range(n_steps):
        theta = theta - lr * matrix_grad(theta, X, y)
        path[i] = theta
    return path


class LogisticRegression(nn.Module):
    def __init__(self, n_inputs, n_outputs):
        super(LogisticRegression, self).__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def train_logistic(model, X, y, lr, n_epochs):
    criterion = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(n_epochs):
        y_pred = model(X)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return torch.tensor(losses)


def accuracy(model, X, y):
    with torch.no_grad():
        pred = model(X) >= 0.5
    return (pred.float() == y).float().mean().item()
