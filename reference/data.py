"""Data shared by the course's checks: the notes' data sets and random ones for the other
cases. Trusted code, run by the grader (and by a student's self-check, for public cases)."""
from __future__ import annotations

import numpy as np

NOTES_START = np.array([1.0, 1.5])
"""The notes' starting point ``[b, w]``."""


def line_loss(row, inputs: dict) -> float:
    """``J(b, w) = mean((y - b - w*x)**2)`` on a case's data (``args`` = params, X, y, ...);
    X and y may be arrays or tensor markers."""
    X, y = (np.asarray(v["__tensor__"] if isinstance(v, dict) else v, dtype=np.float64)
            for v in inputs["args"][1:3])
    gap = y - (row[0] + row[1] * X)
    return float(gap @ gap) / len(gap)


def notes_regression() -> tuple[np.ndarray, np.ndarray]:
    """The training split of the notes (§5.2): 85 points of ``y = 2.3 + 1.2 x + noise``."""
    state = np.random.RandomState(42)
    X = state.rand(100)
    y = 2.3 + 1.2 * X + state.randn(100) * 0.1
    train = np.random.RandomState(42).permutation(100)[15:]
    return X[train], y[train]


def notes_batches() -> list[np.ndarray]:
    """The notes' mini-batches of 32 over the 85 training points (§5.2.4)."""
    order = np.random.RandomState(42).permutation(85)
    return [order[i:i + 32] for i in range(0, 85, 32)]


LEAST_SQUARES_X = np.array([1.05, 1.54, 2.01, 2.55, 3.13, 3.45, 4.02, 4.65, 5.34, 5.50])
LEAST_SQUARES_Y = np.array([10.3, 15.4, 21.2, 25.4, 30.1, 35.6, 40.5, 43.4, 50.1, 56.6])


def random_regression(rng: np.random.Generator, n: int | None = None):
    """A noisy line with a random intercept and slope."""
    n = int(rng.integers(15, 60)) if n is None else n
    X = rng.uniform(-2.0, 3.0, n)
    b, w = rng.uniform(-3.0, 3.0, 2)
    return X, b + w * X + rng.normal(0.0, 0.3, n)


def far_params(rng: np.random.Generator, k: int = 2) -> np.ndarray:
    """Parameters far from any optimum of the random data."""
    return rng.uniform(-6.0, 6.0, k)


def design_matrix(rng: np.random.Generator):
    """``X`` with a leading column of ones, ``y`` and a starting ``theta`` for 05."""
    n, d = int(rng.integers(20, 50)), int(rng.integers(1, 4))
    features = rng.normal(0.0, 1.0, (n, d))
    X = np.hstack([np.ones((n, 1)), features])
    theta = rng.uniform(-2, 2, d + 1)
    y = X @ theta + rng.normal(0.0, 0.2, n)
    return X, y, rng.uniform(-3, 3, d + 1)


def sine_data(n: int = 2000):
    x = np.linspace(-np.pi, np.pi, n)
    return x, np.sin(x)


def classification(rng: np.random.Generator, n_in: int, n_out: int = 1, n: int = 60):
    """Two blobs labelled 0/1, float32, the default dtype of ``nn.Linear``."""
    labels = rng.integers(0, 2, (n, n_out)).astype(np.float32)
    centers = np.where(labels[:, :1] > 0, 1.0, -1.0)
    X = (centers + rng.normal(0.0, 1.0, (n, n_in))).astype(np.float32)
    return X, labels


def linear_model(rng: np.random.Generator, n_in: int, n_out: int, dtype: str = "float64",
                 sigmoid: bool = False) -> dict:
    """Spec of a grader-built ``nn.Linear`` with given weights (the engine's ``linear``
    model)."""
    return {"kind": "linear", "n_in": n_in, "n_out": n_out, "dtype": dtype, "sigmoid": sigmoid,
            "weight": rng.uniform(-1, 1, (n_out, n_in)), "bias": rng.uniform(-1, 1, n_out)}


MODULE_SHARES = {"is_module": 1, "names": 1, "shapes": 1, "dtypes": 1, "initial": 1,
                 "forward": 4, "grads_flow": 1}
"""Partial credit of an nn.Module check: its structure (subclass, parameter names, shapes,
dtypes, initial values) and its forward earn their own shares."""
