import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, SubsetRandomSampler, random_split


class LRDataset(Dataset):
    def __init__(self, data_points):
        arr = np.asarray(data_points, dtype=np.float32)
        self.x = torch.from_numpy(arr[:, 0].copy())
        self.y = torch.from_numpy(arr[:, 1].copy())

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


class MyData(Dataset):
    def __init__(self, x, y):
        self.x = torch.tensor(np.asarray(x, dtype=np.float64)).unsqueeze(1)
        self.y = torch.tensor(np.asarray(y, dtype=np.float64)).view(-1, 1)

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, idx):
        return (self.x[idx], self.y[idx])


def make_loader(dataset, batch_size, shuffle=False, seed=None):
    if not shuffle:
        return DataLoader(dataset, batch_size=batch_size, num_workers=0)
    g = torch.Generator()
    if seed is not None:
        g.manual_seed(seed)
    sampler = SubsetRandomSampler(list(range(len(dataset))), generator=g)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0)


def split_dataset(dataset, val_fraction, seed):
    train, val = random_split(dataset, [1 - val_fraction, val_fraction],
                              generator=torch.Generator().manual_seed(seed))
    return train, val


def train_minibatch(model, loader, lr, n_epochs):
    loss_fn = torch.nn.MSELoss()
    params = list(model.parameters())
    out = []
    for _ in range(n_epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
        out.append(torch.cat([p.detach().flatten().clone() for p in params]))
    return torch.stack(out)
