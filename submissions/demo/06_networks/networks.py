# Assignment 06 -- Sam Demo
import numpy as np
import torch


def softmax(z):
    out = np.empty_like(z)
    for i, row in enumerate(z):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out


def two_layer_net(n_in, n_hidden, n_out):
    model = torch.nn.Sequential(
        torch.nn.Linear(n_in, n_hidden),
        torch.nn.Sigmoid(),
        torch.nn.Linear(n_hidden, n_out))
    return model.double()


def sgd_step(model, lr):
    for p in model.parameters():
        p.data -= lr * p.grad
        p.grad.zero_()


def train_net(model, X, y, lr, n_epochs):
    loss_function = torch.nn.MSELoss()
    history = torch.zeros(n_epochs, dtype=torch.float64)
    for epoch in range(n_epochs):
        f = model(X)
        loss = loss_function(f, y)
        history[epoch] = loss.item()
        loss.backward()
        sgd_step(model, lr)
    return history
