"""Feeding data to PyTorch: ``Dataset``, ``DataLoader``, ``random_split`` and mini-batch training."""
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split


class LRDataset(Dataset):
    """Rows ``[x, y]`` of an ``(N, 2)`` array; ``ds[i]`` is two 0-d float32 tensors."""

    def __init__(self, data_points):
        ### BEGIN SOLUTION
        self.data = torch.as_tensor(data_points, dtype=torch.float32)
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return self.data.shape[0]
        ### END SOLUTION

    def __getitem__(self, i):
        ### BEGIN SOLUTION
        return self.data[i, 0], self.data[i, 1]
        ### END SOLUTION


class MyData(Dataset):
    """Two 1-D arrays stored as float64 ``(N, 1)`` tensors; ``ds[i]`` is ``(x[i], y[i])``."""

    def __init__(self, x, y):
        ### BEGIN SOLUTION
        self.x = torch.as_tensor(x, dtype=torch.float64).reshape(-1, 1)
        self.y = torch.as_tensor(y, dtype=torch.float64).reshape(-1, 1)
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return len(self.x)
        ### END SOLUTION

    def __getitem__(self, i):
        ### BEGIN SOLUTION
        return self.x[i], self.y[i]
        ### END SOLUTION


def make_loader(dataset, batch_size, shuffle=False, seed=None):
    """A ``DataLoader``; when ``shuffle`` is true its order comes from a seeded generator."""
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed) if shuffle and seed is not None else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)
    ### END SOLUTION


def split_dataset(dataset, val_fraction, seed):
    """``(train, val)`` from ``random_split`` with a generator seeded by ``seed``."""
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    return tuple(random_split(dataset, [1 - val_fraction, val_fraction], generator=generator))
    ### END SOLUTION


def train_minibatch(model, loader, lr, n_epochs):
    """One SGD step on ``nn.MSELoss()`` per batch; ``(n_epochs, P)`` parameters per epoch."""
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    path = []
    for _ in range(n_epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        path.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    return torch.stack(path)
    ### END SOLUTION
