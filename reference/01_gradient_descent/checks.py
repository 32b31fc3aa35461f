"""Checks of 01_gradient_descent (NumPy)."""
from grader.course.probes import rng as rng_marker
from grader.course.spec import CaseSpec, Check, Picture, random_cases

from ..data import (NOTES_START, far_params, line_loss, notes_batches, notes_regression,
                    random_regression)


def _random_params_data(rng):
    X, y = random_regression(rng)
    return [far_params(rng), X, y]


def _gd_random(rng):
    params, X, y = _random_params_data(rng)
    return {"args": [params, X, y, float(rng.choice([0.01, 0.05, 0.1])), int(rng.integers(5, 40))]}


def _batches_random(rng):
    n, size = int(rng.integers(5, 50)), int(rng.integers(1, 12))
    source = [None, rng_marker("generator", int(rng.integers(1e6))),
              rng_marker("randomstate", int(rng.integers(1e6)))][int(rng.integers(0, 3))]
    return {"args": [n, size, source]}


def _minibatch_random(rng):
    params, X, y = _random_params_data(rng)
    order = rng.permutation(len(X))
    size = int(rng.integers(4, 16))
    batches = [order[i:i + size] for i in range(0, len(X), size)]
    return {"args": [params, X, y, 0.05, int(rng.integers(2, 6)), batches]}


X_NOTES, Y_NOTES = notes_regression()

PATH = (Picture("contours", loss=line_loss, start=lambda inputs: inputs["args"][0],
                axes=("b", "w")),)

CHECKS = (
    Check("predict", 2, "call", kind="value", cases=random_cases(
        lambda rng: {"args": _random_params_data(rng)[:2]},
        notes=lambda rng: {"args": [NOTES_START.copy(), X_NOTES]})),
    Check("mse_loss", 3, "call", kind="value", cases=random_cases(
        lambda rng: {"args": _random_params_data(rng)},
        notes=lambda rng: {"args": [NOTES_START.copy(), X_NOTES, Y_NOTES]})),
    Check("mse_grad", 5, "call", kind="gradient", cases=random_cases(
        lambda rng: {"args": _random_params_data(rng)},
        notes=lambda rng: {"args": [NOTES_START.copy(), X_NOTES, Y_NOTES]}, n_public=3)),
    Check("gradient_descent", 5, "descent", kind="trajectory", pictures=PATH,
          cases=random_cases(
              lambda rng: {**_gd_random(rng), "grad": "mse_grad"},
              notes=lambda rng: {"args": [NOTES_START.copy(), X_NOTES, Y_NOTES, 0.2, 10],
                                 "grad": "mse_grad"})),
    Check("make_batches", 2, "call", kind="exact", cases=(
        CaseSpec("in-order", lambda rng: {"args": [10, 4]}),
        CaseSpec("notes", lambda rng: {"args": [85, 32, rng_marker("randomstate", 42)]}),
        CaseSpec("generator", lambda rng: {"args": [23, 5, rng_marker("generator", 7)]}),
        CaseSpec("hidden-1", _batches_random, hidden=True),
        CaseSpec("hidden-2", _batches_random, hidden=True),
    )),
    Check("minibatch_gd", 3, "call", kind="trajectory", pictures=PATH, cases=random_cases(
        _minibatch_random, n_public=1,
        notes=lambda rng: {"args": [NOTES_START.copy(), X_NOTES, Y_NOTES, 0.2, 10,
                                    notes_batches()]})),
)
