"""Checks of 02_autograd (PyTorch: autograd, optimizers, nn.Module)."""
import numpy as np

from grader.course.probes import tensor
from grader.course.spec import CaseSpec, Check, Picture, random_cases

from ..data import (MODULE_SHARES, NOTES_START, far_params, line_loss, notes_regression,
                    random_regression)

X_NOTES, Y_NOTES = notes_regression()


def _grad_random(rng):
    X, y = random_regression(rng)
    return {"args": [tensor(far_params(rng)), tensor(X), tensor(y)]}


def _gd_random(rng):
    X, y = random_regression(rng)
    return {"args": [tensor(far_params(rng)), tensor(X), tensor(y),
                     float(rng.choice([0.01, 0.05, 0.1])), int(rng.integers(5, 30))]}


NOTES_GD = lambda rng: {"args": [tensor(NOTES_START), tensor(X_NOTES), tensor(Y_NOTES), 0.2, 10]}


def _forward_inputs(rng, column: bool):
    xs = [np.array([0.0, 1.0, -2.0]), rng.normal(0, 2, int(rng.integers(3, 9)))]
    return [tensor(x.reshape(-1, 1) if column else x) for x in xs]


def _module_case(column: bool, defaults: bool):
    def make(rng):
        ctor = [] if defaults else [float(v) for v in rng.uniform(-3, 3, 2).round(3)]
        return {"ctor": ctor, "forward": _forward_inputs(rng, column)}
    return make


def _module_cases(column: bool):
    return (CaseSpec("defaults", _module_case(column, True)),
            CaseSpec("given", _module_case(column, False)),
            CaseSpec("hidden-1", _module_case(column, False), hidden=True))


PATH = (Picture("contours", loss=line_loss, axes=("b", "w"),
                start=lambda inputs: inputs["args"][0]["__tensor__"]),)


def _train_scalar(rng):
    X, y = random_regression(rng)
    b0, w0 = (float(v) for v in far_params(rng))
    return {"model": {"kind": "scalar_lr", "b0": b0, "w0": w0},
            "args": [tensor(X), tensor(y), 0.05, int(rng.integers(3, 20))]}


def _train_linear(rng):
    X, y = random_regression(rng)
    b0, w0 = far_params(rng)
    return {"model": {"kind": "linear", "n_in": 1, "n_out": 1, "weight": [[w0]], "bias": [b0]},
            "args": [tensor(X.reshape(-1, 1)), tensor(y.reshape(-1, 1)), 0.05,
                     int(rng.integers(3, 20))]}


CHECKS = (
    Check("autograd_grad", 3, "call", kind="gradient", cases=random_cases(
        _grad_random, n_public=3,
        notes=lambda rng: {"args": [tensor(NOTES_START), tensor(X_NOTES), tensor(Y_NOTES)]})),
    # The contract fixes these trajectories' numbers, not their container: a NumPy array of
    # the same rows (the notes' `plist`) is as right as a tensor.
    Check("autograd_gd", 4, "call", kind="trajectory", pictures=PATH, strict_container=False,
          cases=random_cases(_gd_random, notes=NOTES_GD)),
    Check("optimizer_gd", 3, "call", kind="trajectory", pictures=PATH, strict_container=False,
          cases=random_cases(_gd_random, notes=NOTES_GD)),
    Check("LR", 3, "module_structure", kind="structure", shares=MODULE_SHARES,
          cases=_module_cases(False)),
    Check("BetterLR", 3, "module_structure", kind="structure", shares=MODULE_SHARES,
          cases=_module_cases(True)),
    Check("train_model", 4, "train", kind="trajectory", cases=(
        CaseSpec("notes", lambda rng: {
            "model": {"kind": "scalar_lr", "b0": 1.0, "w0": 1.5},
            "args": [tensor(X_NOTES), tensor(Y_NOTES), 0.2, 10]}),
        CaseSpec("scalar-model", _train_scalar),
        CaseSpec("linear-model", _train_linear),
        CaseSpec("hidden-1", _train_scalar, hidden=True),
        CaseSpec("hidden-2", _train_linear, hidden=True),
    )),
)
