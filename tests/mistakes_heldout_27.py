"""Issue 27's own table of mistakes, written before the repair search and the witnesses existed
and kept apart from ``student_mistakes.py`` (whose entries the diagnoses were tuned to).

Each entry is a mutation of the reference solution, the way learners slip (ideas from public
learners' code: ``np.array_split`` batches, rows that alias one array, a step that skips the
biases, ``len`` of the wrong name, arguments swapped, a ``.clone()`` missing, a keyword argument
dropped or added, ``BCEWithLogitsLoss`` after a sigmoid, a ``.squeeze()`` that broadcasts...).
For each: the contract names that must lose points, the line a fix must touch (a text the
mutated line holds; any of the alternatives), and for each broken name the words a hint that
states the cause would need (any one alternative, case-insensitive).

Used by ``bench/bench_diagnosis.py --table 27`` and ``tests/test_repair.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HeldOutMistake:
    id: str
    folder: str
    replace: tuple
    """(old, new) textual changes to the reference (each must apply)."""
    broken: frozenset
    fix_lines: tuple
    """Texts of the mutated source; a fix must change a line holding one of them."""
    words: dict = field(hash=False)
    """broken contract name -> alternatives, one of which a stated cause must contain."""

    def source(self, reference: str) -> str:
        for old, new in self.replace:
            assert old in reference, f"mutation no longer applies: {old!r}"
            reference = reference.replace(old, new, 1)
        return reference

    def lines(self, reference: str) -> set[int]:
        """The line numbers (1-based) of the mutated source a fix must touch."""
        text = self.source(reference).splitlines()
        return {i + 1 for i, ln in enumerate(text) for f in self.fix_lines if f in ln}


def _m(id, folder, replace, broken, fix_lines, words):
    return HeldOutMistake(id, folder, tuple(replace), frozenset(broken),
                          (fix_lines,) if isinstance(fix_lines, str) else tuple(fix_lines),
                          {k: (v,) if isinstance(v, str) else tuple(v) for k, v in words.items()})


GD, AG, DS, CF, MD, NW = ("01_gradient_descent", "02_autograd", "03_dataset",
                          "04_custom_function", "05_models", "06_networks")

TABLE_27 = (
    _m("make_batches with np.array_split", GD, [(
        "return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
        "return list(np.array_split(order, int(np.ceil(n / batch_size))))")],
       {"make_batches"}, "np.array_split",
       {"make_batches": ("cut points", "array_split", "sizes")}),
    _m("minibatch_gd divides by len(X)", GD, [(
        "            p = p - lr * mse_grad(p, X[idx], y[idx])",
        "            r = y[idx] - p[0] - p[1] * X[idx]\n"
        "            m = len(X)\n"
        "            p = p - lr * np.array([-2 * r.sum() / m, -2 * (r * X[idx]).sum() / m])")],
       {"minibatch_gd"}, "m = len(X)",
       {"minibatch_gd": ("len(idx)", "batch size", "number of samples in the batch")}),
    _m("gradient_descent updates in place and records the same array", GD, [(
        "        p = p - lr * mse_grad(p, X, y)\n        path.append(p)\n    return np.array(path).reshape(n_steps, 2)",
        "        p -= lr * mse_grad(p, X, y)\n        path.append(p)\n    return np.array(path).reshape(n_steps, 2)")],
       {"gradient_descent"}, ("p -= lr * mse_grad(p, X, y)", "path.append(p)"),
       {"gradient_descent": ("same array", "in place", "last row")}),
    _m("gradient_descent with X and y swapped", GD, [(
        "p = p - lr * mse_grad(p, X, y)", "p = p - lr * mse_grad(p, y, X)")],
       {"gradient_descent"}, "mse_grad(p, y, X)",
       {"gradient_descent": ("swapped", "argument order", "order of the arguments")}),
    _m("fit_poly starts from zeros", CF, [(
        "    p = np.array(params0, dtype=np.float64)\n    path = []\n    for _ in range(n_steps):\n"
        "        p = p - lr * poly_grads(p, x, y)",
        "    p = np.zeros(4)\n    path = []\n    for _ in range(n_steps):\n"
        "        p = p - lr * poly_grads(p, x, y)")],
       {"fit_poly"}, "p = np.zeros(4)",
       {"fit_poly": ("params0",)}),
    _m("sgd_step updates the weights only", NW, [(
        "            param -= lr * param.grad\n",
        "            if param.dim() > 1:\n                param -= lr * param.grad\n")],
       {"sgd_step", "train_net"}, "if param.dim() > 1:",
       {"sgd_step": ("bias",), "train_net": ("bias", "sgd_step")}),
    _m("optimizer_gd records detached views", AG, [(
        "        optimizer.step()\n        path.append(p.detach().clone())",
        "        optimizer.step()\n        path.append(p.detach())")],
       {"optimizer_gd"}, "path.append(p.detach())",
       {"optimizer_gd": ("clone", "same tensor", "last row")}),
    _m("train_logistic with BCEWithLogitsLoss", MD, [(
        "loss_fn = nn.BCELoss()", "loss_fn = nn.BCEWithLogitsLoss()")],
       {"train_logistic"}, "BCEWithLogitsLoss",
       {"train_logistic": ("BCEWithLogitsLoss", "sigmoid twice", "logits")}),
    _m("closed_form divides by the mean of dx squared", MD, [(
        "/ np.sum(dx ** 2)", "/ np.mean(dx ** 2)")],
       {"closed_form"}, "np.mean(dx ** 2)",
       {"closed_form": ("mean", "sum")}),
    _m("LRDataset length from shape[1]", DS, [(
        "return self.data.shape[0]", "return self.data.shape[1]")],
       {"LRDataset"}, "self.data.shape[1]",
       {"LRDataset": ("shape[0]", "rows", "number of samples")}),
    _m("MyData builds y from x", DS, [(
        "self.y = torch.as_tensor(y, dtype=torch.float64)",
        "self.y = torch.as_tensor(x, dtype=torch.float64)")],
       {"MyData"}, "self.y = torch.as_tensor(x",
       {"MyData": ("from x", "`x`", "copy of x")}),
    _m("make_loader drops shuffle", DS, [(
        "DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)",
        "DataLoader(dataset, batch_size=batch_size, generator=generator)")],
       {"make_loader"}, "DataLoader(dataset, batch_size=batch_size, generator=generator)",
       {"make_loader": ("shuffle",)}),
    _m("P3 forward with a misplaced parenthesis", CF, [(
        "return 0.5 * (5 * input ** 3 - 3 * input)", "return 0.5 * (5 * input ** 3 - 3) * input")],
       {"LegendrePolynomial3", "fit_sine"}, "0.5 * (5 * input ** 3 - 3) * input",
       {"LegendrePolynomial3": ("parenthes", "your forward computes"),
        "fit_sine": ("LegendrePolynomial3",)}),
    _m("poly_grads with x * 2 for x ** 2", CF, [(
        "(g * x ** 2).sum()", "(g * x * 2).sum()")],
       {"poly_grads"}, "(g * x * 2).sum()",
       {"poly_grads": ("x ** 2", "[2]")}),
    _m("fit_sine on the mean squared error", CF, [(
        "loss = ((y_pred - y) ** 2).sum()", "loss = ((y_pred - y) ** 2).mean()")],
       {"fit_sine"}, "((y_pred - y) ** 2).mean()",
       {"fit_sine": ("mean", "sum")}),
    _m("two_layer_net's second layer from n_in", NW, [(
        "nn.Linear(n_hidden, n_out, dtype=torch.float64)",
        "nn.Linear(n_in, n_out, dtype=torch.float64)")],
       {"two_layer_net"}, "nn.Linear(n_in, n_out",
       {"two_layer_net": ("n_hidden",)}),
    _m("train_net squeezes the predictions", NW, [(
        "loss = loss_fn(model(X), y)", "loss = loss_fn(model(X).squeeze(), y)")],
       {"train_net"}, "model(X).squeeze()",
       {"train_net": ("squeeze", "broadcast", "shape")}),
    _m("autograd_gd steps w with b's gradient", AG, [(
        "w -= lr * w.grad", "w -= lr * b.grad")],
       {"autograd_gd"}, "w -= lr * b.grad",
       {"autograd_gd": ("b.grad", "w.grad")}),
    _m("train_minibatch with momentum", DS, [(
        "    optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n    loss_fn = nn.MSELoss()\n"
        "    path = []\n    for _ in range(n_epochs):\n        for xb, yb in loader:",
        "    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)\n"
        "    loss_fn = nn.MSELoss()\n"
        "    path = []\n    for _ in range(n_epochs):\n        for xb, yb in loader:")],
       {"train_minibatch"}, "momentum=0.9",
       {"train_minibatch": ("momentum",)}),
)
