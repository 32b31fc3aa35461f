"""Checks of 05_models (closed form, multivariate GD, logistic regression)."""
from grader.course.probes import tensor
from grader.course.spec import CaseSpec, Check, random_cases

from ..data import (LEAST_SQUARES_X, LEAST_SQUARES_Y, MODULE_SHARES, classification,
                    design_matrix, linear_model, random_regression)


def _closed_random(rng):
    return {"args": list(random_regression(rng))}


def _matrix_grad(rng):
    X, y, theta = design_matrix(rng)
    return {"args": [theta, X, y]}


def _matrix_gd(rng):
    X, y, theta = design_matrix(rng)
    return {"args": [theta, X, y, float(rng.choice([0.01, 0.05, 0.1])), int(rng.integers(5, 40))],
            "grad": "matrix_grad"}


def _logistic_module(rng):
    n_in, n_out = int(rng.integers(1, 5)), int(rng.integers(1, 3))
    xs = [rng.normal(0, 1, (int(rng.integers(2, 7)), n_in)) for _ in range(2)]
    return {"ctor": [n_in, n_out], "forward": [tensor(x, "float32") for x in xs]}


def _train_logistic(rng):
    n_in = int(rng.integers(1, 4))
    X, y = classification(rng, n_in)
    return {"model": linear_model(rng, n_in, 1, "float32", sigmoid=True),
            "args": [tensor(X, "float32"), tensor(y, "float32"), 0.1, int(rng.integers(5, 40))]}


def _accuracy(rng):
    n_in = int(rng.integers(1, 4))
    X, y = classification(rng, n_in, n=int(rng.integers(10, 80)))
    return {"model": linear_model(rng, n_in, 1, "float32", sigmoid=True),
            "args": [tensor(X, "float32"), tensor(y, "float32")]}


CHECKS = (
    Check("closed_form", 1, "call", kind="value", cases=(
        CaseSpec("notes", lambda rng: {"args": [LEAST_SQUARES_X, LEAST_SQUARES_Y]}),
        CaseSpec("random-1", _closed_random), CaseSpec("hidden-1", _closed_random,
                                                       hidden=True))),
    Check("matrix_grad", 2, "call", kind="gradient",
          cases=random_cases(_matrix_grad, n_hidden=1)),
    Check("matrix_gd", 2, "descent", kind="trajectory",
          cases=random_cases(_matrix_gd, n_hidden=1)),
    Check("LogisticRegression", 2, "module_structure", kind="structure", shares=MODULE_SHARES,
          cases=random_cases(_logistic_module, n_hidden=1)),
    # The losses' values are the contract; whether they come back in float32 or float64
    # is not (float32 tolerances apply either way).
    Check("train_logistic", 2, "train", kind="trajectory", strict_dtype=False,
          cases=random_cases(_train_logistic, n_hidden=1)),
    Check("accuracy", 1, "train", kind="value",
          cases=random_cases(_accuracy, n_hidden=1)),
)
