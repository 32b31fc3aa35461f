"""Probes only 03_dataset needs: a loader maker, a split and a loop over a loader.

Run in the student's confined worker and, on the same inputs, on the reference; they return
plain data only (see grader.course.probes): what the student's code gave, never a conclusion about it
(the loader's facts are derived in the grader, ``_loader_facts``).
"""
import numpy as np

from grader.course.probes import build_model, describe, materialize, probe
from grader.course.spec import Report


def _index_dataset(n: int):
    import torch
    from torch.utils.data import TensorDataset
    return TensorDataset(torch.arange(n, dtype=torch.int64))


def _epoch(loader) -> list[list[int]]:
    """One pass over a loader: the indices of each batch, as they came."""
    return [[int(v) for v in batch.reshape(-1).tolist()] for (batch,) in loader]


def _batches(value) -> list[list[int]]:
    """Trusted: an epoch as the probe reports it (a list of batches of indices), checked."""
    if not isinstance(value, list) or not all(
            isinstance(b, list) and all(type(i) is int for i in b) for b in value):
        raise ValueError("an epoch is not a list of batches of indices")
    return value


def _loader_facts(out: dict, inputs: dict) -> dict:
    """Trusted, in the grader: what the contract fixes, from the batches the loaders gave
    (two epochs of one loader, one epoch of another with the same seed, one with the next
    seed): the batch sizes, index order without shuffle, and with shuffle a permutation per
    epoch that the seed decides."""
    first, second, again, other = (_batches(out[k]) for k in ("first", "second", "again",
                                                               "other"))
    order = lambda epoch: [i for batch in epoch for i in batch]
    everything = list(range(inputs["n"]))
    return {"batch_sizes": [len(b) for b in first], "in_order": order(first) == everything,
            "each_index_once": sorted(order(first)) == everything and
            sorted(order(second)) == everything,
            "same_seed_same_order": order(again) == order(first),
            "other_seed_other_order": order(other) != order(first)}


@probe(reports={
    "batch_sizes": Report("the batch sizes", exact=True),
    "in_order": Report("batches in index order",
                       hint="without shuffle, the batches follow the dataset's index order"),
    "each_index_once": Report("every index exactly once per epoch",
                              hint="an epoch must visit every index exactly once"),
    "same_seed_same_order": Report(
        "the same seed giving the same order",
        hint="your shuffling is not seeded: the same seed must give the same order (pass "
             "generator=torch.Generator().manual_seed(seed))"),
    "other_seed_other_order": Report(
        "another seed giving another order",
        hint="another seed gives the same order: the seed must drive the shuffling")},
    derive=_loader_facts)
def loader(module, name: str, inputs: dict, device: str) -> dict:
    """Drive ``make_loader`` over a dataset of indices and report the batches it gives: two
    epochs of one loader, an epoch of a second one made with the same seed and one made with
    the next seed. What they must be is decided in the grader (``_loader_facts``); the order
    itself is not compared with the reference's: any seeded mechanism (``shuffle=True,
    generator=g``, ``SubsetRandomSampler(..., generator=g)``) passes."""
    make = getattr(module, name)
    n, bs, shuffle, seed = inputs["n"], inputs["batch_size"], inputs["shuffle"], inputs["seed"]
    ld = make(_index_dataset(n), bs, shuffle=shuffle, seed=seed)
    first, second = _epoch(ld), _epoch(ld)
    again = _epoch(make(_index_dataset(n), bs, shuffle=shuffle, seed=seed))
    other = _epoch(make(_index_dataset(n), bs, shuffle=shuffle,
                        seed=None if seed is None else seed + 1))
    return {"first": first, "second": second, "again": again, "other": other}


@probe(reports={
    "train_len": Report("the size of the training part", exact=True),
    "val_len": Report("the size of the validation part", exact=True),
    "train": Report("the members of the training part", exact=True),
    "val": Report("the members of the validation part", exact=True)})
def split(module, name: str, inputs: dict, device: str) -> dict:
    """Split a dataset of indices; report the sizes and members of both parts."""
    train, val = getattr(module, name)(_index_dataset(inputs["n"]), inputs["val_fraction"],
                                       inputs["seed"])
    members = lambda part: np.array([int(part[i][0]) for i in range(len(part))])
    return {"train_len": len(train), "val_len": len(val), "train": members(train),
            "val": members(val)}


@probe
def train_loader(module, name: str, inputs: dict, device: str) -> dict:
    """Call ``train_minibatch`` with a grader-built model and a seeded, shuffling loader."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    x, y = (materialize(inputs[k], device) for k in ("x", "y"))
    gen = torch.Generator().manual_seed(inputs["seed"])
    ld = DataLoader(TensorDataset(x, y), batch_size=inputs["batch_size"], shuffle=True,
                    generator=gen)
    model = build_model(inputs["model"], device)
    result = getattr(module, name)(model, ld, inputs["lr"], inputs["n_epochs"])
    return {"result": describe(result), "mutated": []}
