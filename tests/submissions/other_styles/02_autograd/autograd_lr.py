import torch
import torch.nn as nn


def _loss(b, w, X, y):
    return torch.mean((y - (b + w * X)) ** 2)


def autograd_grad(params, X, y):
    p = params.detach().clone().requires_grad_(True)
    loss = _loss(p[0], p[1], X, y)
    (g,) = torch.autograd.grad(loss, p)
    return g


def autograd_gd(params0, X, y, lr, n_steps):
    b = params0[0].detach().clone().requires_grad_()
    w = params0[1].detach().clone().requires_grad_()
    rows = []
    for _ in range(n_steps):
        _loss(b, w, X, y).backward()
        with torch.no_grad():
            b.sub_(lr * b.grad)
            w.sub_(lr * w.grad)
        b.grad.zero_()
        w.grad.zero_()
        rows.append(torch.stack([b.detach().clone(), w.detach().clone()]))
    return torch.stack(rows)


def optimizer_gd(params0, X, y, lr, n_steps):
    p = params0.clone().detach().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=lr)
    out = torch.zeros(n_steps, 2, dtype=params0.dtype, device=params0.device)
    for t in range(n_steps):
        opt.zero_grad()
        loss = ((y - p[0] - p[1] * X) ** 2).mean()
        loss.backward()
        opt.step()
        out[t] = p.detach()
    return out


class LR(nn.Module):
    def __init__(self, b0=1.0, w0=1.5):
        super().__init__()
        self.b = nn.Parameter(torch.tensor(float(b0), dtype=torch.float64))
        self.w = nn.Parameter(torch.tensor(float(w0), dtype=torch.float64))

    def forward(self, x):
        return self.w * x + self.b


class BetterLR(nn.Module):
    def __init__(self, b0=1.0, w0=1.5):
        super().__init__()
        self.linear = nn.Linear(1, 1).double()
        with torch.no_grad():
            self.linear.weight.fill_(w0)
            self.linear.bias.fill_(b0)

    def forward(self, x):
        return self.linear(x)


def train_model(model, X, y, lr, n_epochs):
    criterion = nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    snapshots = []
    for epoch in range(n_epochs):
        model.train()
        loss = criterion(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        snapshots.append(nn.utils.parameters_to_vector(model.parameters()).detach().clone())
    return torch.stack(snapshots)
