"""Probes only 03_dataset needs: a loader maker, a split and a loop over a loader.

Run in the student's confined worker and, on the same inputs, on the reference; they return
plain data only (see grader.probes).
"""
import numpy as np

from grader.probes import build_model, describe, materialize, probe
from grader.spec import Report


def _index_dataset(n: int):
    import torch
    from torch.utils.data import TensorDataset
    return TensorDataset(torch.arange(n, dtype=torch.int64))


def _epoch(loader) -> tuple[list[int], list[int]]:
    """One pass over a loader: its batch sizes and the indices in the order they came."""
    sizes, order = [], []
    for (batch,) in loader:
        sizes.append(len(batch))
        order += [int(v) for v in batch.reshape(-1).tolist()]
    return sizes, order


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
        hint="another seed gives the same order: the seed must drive the shuffling")})
def loader(module, name: str, inputs: dict, device: str) -> dict:
    """Drive ``make_loader`` over a dataset of indices and report what the contract fixes:
    the batch sizes, index order without shuffle, and with shuffle a permutation per epoch
    that the seed decides. The order itself is not compared with the reference's: any seeded
    mechanism (``shuffle=True, generator=g``, ``SubsetRandomSampler(..., generator=g)``)
    passes. ``_epochs`` is evidence, never compared."""
    make = getattr(module, name)
    n, bs, shuffle, seed = inputs["n"], inputs["batch_size"], inputs["shuffle"], inputs["seed"]
    ld = make(_index_dataset(n), bs, shuffle=shuffle, seed=seed)
    (sizes, first), (_, second) = _epoch(ld), _epoch(ld)
    again = _epoch(make(_index_dataset(n), bs, shuffle=shuffle, seed=seed))[1]
    other = _epoch(make(_index_dataset(n), bs, shuffle=shuffle,
                        seed=None if seed is None else seed + 1))[1]
    everything = list(range(n))
    return {"batch_sizes": sizes, "in_order": first == everything,
            "each_index_once": sorted(first) == everything and sorted(second) == everything,
            "same_seed_same_order": again == first,
            "other_seed_other_order": other != first,
            "_epochs": np.array([first, second])}


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
