"""Checks of 06_networks (layers, nn.Sequential, updates over model.parameters(), softmax)."""
from grader.course.probes import tensor
from grader.course.spec import CaseSpec, Check, random_cases

from ..data import MODULE_SHARES
from .probes import step


def _logits(scale: float):
    """``(N, K)`` logits of a given scale: at 1000, a softmax that does not subtract each
    row's maximum overflows to NaN."""
    def make(rng):
        n, k = int(rng.integers(2, 7)), int(rng.integers(2, 6))
        z = rng.normal(0.0, 1.0, (n, k)) * scale
        z[0, int(rng.integers(0, k))] = scale  # one large entry at least
        return {"args": [z]}
    return make


def _net_params(rng, n_in: int, n_hidden: int, n_out: int) -> dict:
    return {"0.weight": rng.normal(0.0, 1.0, (n_hidden, n_in)),
            "0.bias": rng.normal(0.0, 1.0, n_hidden),
            "2.weight": rng.normal(0.0, 1.0, (n_out, n_hidden)),
            "2.bias": rng.normal(0.0, 1.0, n_out)}


def _sizes(rng) -> tuple[int, int, int]:
    return int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(1, 3))


def _data(rng, n_in: int, n_out: int):
    n = int(rng.integers(8, 30))
    X = rng.normal(0.0, 1.0, (n, n_in))
    y = X @ rng.normal(0.0, 1.0, (n_in, n_out)) + rng.normal(0.0, 0.1, (n, n_out))
    return X, y


def _structure(rng):
    n_in, n_hidden, n_out = _sizes(rng)
    xs = [rng.normal(0.0, 1.0, (int(rng.integers(2, 6)), n_in)) for _ in range(2)]
    return {"ctor": [n_in, n_hidden, n_out], "set": _net_params(rng, n_in, n_hidden, n_out),
            "forward": [tensor(x) for x in xs]}


def _step(rng):
    n_in, n_hidden, n_out = _sizes(rng)
    X, y = _data(rng, n_in, n_out)
    return {"model": {"kind": "two_layer", **_net_params(rng, n_in, n_hidden, n_out)},
            "X": tensor(X), "y": tensor(y), "lr": float(rng.choice([0.05, 0.1, 0.5]))}


def _train(rng):
    n_in, n_hidden, n_out = _sizes(rng)
    X, y = _data(rng, n_in, n_out)
    return {"model": {"kind": "two_layer", **_net_params(rng, n_in, n_hidden, n_out)},
            "args": [tensor(X), tensor(y), float(rng.choice([0.05, 0.1, 0.5])),
                     int(rng.integers(3, 15))]}


CHECKS = (
    Check("softmax", 4, "call", kind="value", cases=(
        CaseSpec("moderate", _logits(3.0)), CaseSpec("large", _logits(1000.0)),
        CaseSpec("hidden-1", _logits(800.0), hidden=True),
        CaseSpec("hidden-2", _logits(5.0), hidden=True))),
    Check("two_layer_net", 3, "module_structure", kind="structure", shares=MODULE_SHARES,
          cases=random_cases(_structure, n_hidden=1)),
    Check("sgd_step", 4, step, kind="value", cases=random_cases(_step, n_hidden=1)),
    Check("train_net", 4, "train", kind="trajectory", cases=random_cases(_train, n_hidden=1)),
)
