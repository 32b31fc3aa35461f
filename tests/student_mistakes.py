"""Mistakes written the way students write them (issue 15): a definition rewritten in another
style, not a one-token edit of the reference, and none of them a catalogue entry's own text.

Each entry: the assignment, the definitions the student wrote (whole ``def``/``class`` blocks
that replace the reference's), the contract names that must lose points, and for each of those
the words its hint must contain (any one of the alternatives, case-insensitive). ``source``
says what should find the cause: ``generic`` (the numbers, the case, the submission's own
code) or ``catalogue`` (an entry of the course's catalogue met through another writing).

Used by ``tests/test_student_mistakes.py`` (each must be named) and by
``bench/bench_diagnosis.py`` (the share named and the hints that blame the wrong function).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StudentMistake:
    id: str
    folder: str
    code: str
    """Whole top-level definitions that replace the reference's of the same names."""
    broken: frozenset
    words: dict = field(hash=False)
    """contract name -> tuple of alternatives, one of which its hint must contain."""
    source: str = "generic"


def rewrite(source: str, code: str) -> str:
    """``source`` with each top-level definition of ``code`` put in place of the one of the
    same name (appended where the reference has none)."""
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    spans = {node.name: (node.lineno - 1 - len(node.decorator_list), node.end_lineno)
             for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    new = {node.name: ast.get_source_segment(code, node, padded=False)
           for node in ast.parse(code).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    extra = [n for n in new if n not in spans]
    for name, (start, end) in sorted(spans.items(), key=lambda kv: -kv[1][0]):
        if name in new:
            lines[start:end] = [new[name] + "\n"]
    imports = "".join(ln + "\n" for ln in code.splitlines() if ln.startswith(("import ", "from ")))
    return imports + "".join(lines) + "".join("\n\n" + new[n] + "\n" for n in extra)


def _m(id, folder, code, broken, words, source="generic"):
    return StudentMistake(id, folder, code.strip("\n") + "\n", frozenset(broken),
                          {k: (v,) if isinstance(v, str) else tuple(v) for k, v in words.items()},
                          source)


GD, AG, DS, CF, MD, NW = ("01_gradient_descent", "02_autograd", "03_dataset",
                          "04_custom_function", "05_models", "06_networks")

MISTAKES = (
    # ------------------------------------------------------------------ 01: NumPy by hand
    _m("loss summed over the points", GD, '''
def mse_loss(params, X, y):
    errors = (params[0] + params[1] * X) - y
    return float(np.sum(errors ** 2))
''', {"mse_loss"}, {"mse_loss": "sum where a mean"}),
    _m("loss as the square of the mean error", GD, '''
def mse_loss(params, X, y):
    err = y - predict(params, X)
    return float(err.mean() ** 2)
''', {"mse_loss"}, {"mse_loss": "mean of the squared"}, "catalogue"),
    _m("precedence slip in dJ/dw only", GD, '''
def mse_grad(params, X, y):
    b, w = params
    db = -2 * np.mean(y - b - w * X)
    dw = -2 * np.mean(X * y - b - w * X)
    return np.array([db, dw])
''', {"mse_grad", "minibatch_gd"}, {
        "mse_grad": "only entry [1]", "gradient_descent": "judged on its own",
        "minibatch_gd": "mse_grad"}),
    _m("sign of dJ/dw flipped", GD, '''
def mse_grad(params, X, y):
    b, w = params[0], params[1]
    r = y - (b + w * X)
    return np.array([-2 * r.mean(), 2 * (r * X).mean()])
''', {"mse_grad", "minibatch_gd"}, {"mse_grad": ("only entry [1]",),
                                     "minibatch_gd": "mse_grad"}),
    _m("factor 2 missing in dJ/dw only", GD, '''
def mse_grad(params, X, y):
    b, w = params[0], params[1]
    r = y - (b + w * X)
    return np.array([-2 * r.mean(), -(r * X).mean()])
''', {"mse_grad", "minibatch_gd"}, {"mse_grad": "half the expected", "minibatch_gd": "mse_grad"}),
    _m("n_steps + 1 rows", GD, '''
def gradient_descent(params0, X, y, lr, n_steps):
    params = np.copy(params0).astype(float)
    history = []
    for step in range(n_steps + 1):
        params = params - lr * mse_grad(params, X, y)
        history.append(params.copy())
    return np.array(history)
''', {"gradient_descent"}, {"gradient_descent": "one row too many"}),
    _m("update inside the printing condition", GD, '''
def gradient_descent(params0, X, y, lr, n_steps):
    p = np.array(params0, dtype=float)
    out = []
    for t in range(n_steps):
        grad = mse_grad(p, X, y)
        if t % 100 == 99:
            print("step", t, mse_loss(p, X, y))
            p = p - lr * grad
        out.append(p.copy())
    return np.array(out)
''', {"gradient_descent"}, {"gradient_descent": ("never change", "only every")}),
    _m("update with the loss, written inline", GD, '''
def gradient_descent(params0, X, y, lr, n_steps):
    p = np.array(params0, dtype=float)
    traj = np.zeros((n_steps, 2))
    for i in range(n_steps):
        loss = mse_loss(p, X, y)
        p = p - lr * loss
        traj[i] = p
    return traj
''', {"gradient_descent"}, {"gradient_descent": "instead of its gradient"}, "catalogue"),
    _m("make_batches shuffles with the global np.random", GD, '''
def make_batches(n, batch_size, rng=None):
    idx = np.arange(n)
    if rng is not None:
        np.random.shuffle(idx)
    return [idx[i:i + batch_size] for i in range(0, n, batch_size)]
''', {"make_batches"}, {"make_batches": "random generator passed"}),
    _m("make_batches shuffles the order of the batches", GD, '''
def make_batches(n, batch_size, rng=None):
    chunks = [np.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    if rng is not None:
        order = rng.permutation(len(chunks))
        chunks = [chunks[k] for k in order]
    return chunks
''', {"make_batches"}, {"make_batches": "consecutive"}),
    _m("make_batches drops the last, shorter batch", GD, '''
def make_batches(n, batch_size, rng=None):
    idx = rng.permutation(n) if rng is not None else np.arange(n)
    return [idx[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]
''', {"make_batches"}, {"make_batches": "last"}),
    _m("one update per epoch, from the last batch", GD, '''
def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    p = np.array(params0, dtype=float)
    rows = []
    for epoch in range(n_epochs):
        for idx in batches:
            g = mse_grad(p, X[idx], y[idx])
        p = p - lr * g
        rows.append(p)
    return np.array(rows)
''', {"minibatch_gd"}, {"minibatch_gd": "last batch"}),
    _m("a row per batch instead of per epoch", GD, '''
def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    p = np.array(params0, dtype=float)
    rows = []
    for epoch in range(n_epochs):
        for idx in batches:
            p = p - lr * mse_grad(p, X[idx], y[idx])
            rows.append(p)
    return np.array(rows)
''', {"minibatch_gd"}, {"minibatch_gd": "every 1 in"}),
    _m("predict with the parameters swapped", GD, '''
def predict(params, X):
    w, b = params
    return w * X + b
''', {"predict"}, {"predict": "[w, b]"}, "catalogue"),
    # ------------------------------------------------------------------ 02: autograd
    _m("autograd loss summed", AG, '''
def autograd_grad(params, X, y):
    params = params.clone().detach().requires_grad_()
    loss = torch.sum((params[0] + params[1] * X - y) ** 2)
    loss.backward()
    return params.grad
''', {"autograd_grad"}, {"autograd_grad": "sum where a mean"}),
    _m("optimizer.step() missing", AG, '''
def optimizer_gd(params0, X, y, lr, n_steps):
    params = params0.clone().detach().requires_grad_(True)
    opt = torch.optim.SGD([params], lr=lr)
    out = []
    for _ in range(n_steps):
        opt.zero_grad()
        loss = torch.mean((y - params[0] - params[1] * X) ** 2)
        loss.backward()
        out.append(params.detach().clone())
    return torch.stack(out)
''', {"optimizer_gd"}, {"optimizer_gd": "never change"}),
    _m("autograd_gd records before the update", AG, '''
def autograd_gd(params0, X, y, lr, n_steps):
    b = params0[0].clone().detach().requires_grad_(True)
    w = params0[1].clone().detach().requires_grad_(True)
    rows = []
    for _ in range(n_steps):
        rows.append(torch.stack([b.detach().clone(), w.detach().clone()]))
        loss = ((b + w * X - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            b -= lr * b.grad
            w -= lr * w.grad
            b.grad.zero_()
            w.grad.zero_()
    return torch.stack(rows)
''', {"autograd_gd"}, {"autograd_gd": "one step behind"}),
    _m("MSELoss with reduction='sum'", AG, '''
def train_model(model, X, y, lr, n_epochs):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.MSELoss(reduction="sum")
    rows = []
    for _ in range(n_epochs):
        opt.zero_grad()
        criterion(model(X), y).backward()
        opt.step()
        rows.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    return torch.stack(rows)
''', {"train_model"}, {"train_model": "reduction"}),
    _m("nn.Linear left in float32", AG, '''
class BetterLR(nn.Module):
    def __init__(self, b0=1.0, w0=1.5):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        with torch.no_grad():
            self.linear.weight.fill_(w0)
            self.linear.bias.fill_(b0)

    def forward(self, x):
        return self.linear(x)
''', {"BetterLR"}, {"BetterLR": "float32"}),
    _m("parameters kept as plain tensors", AG, '''
class LR(nn.Module):
    def __init__(self, b0=1.0, w0=1.5):
        super().__init__()
        self.b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
        self.w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)

    def forward(self, x):
        return self.b + self.w * x
''', {"LR"}, {"LR": "nn.Parameter"}),
    # ------------------------------------------------------------------ 03: datasets
    _m("__len__ one short", DS, '''
class LRDataset(Dataset):
    def __init__(self, data_points):
        self.points = torch.tensor(data_points, dtype=torch.float32)

    def __len__(self):
        return len(self.points) - 1

    def __getitem__(self, index):
        x, y = self.points[index]
        return x, y
''', {"LRDataset"}, {"LRDataset": "len"}, "catalogue"),
    _m("items as NumPy arrays", DS, '''
import numpy as np


class MyData(Dataset):
    def __init__(self, x, y):
        self.x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
        self.y = np.asarray(y, dtype=np.float64).reshape(-1, 1)

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, i):
        return self.x[i], self.y[i]
''', {"MyData"}, {"MyData": "numpy"}, "catalogue"),
    # ------------------------------------------------------------------ 04: custom Function
    _m("a wrong backward, seen from fit_sine", CF, '''
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x ** 2 - 3)
''', {"LegendrePolynomial3", "fit_sine"}, {"LegendrePolynomial3": "gradcheck",
                                            "fit_sine": "LegendrePolynomial3"}),
    _m("the model a * b * P3", CF, '''
def fit_sine(x, y, params0, lr, n_steps):
    a, b, c, d = [params0[i].clone().detach().requires_grad_(True) for i in range(4)]
    P3 = LegendrePolynomial3.apply
    traj = []
    for t in range(n_steps):
        loss = (a * b * P3(c + d * x) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad.zero_()
        traj.append(torch.stack([a.detach().clone(), b.detach().clone(),
                                 c.detach().clone(), d.detach().clone()]))
    return torch.stack(traj)
''', {"fit_sine"}, {"fit_sine": "a * b"}, "catalogue"),
    _m("poly_grads averaged", CF, '''
def poly_grads(params, x, y):
    a, b, c, d = params
    err = a + b * x + c * x ** 2 + d * x ** 3 - y
    powers = np.stack([np.ones_like(x), x, x ** 2, x ** 3])
    return 2 * (powers * err).mean(axis=1)
''', {"poly_grads"}, {"poly_grads": "divided by N"}),
    # ------------------------------------------------------------------ 05: models
    _m("matrix_grad without 1/n", MD, '''
def matrix_grad(theta, X, y):
    residual = X @ theta - y
    return 2 * X.T.dot(residual)
''', {"matrix_grad"}, {"matrix_grad": "sum where a mean"}),
    _m("matrix_gd halves the step", MD, '''
def matrix_gd(theta0, X, y, lr, n_steps):
    theta = theta0.astype(float).copy()
    out = np.empty((n_steps, theta.size))
    for k in range(n_steps):
        theta -= 0.5 * lr * matrix_grad(theta, X, y)
        out[k] = theta
    return out
''', {"matrix_gd"}, {"matrix_gd": "half"}),
    _m("closed_form returns [b1, b0]", MD, '''
def closed_form(x, y):
    xm, ym = np.mean(x), np.mean(y)
    slope = ((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum()
    return np.array([slope, ym - slope * xm])
''', {"closed_form"}, {"closed_form": "order"}),
    _m("BCELoss with reduction='sum'", MD, '''
def train_logistic(model, X, y, lr, n_epochs):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    bce = nn.BCELoss(reduction="sum")
    history = []
    for epoch in range(n_epochs):
        opt.zero_grad()
        loss = bce(model(X), y)
        history.append(loss.item())
        loss.backward()
        opt.step()
    return torch.tensor(history)
''', {"train_logistic"}, {"train_logistic": "reduction"}),
    _m("loss recorded after the step", MD, '''
def train_logistic(model, X, y, lr, n_epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.BCELoss()
    recorded = []
    for _ in range(n_epochs):
        optimizer.zero_grad()
        criterion(model(X), y).backward()
        optimizer.step()
        with torch.no_grad():
            recorded.append(criterion(model(X), y))
    return torch.stack(recorded)
''', {"train_logistic"}, {"train_logistic": ("before its step", "one step ahead")}, "catalogue"),
    _m("accuracy as a count", MD, '''
def accuracy(model, X, y):
    with torch.no_grad():
        guess = (model(X) > 0.5).float()
    return float((guess == y).sum())
''', {"accuracy"}, {"accuracy": "N times"}),
    # ------------------------------------------------------------------ 06: networks
    _m("softmax normalised down the columns", NW, '''
def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    ez = np.exp(z)
    return ez / ez.sum(axis=0)
''', {"softmax"}, {"softmax": "row"}, "catalogue"),
    _m("train_net loss summed", NW, '''
def train_net(model, X, y, lr, n_epochs):
    out = []
    for epoch in range(n_epochs):
        loss = torch.sum((model(X) - y) ** 2)
        out.append(loss.item())
        loss.backward()
        sgd_step(model, lr)
    return torch.tensor(out, dtype=torch.float64)
''', {"train_net"}, {"train_net": ("sum", "reduction")}, "catalogue"),
)


# Written after the generic diagnoses above were built, to measure them on mistakes they were
# not made from (bench/bench_diagnosis.py reports this set apart; it is not a test: a miss
# here is a measurement, not a failure).
HELD_OUT = (
    _m("dJ/db with the sign flipped", GD, '''
def mse_grad(params, X, y):
    b, w = params
    r = y - b - w * X
    return np.array([2 * np.mean(r), -2 * np.mean(r * X)])
''', {"mse_grad", "minibatch_gd"}, {"mse_grad": "only entry [0]", "minibatch_gd": "mse_grad"}),
    _m("the root of the mean squared error", GD, '''
def mse_loss(params, X, y):
    return float(np.sqrt(np.mean((y - params[0] - params[1] * X) ** 2)))
''', {"mse_loss"}, {"mse_loss": ("square root", "sqrt")}),
    _m("every mini-batch step on the whole data", GD, '''
def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    p = np.array(params0, dtype=float)
    rows = []
    for _ in range(n_epochs):
        for idx in batches:
            p = p - lr * mse_grad(p, X, y)
        rows.append(p.copy())
    return np.array(rows)
''', {"minibatch_gd"}, {"minibatch_gd": ("whole", "all the samples", "batch")}),
    _m("gradients never zeroed with the optimizer", AG, '''
def optimizer_gd(params0, X, y, lr, n_steps):
    w = params0.clone().detach().requires_grad_(True)
    sgd = torch.optim.SGD([w], lr=lr)
    hist = []
    for step in range(n_steps):
        J = torch.mean((w[0] + w[1] * X - y) ** 2)
        J.backward()
        sgd.step()
        hist.append(w.detach().clone())
    return torch.stack(hist)
''', {"optimizer_gd"}, {"optimizer_gd": "zero"}),
    _m("half the summed squared error", AG, '''
def train_model(model, X, y, lr, n_epochs):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    out = []
    for _ in range(n_epochs):
        opt.zero_grad()
        loss = 0.5 * ((model(X) - y) ** 2).sum()
        loss.backward()
        opt.step()
        out.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    return torch.stack(out)
''', {"train_model"}, {"train_model": ("N/2", "sum")}),
    _m("items in float64", DS, '''
import numpy as np


class LRDataset(Dataset):
    def __init__(self, data_points):
        self.xy = torch.from_numpy(np.asarray(data_points))

    def __len__(self):
        return self.xy.shape[0]

    def __getitem__(self, k):
        return self.xy[k][0], self.xy[k][1]
''', {"LRDataset"}, {"LRDataset": "float32"}),
    _m("poly_grads with every sign flipped", CF, '''
def poly_grads(params, x, y):
    a, b, c, d = params
    r = y - (a + b * x + c * x ** 2 + d * x ** 3)
    return np.array([np.sum(2 * r * x ** k) for k in range(4)])
''', {"poly_grads"}, {"poly_grads": "negative"}),
    _m("fit_poly records before the update", CF, '''
def fit_poly(params0, x, y, lr, n_steps):
    p = np.array(params0, dtype=float)
    hist = []
    for _ in range(n_steps):
        hist.append(p.copy())
        p -= lr * poly_grads(p, x, y)
    return np.array(hist)
''', {"fit_poly"}, {"fit_poly": "one step behind"}),
    _m("matrix_grad divides by the number of columns", MD, '''
def matrix_grad(theta, X, y):
    n = X.shape[1]
    return (2 / n) * X.T @ (X @ theta - y)
''', {"matrix_grad"}, {"matrix_grad": ("factor", "constant")}),
    _m("closed_form without centring", MD, '''
def closed_form(x, y):
    b1 = np.sum(x * y) / np.sum(x * x)
    return np.array([np.mean(y) - b1 * np.mean(x), b1])
''', {"closed_form"}, {"closed_form": ("centr", "mean")}),
    _m("sgd_step rebinds the parameter", NW, '''
def sgd_step(model, lr):
    with torch.no_grad():
        for p in model.parameters():
            p = p - lr * p.grad
            p.grad = None
''', {"sgd_step", "train_net"}, {"sgd_step": ("in place", "rebind", "name")}),
    _m("softmax without the max shift, written with exp of the input", NW, '''
def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1)[:, None]
''', {"softmax"}, {"softmax": ("max", "overflow")}),
    # a second batch, written after the dtype, registration and missing-part findings
    _m("every step along the starting gradient", GD, '''
def gradient_descent(params0, X, y, lr, n_steps):
    g = mse_grad(params0, X, y)
    p = np.array(params0, dtype=float)
    out = []
    for _ in range(n_steps):
        p = p - lr * g
        out.append(p)
    return np.array(out)
''', {"gradient_descent"}, {"gradient_descent": ("starting", "first gradient", "recomput")}),
    _m("items as one row tensor", DS, '''
class LRDataset(Dataset):
    def __init__(self, data_points):
        self.rows = torch.tensor(data_points, dtype=torch.float32)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]
''', {"LRDataset"}, {"LRDataset": ("pair", "tuple", "(x, y)")}),
    _m("mse_grad divides by N - 1", GD, '''
def mse_grad(params, X, y):
    b, w = params
    r = y - b - w * X
    n = len(X) - 1
    return np.array([-2 * r.sum() / n, -2 * (r * X).sum() / n])
''', {"mse_grad", "minibatch_gd"}, {"mse_grad": "N-1", "minibatch_gd": "mse_grad"}),
    _m("trajectory returned transposed", GD, '''
def gradient_descent(params0, X, y, lr, n_steps):
    p = np.array(params0, dtype=float)
    bs, ws = [], []
    for _ in range(n_steps):
        p = p - lr * mse_grad(p, X, y)
        bs.append(p[0])
        ws.append(p[1])
    return np.array([bs, ws])
''', {"gradient_descent"}, {"gradient_descent": "transpose"}),
    _m("matrix_grad with the residual the other way round", MD, '''
def matrix_grad(theta, X, y):
    return 2 / len(y) * X.T @ (y - X @ theta)
''', {"matrix_grad"}, {"matrix_grad": "negative"}),
    # a third batch, written after the dtype, packing and straight-line findings
    _m("only w's gradient cleared", AG, '''
def autograd_gd(params0, X, y, lr, n_steps):
    b = params0[0].clone().detach().requires_grad_(True)
    w = params0[1].clone().detach().requires_grad_(True)
    out = []
    for _ in range(n_steps):
        loss = ((y - b - w * X) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            b -= lr * b.grad
            w -= lr * w.grad
        w.grad.zero_()
        out.append(torch.stack([b.detach().clone(), w.detach().clone()]))
    return torch.stack(out)
''', {"autograd_gd"}, {"autograd_gd": ("zero", "clear", "accumulat")}),
    _m("sgd_step called before backward", NW, '''
def train_net(model, X, y, lr, n_epochs):
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(n_epochs):
        sgd_step(model, lr)
        loss = loss_fn(model(X), y)
        losses.append(loss.detach().clone())
        loss.backward()
    return torch.stack(losses)
''', {"train_net"}, {"train_net": ("backward", "None")}),
    _m("softmax without keepdims", NW, '''
def softmax(z):
    m = np.max(z, axis=1)
    e = np.exp(z - m[:, None])
    return e / np.sum(e, axis=1)
''', {"softmax"}, {"softmax": "keepdims"}),
    _m("nothing saved for backward", CF, '''
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x ** 2 - 1)
''', {"LegendrePolynomial3", "fit_sine"}, {"LegendrePolynomial3": "save_for_backward"}),
    # a fourth batch
    _m("logistic regression without its bias", MD, '''
class LogisticRegression(nn.Module):
    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)

    def forward(self, x):
        return torch.sigmoid(x @ self.linear.weight.T)
''', {"LogisticRegression"}, {"LogisticRegression": "bias"}),
    _m("split_dataset left unseeded", DS, '''
def split_dataset(dataset, val_fraction, seed):
    parts = random_split(dataset, [1 - val_fraction, val_fraction])
    return parts[0], parts[1]
''', {"split_dataset"}, {"split_dataset": ("seed", "generator")}),
    _m("batches reshuffled every epoch", GD, '''
def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    import random
    p = np.array(params0, dtype=float)
    rows = []
    order = list(batches)
    for _ in range(n_epochs):
        random.shuffle(order)
        for idx in order:
            p = p - lr * mse_grad(p, X[idx], y[idx])
        rows.append(p)
    return np.array(rows)
''', {"minibatch_gd"}, {"minibatch_gd": ("order", "shuffle")}),
    # a fifth batch, from the tutorials this course follows
    _m("backward reads the built-in input", CF, '''
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 1.5 * (5 * input ** 2 - 1)
''', {"LegendrePolynomial3", "fit_sine"}, {"LegendrePolynomial3": "saved_tensors"}),
    _m("loss computed once, before the loop", AG, '''
def optimizer_gd(params0, X, y, lr, n_steps):
    p = params0.detach().clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=lr)
    loss = ((y - p[0] - p[1] * X) ** 2).mean()
    path = []
    for _ in range(n_steps):
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(p.detach().clone())
    return torch.stack(path)
''', {"optimizer_gd"}, {"optimizer_gd": ("each step", "every step", "inside the loop")}),
    _m("parameters made on the device, not leaves", AG, '''
def autograd_gd(params0, X, y, lr, n_steps):
    b = params0[0].clone().requires_grad_(True).to(X.device) * 1.0
    w = params0[1].clone().requires_grad_(True).to(X.device) * 1.0
    path = []
    for _ in range(n_steps):
        loss = ((y - b - w * X) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            b -= lr * b.grad
            w -= lr * w.grad
        b.grad.zero_()
        w.grad.zero_()
        path.append(torch.stack([b.detach().clone(), w.detach().clone()]))
    return torch.stack(path)
''', {"autograd_gd"}, {"autograd_gd": ("leaf", "None")}),
    # a sixth batch
    _m("an extra sigmoid at the end of the network", NW, '''
def two_layer_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_hidden, dtype=torch.float64), nn.Sigmoid(),
                         nn.Linear(n_hidden, n_out, dtype=torch.float64), nn.Sigmoid())
''', {"two_layer_net"}, {"two_layer_net": ("sigmoid", "activation")}),
    _m("softmax normalised over the whole array", NW, '''
def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()
''', {"softmax"}, {"softmax": ("row", "axis")}),
    # a seventh batch
    _m("fit_poly climbing the gradient", CF, '''
def fit_poly(params0, x, y, lr, n_steps):
    p = np.array(params0, dtype=float)
    out = []
    for _ in range(n_steps):
        p = p + lr * poly_grads(p, x, y)
        out.append(p)
    return np.array(out)
''', {"fit_poly"}, {"fit_poly": ("uphill", "subtract")}),
    _m("MyData keeps 1-D columns", DS, '''
class MyData(Dataset):
    def __init__(self, x, y):
        self.x = torch.tensor(x, dtype=torch.float64)
        self.y = torch.tensor(y, dtype=torch.float64)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]
''', {"MyData"}, {"MyData": ("dimension", "reshape")}),
    _m("matrix_gd always at the starting theta", MD, '''
def matrix_gd(theta0, X, y, lr, n_steps):
    theta = np.array(theta0, dtype=float)
    path = []
    for _ in range(n_steps):
        theta = theta - lr * matrix_grad(theta0, X, y)
        path.append(theta)
    return np.array(path)
''', {"matrix_gd"}, {"matrix_gd": "same step"}),
    # an eighth batch
    _m("gradient_descent returns only the final parameters", GD, '''
def gradient_descent(params0, X, y, lr, n_steps):
    params = np.array(params0, dtype=float)
    for _ in range(n_steps):
        params = params - lr * mse_grad(params, X, y)
    return params
''', {"gradient_descent"}, {"gradient_descent": ("last", "final", "every step")}),
    _m("predict without the intercept", GD, '''
def predict(params, X):
    return params[1] * X
''', {"predict"}, {"predict": ("constant", "intercept", "offset")}),
    _m("mse_loss returns the squared errors, not their mean", GD, '''
def mse_loss(params, X, y):
    return (y - predict(params, X)) ** 2
''', {"mse_loss"}, {"mse_loss": ("mean", "average")}),
    _m("train_minibatch steps once per epoch", DS, '''
def train_minibatch(model, loader, lr, n_epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    path = []
    for _ in range(n_epochs):
        optimizer.zero_grad()
        for xb, yb in loader:
            loss_fn(model(xb), yb).backward()
        optimizer.step()
        path.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    return torch.stack(path)
''', {"train_minibatch"}, {"train_minibatch": ("per batch", "each batch", "once per epoch")}),
    _m("logistic regression through a softmax", MD, '''
class LogisticRegression(nn.Module):
    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)

    def forward(self, x):
        return torch.softmax(self.linear(x), dim=1)
''', {"LogisticRegression"}, {"LogisticRegression": ("same value", "normalised", "activation")}),
    _m("a ReLU where the network has a sigmoid", NW, '''
def two_layer_net(n_in, n_hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, n_hidden, dtype=torch.float64), nn.ReLU(),
                         nn.Linear(n_hidden, n_out, dtype=torch.float64))
''', {"two_layer_net"}, {"two_layer_net": ("sigmoid", "activation", "relu")}),
    # a ninth batch
    _m("backward forgets grad_output", CF, '''
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 1.5 * (5 * x ** 2 - 1)
''', {"LegendrePolynomial3", "fit_sine"},
       {"LegendrePolynomial3": ("grad_output",), "fit_sine": ("LegendrePolynomial3",)}),
    _m("accuracy counts the wrong rows", MD, '''
def accuracy(model, X, y):
    with torch.no_grad():
        guess = (model(X) >= 0.5).float()
    return float((guess != y).float().mean())
''', {"accuracy"}, {"accuracy": ("one minus", "1 -", "complement")}),
    _m("make_batches draws indices with replacement", GD, '''
def make_batches(n, batch_size, rng=None):
    idx = np.arange(n) if rng is None else rng.choice(n, size=n)
    return [idx[k:k + batch_size] for k in range(0, n, batch_size)]
''', {"make_batches"}, {"make_batches": ("replacement", "twice", "repeat", "permutation")}),
    _m("closed_form from np.cov and np.var", MD, '''
def closed_form(x, y):
    b1 = np.cov(x, y)[0, 1] / np.var(x)
    b0 = np.mean(y) - b1 * np.mean(x)
    return np.array([b0, b1])
''', {"closed_form"}, {"closed_form": ("N/(N-1)", "ddof", "N-1")}),
)
