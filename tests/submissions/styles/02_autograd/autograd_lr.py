import torch
import torch.nn as nn


def autograd_grad(params, X, y):
    p = params.clone().detach().requires_grad_()
    loss = torch.mean((y - (p[0] + p[1] * X)) ** 2)
    loss.backward()
    return p.grad


def autograd_gd(params0, X, y, lr, n_steps):
    b = torch.tensor(params0[0].item(), dtype=torch.float64, device=X.device, requires_grad=True)
    w = torch.tensor(params0[1].item(), dtype=torch.float64, device=X.device, requires_grad=True)
    plist = []
    for _ in range(n_steps):
        loss = ((y - b - w * X) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            b -= lr * b.grad
            w -= lr * w.grad
        b.grad.zero_()
        w.grad.zero_()
        plist.append([b.item(), w.item()])
    return torch.tensor(plist, dtype=torch.float64)


def optimizer_gd(params0, X, y, lr, n_steps):
    b = params0[0].clone().requires_grad_(True)
    w = params0[1].clone().requires_grad_(True)
    optimizer = torch.optim.SGD([b, w], lr=lr)
    plist = []
    for _ in range(n_steps):
        loss = ((y - b - w * X) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        plist.append(torch.stack([b, w]).detach())
    return torch.stack(plist)


class LR(nn.Module):
    def __init__(self, b0=1.0, w0=1.5):
        super().__init__()
        self.b = nn.Parameter(torch.tensor(b0, dtype=torch.float64))
        self.w = nn.Parameter(torch.tensor(w0, dtype=torch.float64))

    def forward(self, x):
        return self.b + self.w * x


class BetterLR(nn.Module):
    def __init__(self, b0=1.0, w0=1.5):
        super().__init__()
        self.linear = nn.Linear(1, 1).double()
        self.linear.bias.data = torch.tensor([b0], dtype=torch.float64)
        self.linear.weight.data = torch.tensor([[w0]], dtype=torch.float64)

    def forward(self, x):
        return self.linear(x)


def train_model(model, X, y, lr, n_epochs):
    loss_fn = nn.MSELoss(reduction="mean")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    history = []
    for epoch in range(n_epochs):
        model.train()
        yhat = model(X)
        loss = loss_fn(yhat, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        history.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    return torch.stack(history)
