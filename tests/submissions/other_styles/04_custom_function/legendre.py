import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x ** 2 - 1)


def fit_sine(x, y, params0, lr, n_steps):
    a, b, c, d = (params0[i].detach().clone().requires_grad_(True) for i in range(4))
    P3 = LegendrePolynomial3.apply
    opt = torch.optim.SGD([a, b, c, d], lr=lr)
    traj = []
    for _ in range(n_steps):
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        traj.append([a.item(), b.item(), c.item(), d.item()])
    return np.array(traj)


def poly_grads(params, x, y):
    V = np.vander(x, 4, increasing=True)
    return 2.0 * V.T @ (V @ np.asarray(params, dtype=float) - y)


def fit_poly(params0, x, y, lr, n_steps):
    p = np.array(params0, dtype=np.float64)
    rows = []
    for _ in range(n_steps):
        p = p - lr * poly_grads(p, x, y)
        rows.append(p)
    return np.array(rows)
