"""A class of twenty for similarity tests, written the way students write (01 only).

Everyone starts from the stub and picks their own way of writing each function (one of several
styles, a different mix for each student); two students paste the same helper from the course
notes. ``ana`` wrote a wrong solution of her own and ``bea`` copied it, renamed every variable,
reformatted it and added comments; ``cal`` and ``dev`` independently made the catalogue's
"sum instead of mean" mistake in ``mse_grad``, each in their own style; ``eli`` and ``fay``
pasted the same helper from the course notes; ``uma`` and ``vic`` handed in the stub.
"""
from __future__ import annotations

import itertools
import random
from pathlib import Path

HEADER = '"""Linear regression by hand."""\nimport numpy as np\n\n'
NOTES_HELPER = '''

def standardise(values):
    """From the course notes: centre and scale a feature before fitting it."""
    values = np.asarray(values, dtype=np.float64)
    centred = values - values.mean()
    spread = centred.std() if centred.std() > 0 else 1.0
    return centred / spread
'''

PREDICT = [
    "def predict(params, X):\n    b, w = params\n    return b + w * X\n",
    "def predict(params, X):\n    return params[0] + params[1] * X\n",
    "def predict(params, X):\n    intercept = params[0]\n    slope = params[1]\n"
    "    y_hat = slope * X + intercept\n    return y_hat\n",
    "def predict(params, X):\n    p = np.asarray(params, dtype=np.float64)\n"
    "    return p[0] + p[1] * np.asarray(X)\n",
]
LOSS = [
    "def mse_loss(params, X, y):\n    err = y - predict(params, X)\n"
    "    return float(np.mean(err ** 2))\n",
    "def mse_loss(params, X, y):\n    b, w = params\n"
    "    return float(((b + w * X - y) ** 2).sum() / len(y))\n",
    "def mse_loss(params, X, y):\n    squares = [(yi - (params[0] + params[1] * xi)) ** 2 "
    "for xi, yi in zip(X, y)]\n    return float(sum(squares) / len(squares))\n",
    "def mse_loss(params, X, y):\n    diff = predict(params, X) - y\n"
    "    return float(np.dot(diff, diff) / diff.size)\n",
]
# {n} is the divisor a correct gradient uses; the "sum instead of mean" students drop it.
GRAD = [
    "def mse_grad(params, X, y):\n    b, w = params\n    r = b + w * X - y\n"
    "    return np.array([2 * r.sum(){n}, 2 * (r * X).sum(){n}])\n",
    "def mse_grad(params, X, y):\n    n = len(X)\n    err = predict(params, X) - y\n"
    "    db = 2.0 * np.sum(err){n}\n    dw = 2.0 * np.sum(err * X){n}\n"
    "    return np.array([db, dw], dtype=np.float64)\n",
    "def mse_grad(params, X, y):\n    A = np.column_stack([np.ones_like(X), X])\n"
    "    theta = np.asarray(params, dtype=np.float64)\n"
    "    return 2 * A.T @ (A @ theta - y){n}\n",
    "def mse_grad(params, X, y):\n    g = np.zeros(2)\n    for xi, yi in zip(X, y):\n"
    "        e = params[0] + params[1] * xi - yi\n        g[0] += 2 * e\n"
    "        g[1] += 2 * e * xi\n    return g{n}\n",
]
DIVISOR = [" / len(X)", " / n", " / X.shape[0]", " / len(X)"]
DESCENT = [
    "def gradient_descent(params0, X, y, lr, n_steps):\n"
    "    p = np.array(params0, dtype=float)\n    out = np.zeros((n_steps, 2))\n"
    "    for t in range(n_steps):\n        p = p - lr * mse_grad(p, X, y)\n        out[t] = p\n"
    "    return out\n",
    "def gradient_descent(params0, X, y, lr, n_steps):\n"
    "    params = np.copy(params0).astype(np.float64)\n    history = []\n"
    "    for _ in range(n_steps):\n        g = mse_grad(params, X, y)\n"
    "        params = params - lr * g\n        history.append(params.copy())\n"
    "    return np.vstack(history)\n",
    "def gradient_descent(params0, X, y, lr, n_steps):\n    step = 0\n"
    "    current = np.asarray(params0, dtype=np.float64).copy()\n    rows = []\n"
    "    while step < n_steps:\n        current -= lr * mse_grad(current, X, y)\n"
    "        rows.append(current.copy())\n        step += 1\n    return np.array(rows)\n",
]
BATCHES = [
    "def make_batches(n, batch_size, rng=None):\n"
    "    idx = np.arange(n) if rng is None else rng.permutation(n)\n"
    "    return [idx[i:i + batch_size] for i in range(0, n, batch_size)]\n",
    "def make_batches(n, batch_size, rng=None):\n    order = np.arange(n)\n"
    "    if rng is not None:\n        order = rng.permutation(n)\n    batches = []\n"
    "    start = 0\n    while start < n:\n        batches.append(order[start:start + batch_size])\n"
    "        start += batch_size\n    return batches\n",
    "def make_batches(n, batch_size, rng=None):\n"
    "    perm = rng.permutation(n) if rng is not None else np.arange(n)\n"
    "    n_chunks = int(np.ceil(n / batch_size))\n"
    "    return [perm[k * batch_size:(k + 1) * batch_size] for k in range(n_chunks)]\n",
]
MINIBATCH = [
    "def minibatch_gd(params0, X, y, lr, n_epochs, batches):\n"
    "    p = np.array(params0, dtype=np.float64)\n    path = []\n"
    "    for _ in range(n_epochs):\n        for idx in batches:\n"
    "            p = p - lr * mse_grad(p, X[idx], y[idx])\n        path.append(p)\n"
    "    return np.array(path)\n",
    "def minibatch_gd(params0, X, y, lr, n_epochs, batches):\n"
    "    theta = np.asarray(params0, dtype=np.float64).copy()\n"
    "    out = np.empty((n_epochs, 2))\n    for epoch in range(n_epochs):\n"
    "        for batch in batches:\n            Xb, yb = X[batch], y[batch]\n"
    "            theta = theta - lr * mse_grad(theta, Xb, yb)\n        out[epoch] = theta\n"
    "    return out\n",
]

ANA = '''"""Linear regression by hand."""
import numpy as np


def predict(params, X):
    b, w = params
    return b + w * X


def mse_loss(params, X, y):
    b, w = params
    residual = y - b - w * X
    return float(np.mean(residual ** 2))


def mse_grad(params, X, y):
    b, w = params
    residual = b + w * X - y
    slope_part = 2 * np.sum(residual * X) / (len(X) - 1)
    return np.array([2 * np.mean(residual), slope_part])


def gradient_descent(params0, X, y, lr, n_steps):
    p = np.array(params0, dtype=np.float64)
    path = np.zeros((n_steps, 2))
    for t in range(n_steps):
        p = p - lr / (1 + 0.01 * t) * mse_grad(p, X, y)
        path[t] = p
    return path


def make_batches(n, batch_size, rng=None):
    order = np.arange(n) if rng is None else rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def minibatch_gd(params0, X, y, lr, n_epochs, batches):
    p = np.array(params0, dtype=np.float64)
    rows = []
    for epoch in range(n_epochs):
        for idx in batches:
            p = p - lr * mse_grad(p, X[idx], y[idx])
        rows.append(p.copy())
    return np.array(rows)
'''

RENAMES = [("residual", "err_vec"), ("slope_part", "gw"), ("order", "perm_idx"),
           ("rows", "history"), ("path", "traj"), ("epoch", "ep"), ("idx", "sel")]


def bea_copy(source: str) -> str:
    """Ana's file renamed, reformatted and commented: what a copier hands in."""
    for old, new in RENAMES:
        source = source.replace(old, new)
    out = []
    for line in source.splitlines():
        if line.startswith("def "):
            out.append(f"# --- {line[4:line.index('(')]} ---")
        out.append(line.replace(" * ", "*").replace(" - ", "-").replace(", ", ","))
        if line.strip().startswith("return"):
            out.append("")
    return "\n".join(out) + "\n"


def own(choice: tuple[int, ...], mean: bool = True, notes: bool = False) -> str:
    p, l, g, d, b, m = choice
    parts = [PREDICT[p], LOSS[l], GRAD[g].replace("{n}", DIVISOR[g] if mean else ""),
             DESCENT[d], BATCHES[b], MINIBATCH[m]]
    return HEADER + "\n\n".join(parts) + (NOTES_HELPER if notes else "")


NAMES = ["ana", "bea", "cal", "dev", "eli", "fay", "gus", "hal", "ivy", "jon", "kim", "lou",
         "max", "ned", "oli", "pat", "quinn", "ray", "sam", "tia"]
STUB_ONLY = ["uma", "vic"]
"""Handed in the stub untouched."""


def write_class(root: Path, folder: str, module: str, stub: str, seed: int = 3
                ) -> dict[str, str]:
    """Twenty-two students under ``root``; returns name -> source."""
    rng = random.Random(seed)
    combos = list(itertools.product(range(4), range(4), range(4), range(3), range(3), range(2)))
    rng.shuffle(combos)
    sources = {"ana": ANA, "bea": bea_copy(ANA)}
    styles = iter(combos)
    grad_style: dict[str, int] = {}
    for name in NAMES[2:]:
        choice = next(styles)
        if name == "dev":  # another way of writing the gradient than cal's
            while choice[2] == grad_style["cal"]:
                choice = next(styles)
        grad_style[name] = choice[2]
        sources[name] = own(choice, mean=name not in ("cal", "dev"),
                            notes=name in ("eli", "fay"))
    sources.update({name: stub for name in STUB_ONLY})
    for name, src in sources.items():
        path = root / name / folder / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src)
    return sources



# A section of any size (issue 29): students in their own styles, two who copied a wrong
# solution (the catalogue's "sum instead of mean") and renamed and reformatted it, and three who
# independently made the same mistake the catalogue does not know (n - 1 instead of n).
COPIED = ANA.replace("residual * X) / (len(X) - 1)", "residual * X)").replace(
    "np.mean(residual)", "np.sum(residual)").replace("lr / (1 + 0.01 * t)", "lr")
"""Ana's file with the gradient a sum (no divisor at all), the catalogue's "sum instead of
mean", and no other mistake: everything it gets wrong, the catalogue names."""
MINIBATCH_THIRD = (
    "def minibatch_gd(params0, X, y, lr, n_epochs, batches):\n"
    "    current = np.asarray(params0, dtype=np.float64).copy()\n    kept = []\n"
    "    epoch = 0\n    while epoch < n_epochs:\n        for chosen in batches:\n"
    "            current -= lr * mse_grad(current, X[chosen], y[chosen])\n"
    "        kept.append(current.copy())\n        epoch += 1\n    return np.stack(kept)\n")
TRIO = ["tri_a", "tri_b", "tri_c"]
TRIO_DIVISOR = [" / (len(X) - 1)", " / (n - 1)", " / (X.shape[0] - 1)", " / (len(X) - 1)"]
COPIERS = ["cop_a", "cop_b"]


def section_names(size: int) -> list[str]:
    """The students of a section of ``size``: the copying pair, the trio, then the others."""
    return COPIERS + TRIO + [f"own_{i:02d}" for i in range(size - 5)]


def write_section(root: Path, folder: str, module: str, size: int, seed: int = 5
                  ) -> dict[str, str]:
    """A section of ``size`` students under ``root``; returns name -> source. The trio write
    every function in a style none of the other two uses (they share no code); the others
    pick their own mix of styles. The first n students of a section of 30 are a section of n
    built the same way."""
    rng = random.Random(seed)
    minibatch = MINIBATCH + [MINIBATCH_THIRD]
    sources = {"cop_a": COPIED, "cop_b": bea_copy(COPIED)}
    for i, name in enumerate(TRIO):  # style i of each function: no two of them alike
        grad = GRAD[i].replace("{n}", TRIO_DIVISOR[i])
        parts = [PREDICT[i], LOSS[i], grad, DESCENT[i], BATCHES[i], minibatch[i]]
        if i == 1:  # nor where two functions meet
            parts[3], parts[4] = parts[4], parts[3]
        sources[name] = HEADER + "\n\n".join(parts)
    combos = list(itertools.product(range(4), range(4), range(4), range(3), range(3), range(3)))
    rng.shuffle(combos)
    for name, choice in zip(section_names(size)[5:], combos):
        p, l, g, d, b, m = choice
        parts = [PREDICT[p], LOSS[l], GRAD[g].replace("{n}", DIVISOR[g]), DESCENT[d],
                 BATCHES[b], minibatch[m]]
        sources[name] = HEADER + "\n\n".join(parts)
    for name, src in sources.items():
        path = root / name / folder / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src)
    return sources
