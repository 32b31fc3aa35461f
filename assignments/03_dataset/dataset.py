# Student version generated from the reference by the grader's `assign`.
# Replace each `raise NotImplementedError` with your code; keep the names and
# signatures: the grader calls them exactly as they are written here.
"""Feeding data to PyTorch: ``Dataset``, ``DataLoader``, ``random_split`` and mini-batch training."""
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split


class LRDataset(Dataset):
    """Rows ``[x, y]`` of an ``(N, 2)`` array; ``ds[i]`` is two 0-d float32 tensors."""

    def __init__(self, data_points):
        raise NotImplementedError("__init__: your code here")

    def __len__(self):
        raise NotImplementedError("__len__: your code here")

    def __getitem__(self, i):
        raise NotImplementedError("__getitem__: your code here")


class MyData(Dataset):
    """Two 1-D arrays stored as float64 ``(N, 1)`` tensors; ``ds[i]`` is ``(x[i], y[i])``."""

    def __init__(self, x, y):
        raise NotImplementedError("__init__: your code here")

    def __len__(self):
        raise NotImplementedError("__len__: your code here")

    def __getitem__(self, i):
        raise NotImplementedError("__getitem__: your code here")


def make_loader(dataset, batch_size, shuffle=False, seed=None):
    """A ``DataLoader``; when ``shuffle`` is true its order comes from a seeded generator."""
    raise NotImplementedError("make_loader: your code here")


def split_dataset(dataset, val_fraction, seed):
    """``(train, val)`` from ``random_split`` with a generator seeded by ``seed``."""
    raise NotImplementedError("split_dataset: your code here")


def train_minibatch(model, loader, lr, n_epochs):
    """One SGD step on ``nn.MSELoss()`` per batch; ``(n_epochs, P)`` parameters per epoch."""
    raise NotImplementedError("train_minibatch: your code here")
