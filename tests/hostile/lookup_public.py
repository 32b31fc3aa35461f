# No implementation at all: every name looks its answer up in the public expected values the
# student bundle ships (course/public_expected.json, copied beside this file), keyed by the
# case's seed, which the grader seeds torch with before each call (torch.initial_seed()).
# It earns exactly the public cases' points: the test asserts that is at most one third.
import base64
import json
from pathlib import Path

import numpy as np
import torch  # imported so that the grader seeds it: initial_seed() is then the case's seed

TABLE = json.loads((Path(__file__).parent / "public_expected.json").read_text())
BY_SEED = {entry["seed"]: entry["expected"]["result"]
           for checks in TABLE.values() for cases in checks.values()
           for entry in cases.values()}


def _value(described):
    kind = described["kind"]
    if kind in ("list", "tuple"):
        items = [_value(x) for x in described["items"]]
        return items if kind == "list" else tuple(items)
    if kind in ("ndarray", "tensor"):
        raw = described["value"]["__ndarray__"]
        array = np.frombuffer(base64.b64decode(raw["data"]), dtype=raw["dtype"])
        return array.reshape(raw["shape"]).copy()
    return described["value"]


def _lookup(*args, **kwargs):
    found = BY_SEED.get(torch.initial_seed())
    if found is None:  # a hidden case: its seed is in no shipped table
        raise NotImplementedError
    return _value(found)


predict = mse_loss = mse_grad = gradient_descent = make_batches = minibatch_gd = _lookup
