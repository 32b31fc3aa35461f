import numpy as np
import torch
from torch import nn


def softmax(z):
    shifted = z - np.max(z, axis=1)[:, None]
    e = np.exp(shifted)
    return e / e.sum(axis=1)[:, None]


def two_layer_net(n_in, n_hidden, n_out):
    layers = [nn.Linear(n_in, n_hidden), nn.Sigmoid(), nn.Linear(n_hidden, n_out)]
    return nn.Sequential(*layers).to(torch.float64)


def sgd_step(model, lr):
    for p in model.parameters():
        p.data.add_(p.grad.data, alpha=-lr)
        p.grad = None


def train_net(model, X, y, lr, n_epochs):
    mse = nn.MSELoss()
    history = torch.empty(n_epochs, dtype=torch.float64)
    for e in range(n_epochs):
        loss = mse(model(X), y)
        history[e] = loss.detach()
        loss.backward()
        sgd_step(model, lr)
    return history
