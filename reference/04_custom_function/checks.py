"""Checks of 04_custom_function (a custom autograd Function and polynomial fits)."""
import numpy as np

from grader.course.probes import tensor
from grader.course.spec import CaseSpec, Check, FitGoal, Picture

from ..data import sine_data
from .probes import autograd_function


def _legendre(rng):
    k = int(rng.integers(4, 12))
    return {"x": tensor(rng.uniform(-1.5, 1.5, k)), "grad_output": tensor(rng.normal(0, 1, k)),
            "x_check": tensor(rng.uniform(-1, 1, 3)), "a": float(rng.uniform(-1, 1)),
            "b": float(rng.uniform(0.5, 2))}


def _p3(z):
    return 0.5 * (5 * z ** 3 - 3 * z)


def sine_loss(row: np.ndarray, inputs: dict) -> float:
    """Summed squared error of ``a + b*P3(c + d*x)`` (trusted recomputation of a fit)."""
    x, y = inputs["args"][0]["__tensor__"], inputs["args"][1]["__tensor__"]
    a, b, c, d = row
    return float(np.sum((a + b * _p3(c + d * x) - y) ** 2))


def poly_loss(row: np.ndarray, inputs: dict) -> float:
    x, y = inputs["args"][1], inputs["args"][2]
    a, b, c, d = row
    return float(np.sum((a + b * x + c * x ** 2 + d * x ** 3 - y) ** 2))


SINE = (Picture("fit", model=lambda r, x: r[0] + r[1] * _p3(r[2] + r[3] * x),
                data=lambda inputs: (inputs["args"][0]["__tensor__"],
                                     inputs["args"][1]["__tensor__"])),
        Picture("curves"))
POLY = (Picture("fit", model=lambda r, x: r[0] + r[1] * x + r[2] * x ** 2 + r[3] * x ** 3,
                data=lambda inputs: (inputs["args"][1], inputs["args"][2])),
        Picture("curves"))


# A right forward with a wrong backward earns the forward's share, and the reverse.
FUNCTION = {"forward": 3, "backward": 2, "gradcheck": 1, "composite": 1}


# The notes run both fits for 2000 steps. The "notes" cases keep their data, start and rate
# but stop at NOTES_STEPS: the notes publish no number for these fits, and on the tables of
# student mistakes (bench/bench_cases.py) 2000 steps caught nothing 300 do not, at about 7x
# the cost (they were three quarters of a correct student's CPU time).
NOTES_STEPS = 300


def _sine_notes(rng):
    x, y = sine_data()
    return {"args": [tensor(x), tensor(y), tensor(np.array([0.0, -1.0, 0.0, 0.3])), 5e-6,
                     NOTES_STEPS]}


def _sine_random(rng):
    x, y = sine_data(int(rng.integers(200, 800)))
    start = np.array([0.0, -1.0, 0.0, 0.3]) + rng.normal(0, 0.05, 4)
    return {"args": [tensor(x), tensor(y), tensor(start), 2e-5, int(rng.integers(50, 300))]}


def _poly_data(rng, n=None):
    x, y = sine_data(int(rng.integers(100, 500)) if n is None else n)
    return x, y


def _poly_grads(rng):
    x, y = _poly_data(rng)
    return {"args": [rng.normal(0, 2, 4), x, y]}


def _fit_poly(rng):
    x, y = _poly_data(rng)
    return {"args": [rng.normal(0, 1, 4), x, y, 1e-5, int(rng.integers(50, 300))],
            "grad": "poly_grads"}


def _fit_poly_notes(rng):
    x, y = sine_data()
    return {"args": [np.random.default_rng(0).normal(0, 1, 4), x, y, 1e-6, NOTES_STEPS],
            "grad": "poly_grads"}


CHECKS = (
    Check("LegendrePolynomial3", 7, autograd_function, kind="gradient", shares=FUNCTION,
          cases=(
        CaseSpec("random-1", _legendre), CaseSpec("random-2", _legendre),
        CaseSpec("hidden-1", _legendre, hidden=True))),
    Check("fit_sine", 5, "call", kind="fit", timeout=60, fit=FitGoal(sine_loss), pictures=SINE,
          strict_container=False, cases=(  # the contract does not call it a tensor
        CaseSpec("notes", _sine_notes), CaseSpec("random-1", _sine_random),
        CaseSpec("hidden-1", _sine_random, hidden=True))),
    Check("poly_grads", 4, "call", kind="gradient", cases=(
        CaseSpec("random-1", _poly_grads), CaseSpec("random-2", _poly_grads),
        CaseSpec("hidden-1", _poly_grads, hidden=True), CaseSpec("hidden-2", _poly_grads,
                                                                   hidden=True))),
    Check("fit_poly", 4, "descent", kind="fit", timeout=30, fit=FitGoal(poly_loss), pictures=POLY,
          cases=(
        CaseSpec("notes", _fit_poly_notes), CaseSpec("random-1", _fit_poly),
        CaseSpec("hidden-1", _fit_poly, hidden=True))),
)
