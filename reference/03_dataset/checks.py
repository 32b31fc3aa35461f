"""Checks of 03_dataset (Dataset, DataLoader, random_split, mini-batch training)."""
import numpy as np

from grader.course.probes import tensor
from grader.course.spec import CaseSpec, Check, random_cases

from ..data import linear_model, random_regression
from .probes import loader, split, train_loader


def _rows(rng):
    X, y = random_regression(rng, n=int(rng.integers(6, 15)))
    n = len(X)
    return {"ctor": [np.stack([X, y], axis=1)], "items": [0, n // 2, n - 1],
            "batch_size": int(rng.integers(2, 5))}


def _columns(rng):
    X, y = random_regression(rng, n=int(rng.integers(6, 15)))
    n = len(X)
    return {"ctor": [X, y], "items": [0, n // 2, n - 1], "batch_size": int(rng.integers(2, 5))}


def _loader(shuffle):
    def make(rng):
        return {"n": int(rng.integers(8, 30)), "batch_size": int(rng.integers(2, 7)),
                "shuffle": shuffle, "seed": int(rng.integers(0, 10_000)) if shuffle else None}
    return make


def _split(rng):
    return {"n": int(rng.integers(10, 40)), "val_fraction": float(rng.choice([0.2, 0.25, 0.5])),
            "seed": int(rng.integers(0, 10_000))}


def _train(rng):
    X, y = random_regression(rng, n=int(rng.integers(10, 30)))
    return {"x": tensor(X.reshape(-1, 1)), "y": tensor(y.reshape(-1, 1)),
            "batch_size": int(rng.integers(3, 9)), "seed": int(rng.integers(0, 10_000)),
            "model": linear_model(rng, 1, 1), "lr": 0.05, "n_epochs": int(rng.integers(2, 5))}


# A Dataset's length, its items and the batches a DataLoader makes of it earn their own shares.
DATASET = {"is_dataset": 1, "len": 2, "items": 3, "batches": 3}

CHECKS = (
    Check("LRDataset", 3, "dataset", kind="structure", shares=DATASET,
          cases=random_cases(_rows, n_hidden=1)),
    Check("MyData", 3, "dataset", kind="structure", shares=DATASET,
          cases=random_cases(_columns, n_hidden=1)),
    Check("make_loader", 3, loader, kind="exact", cases=(
        CaseSpec("in-order", _loader(False)), CaseSpec("shuffled", _loader(True)),
        CaseSpec("hidden-1", _loader(True), hidden=True))),
    Check("split_dataset", 2, split, kind="exact", cases=random_cases(_split, n_hidden=1)),
    Check("train_minibatch", 4, train_loader, kind="trajectory",
          cases=random_cases(_train, n_hidden=1)),
)
