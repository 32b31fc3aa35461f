import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def fit_sine(x, y, params0, lr, n_steps):
    dtype, device = x.dtype, x.device
    a = torch.full((), params0[0].item(), dtype=dtype, device=device, requires_grad=True)
    b = torch.full((), params0[1].item(), dtype=dtype, device=device, requires_grad=True)
    c = torch.full((), params0[2].item(), dtype=dtype, device=device, requires_grad=True)
    d = torch.full((), params0[3].item(), dtype=dtype, device=device, requires_grad=True)
    P3 = LegendrePolynomial3.apply
    traj = []
    for t in range(n_steps):
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= lr * a.grad
            b -= lr * b.grad
            c -= lr * c.grad
            d -= lr * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
        traj.append([a.item(), b.item(), c.item(), d.item()])
    return torch.tensor(traj, dtype=dtype)


def poly_grads(params, x, y):
    a, b, c, d = params
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    grad_y_pred = 2.0 * (y_pred - y)
    return np.array([grad_y_pred.sum(), (grad_y_pred * x).sum(),
                     (grad_y_pred * x ** 2).sum(), (grad_y_pred * x ** 3).sum()])


def fit_poly(params0, x, y, lr, n_steps):
    params = np.array(params0, dtype=float)
    history = np.zeros((n_steps, 4))
    for t in range(n_steps):
        params = params - lr * poly_grads(params, x, y)
        history[t] = params
    return history
