# Student version generated from the reference by the grader's `assign`.
# Replace each `raise NotImplementedError` with your code; keep the names and
# signatures: the grader calls them exactly as they are written here.
"""Regression models: the least-squares line, multivariate GD, and logistic regression."""
import numpy as np
import torch
from torch import nn


def closed_form(x, y):
    """The least-squares line ``[b0, b1]`` in closed form."""
    raise NotImplementedError("closed_form: your code here")


def matrix_grad(theta, X, y):
    """The MSE gradient ``2/n X^T (X theta - y)``; ``X`` has a leading column of ones."""
    raise NotImplementedError("matrix_grad: your code here")


def matrix_gd(theta0, X, y, lr, n_steps):
    """Gradient descent with ``matrix_grad``; return the ``(n_steps, D+1)`` trajectory."""
    raise NotImplementedError("matrix_gd: your code here")


class LogisticRegression(nn.Module):
    """``sigmoid(linear(x))`` with ``self.linear = nn.Linear(n_inputs, n_outputs)``."""

    def __init__(self, n_inputs, n_outputs):
        raise NotImplementedError("__init__: your code here")

    def forward(self, x):
        raise NotImplementedError("forward: your code here")


def train_logistic(model, X, y, lr, n_epochs):
    """Full-batch SGD on ``nn.BCELoss()``; the ``(n_epochs,)`` losses, each before its step."""
    raise NotImplementedError("train_logistic: your code here")


def accuracy(model, X, y):
    """The fraction of rows where ``model(X) >= 0.5`` agrees with the 0/1 label ``y``."""
    raise NotImplementedError("accuracy: your code here")
