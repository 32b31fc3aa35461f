import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split


class LRDataset(Dataset):
    def __init__(self, data_points):
        self.points = np.asarray(data_points)

    def __len__(self):
        return len(self.points)

    def __getitem__(self, idx):
        x, y = self.points[idx]
        return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


class MyData(Dataset):
    def __init__(self, x, y):
        self.x = torch.tensor(x, dtype=torch.float64).unsqueeze(1)
        self.y = torch.tensor(y, dtype=torch.float64).unsqueeze(1)

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


def make_loader(dataset, batch_size, shuffle=False, seed=None):
    if shuffle:
        g = torch.Generator()
        g.manual_seed(seed)
        return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=g)
    return DataLoader(dataset, batch_size=batch_size)


def split_dataset(dataset, val_fraction, seed):
    g = torch.Generator().manual_seed(seed)
    train, val = random_split(dataset, [1 - val_fraction, val_fraction], generator=g)
    return train, val


def train_minibatch(model, loader, lr, n_epochs):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    mse = nn.MSELoss()
    out = []
    for _ in range(n_epochs):
        for xb, yb in loader:
            loss = mse(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        out.append(torch.cat([p.detach().view(-1) for p in model.parameters()]))
    return torch.stack(out)
