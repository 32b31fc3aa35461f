"""What 02_training grades."""
import numpy as np

from grader.course.spec import Check, random_cases

from .probes import early_stopping_run, optimizer_run


def _quadratic(r):
    d = int(r.integers(2, 5))
    m = r.normal(size=(d, d))
    return {"A": (m @ m.T / d + 0.5 * np.eye(d)).tolist(),
            "b": r.normal(size=d).tolist(), "start": r.normal(size=d).tolist(),
            "c0": float(r.normal()), "lr": float(r.choice([0.05, 0.1])),
            "momentum": float(r.choice([0.5, 0.9])), "n_steps": int(r.integers(3, 10))}


def _overfit(r):
    d = int(r.integers(6, 10))
    n_train, n_val = int(r.integers(3, 6)), 20
    true = r.normal(size=(d, 1))
    x_train, x_val = r.normal(size=(n_train, d)), r.normal(size=(n_val, d))
    return {"x_train": x_train, "y_train": x_train @ true + 0.5 * r.normal(size=(n_train, 1)),
            "x_val": x_val, "y_val": x_val @ true + 0.5 * r.normal(size=(n_val, 1)),
            "weight": 0.1 * r.normal(size=(1, d)), "bias": [0.0],
            "lr": float(r.choice([0.05, 0.1])), "max_epochs": 40,
            "patience": int(r.integers(1, 4))}


CHECKS = (
    Check("Momentum", 4, optimizer_run, kind="trajectory", cases=random_cases(_quadratic)),
    Check("train_early_stopping", 6, early_stopping_run, kind="trajectory", strict_type=True,
          tolerances={"restored": "value"}, shares={"result": 4, "restored": 2},
          cases=random_cases(_overfit)),
)
