"""Checks of 01_metrics: which inputs each function gets, how its output is judged."""
from grader.course.probes import tensor
from grader.course.spec import Check, random_cases


def _scores(rng):
    """Logits of a batch and its labels (the case maker: a seeded generator in, plain
    inputs out; tensors as markers, made on the grading device)."""
    n, k = int(rng.integers(5, 40)), int(rng.integers(2, 6))
    return {"args": [tensor(rng.normal(size=(n, k)), "float32"),
                     tensor(rng.integers(0, k, n), "int64")]}


def _regression(rng):
    """A small regression problem and the linear model the grader builds for it (every
    student starts from the same parameters)."""
    n, d = int(rng.integers(8, 30)), int(rng.integers(1, 4))
    x = rng.normal(size=(n, d))
    y = x @ rng.normal(size=(d, 1)) + 0.1 * rng.normal(size=(n, 1))
    model = {"kind": "linear", "n_in": d, "n_out": 1,
             "weight": 0.1 * rng.normal(size=(1, d)), "bias": [0.0]}
    return {"model": model, "args": [tensor(x), tensor(y), float(rng.choice([0.05, 0.1])),
                                     int(rng.integers(3, 12))]}


CHECKS = (
    # the contract says "a Python float": a 0-d tensor or a NumPy scalar is told so
    Check("top1_accuracy", 4, "call", kind="value", strict_type=True,
          cases=random_cases(_scores)),
    # a dict: compared key by key, each value as the reference's (a tensor, a float, an int)
    Check("fit_regression", 6, "train", kind="trajectory", strict_type=True,
          cases=random_cases(_regression)),
)
