"""Findings over a probe's whole output, walked together with the expected one: NumPy for
tensors, float32 for float64, parameters nobody registered or forward never uses, a part
missing, one array for a pair, an order or arrangement not drawn from the random source
passed, an activation too many or missing, a Dataset whose length disagrees with its items."""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from grader.course.probes import described_array
from grader.judge.compare import within
from grader.judge.diagnose.case import arguments
from grader.judge.diagnose.cause import Diagnosis


def index_parts(desc: Any) -> list[np.ndarray] | None:
    """A returned list of integer arrays (batches of indices), or None."""
    if not isinstance(desc, dict) or desc.get("kind") not in ("list", "tuple"):
        return None
    parts = [described_array(item) for item in desc.get("items", [])]
    if not parts or any(p is None or p.ndim != 1 for p in parts):
        return None
    return parts


def order(actual: dict, expected: dict, inputs) -> Diagnosis | None:
    """The right indices in another order: where the order came from."""
    a, e = index_parts(actual.get("result")), index_parts(expected.get("result"))
    if a is None or e is None:
        return None
    flat_a, flat_e = np.concatenate(a), np.concatenate(e)
    if flat_a.shape == flat_e.shape and np.unique(flat_e).size == flat_e.size and \
            np.unique(flat_a).size < flat_a.size:
        return Diagnosis("indices repeated",
                         f"{flat_a.size - np.unique(flat_a).size} of your indices repeat "
                         "others, so some samples come twice and others never, where the "
                         "expected ones are a permutation of all n (drawn without replacement)",
                         cause=False)
    if flat_a.shape != flat_e.shape or not np.array_equal(np.sort(flat_a), np.sort(flat_e)):
        return None
    if np.array_equal(flat_a, flat_e):  # the same indices in the same order, cut elsewhere
        sizes = lambda parts: "[" + ", ".join(str(p.size) for p in parts[:12]) + \
            (", …" if len(parts) > 12 else "") + "]"
        return Diagnosis("right order, other cut points",
                         "your batches hold the right indices in the right order; only the cut "
                         f"points differ: sizes {sizes(a)}, expected {sizes(e)}", cause=False)
    runs = lambda parts: all(p.size < 2 or np.all(np.diff(p) == 1) for p in parts)
    if runs(a) and not runs(e):
        return Diagnosis("chunks shuffled instead of indices",
                         "each of your parts is a run of consecutive indices, only their order "
                         "changes, where the expected parts are cut from a shuffled order: "
                         "shuffle the indices first (a permutation of all n), then cut them "
                         "into consecutive chunks", cause=False)
    source = next((where for where, v in arguments(inputs)
                   if isinstance(v, dict) and "__rng__" in v), "")
    if source:
        return Diagnosis("order not from the generator passed",
                         "your parts hold the right indices in another order; the expected "
                         f"order is the one the random generator passed in ({source}) gives "
                         "through its own methods (rng.permutation)", cause=False)
    return Diagnosis("right values, wrong order",
                     "you return the right values in another order", cause=False)


def walk(actual: Any, expected: Any, look) -> Any:
    """The first finding of ``look(actual part, expected part)`` over the two outputs walked
    together: dicts by key, lists by position (``_`` keys are evidence and skipped)."""
    found = look(actual, expected)
    if found:
        return found
    if isinstance(expected, dict) and isinstance(actual, dict):
        pairs = [(actual[k], v) for k, v in expected.items()
                 if k in actual and not (isinstance(k, str) and k.startswith("_"))]
    elif isinstance(expected, list) and isinstance(actual, list):
        pairs = list(zip(actual, expected))
    else:
        return None
    for a, e in pairs:
        found = walk(a, e, look)
        if found:
            return found


def walk_arrays(actual: Any, expected: Any, look) -> Any:
    """:func:`walk` over the pairs of described arrays (or tensors) only:
    ``look(actual numbers, expected numbers, expected description)``."""
    def pair(a, e):
        av = described_array(a) if isinstance(a, dict) else None
        ev = described_array(e) if isinstance(e, dict) else None
        return None if av is None or ev is None else look(av, ev, e)
    return walk(actual, expected, pair)
    return None


def kinds(actual: Any, expected: Any) -> Diagnosis | None:
    """NumPy arrays where torch tensors are expected (or the reverse), anywhere inside."""
    def look(a, e):
        if not (isinstance(a, dict) and isinstance(e, dict)):
            return None
        pair = (a.get("kind"), e.get("kind"))
        if pair == ("ndarray", "tensor"):
            return Diagnosis("NumPy instead of tensors",
                             "you give NumPy arrays where torch tensors are expected: keep the "
                             "data as tensors (torch.as_tensor / torch.tensor(..., dtype=...)) "
                             "so that a DataLoader and a model receive tensors")
        if pair == ("tensor", "ndarray"):
            return Diagnosis("tensors instead of NumPy",
                             "you return a torch tensor where a NumPy array is expected: "
                             "return an array (np.array, or .numpy() on a detached tensor)")
        return None
    return walk(actual, expected, look)


FLOATS = ("float16", "bfloat16", "float32", "float64")


def dtypes(actual: Any, expected: Any) -> tuple[str, str] | None:
    """The first (actual, expected) pair of floating dtypes that differ, anywhere inside
    (described arrays and tensors, or a probe's list of parameter dtypes)."""
    def look(a, e):
        if isinstance(a, dict) and isinstance(e, dict):
            da, de = a.get("dtype"), e.get("dtype")
            if da in FLOATS and de in FLOATS and da != de and a.get("kind") == e.get("kind"):
                return da, de
        if isinstance(a, list) and isinstance(e, list) and len(a) == len(e) and e and \
                all(isinstance(x, str) for x in a + e):
            pairs = [(x, y) for x, y in zip(a, e) if x != y]
            if pairs and all(x in FLOATS and y in FLOATS for x, y in pairs):
                return pairs[0]
        return None
    return walk(actual, expected, look)


def precision(actual: dict, expected: dict) -> Diagnosis | None:
    found = dtypes(actual, expected)
    if not found:
        return None
    a, e = found
    if e == "float64":
        return Diagnosis("float32 where float64 is expected",
                         f"your numbers are {a} where {e} is expected: torch.tensor(1.0), "
                         "torch.Tensor(...) and nn.Linear default to float32; pass "
                         "dtype=torch.float64 (or .double()), or keep the inputs' dtype")
    return Diagnosis(f"{a} where {e} is expected",
                     f"your numbers are {a} where {e} is expected: build them with "
                     f"dtype=torch.{e} (NumPy data is float64 unless converted)")


def registered(actual: dict, expected: dict) -> Diagnosis | None:
    """A module whose parameters the framework cannot see."""
    names_a, names_e = actual.get("names"), expected.get("names")
    if isinstance(names_e, list) and names_e and names_a == []:
        return Diagnosis("no parameters registered",
                         "your module has no parameters: tensors become parameters only as "
                         "nn.Parameter(...) (or inside layers such as nn.Linear) assigned as "
                         "attributes after super().__init__(); a plain tensor, or one kept in "
                         "a Python list, is invisible to model.parameters()")
    return None


def parts(actual: dict, expected: dict, kind: str, device: str) -> Diagnosis | None:
    """A list result with its first or last part missing, or one part too many."""
    a, e = actual.get("result"), expected.get("result")
    if not (isinstance(a, dict) and isinstance(e, dict) and a.get("kind") == e.get("kind")
            and a.get("kind") in ("list", "tuple")):
        return None
    items_a, items_e = a.get("items", []), e.get("items", [])
    same = lambda xs, ys: len(xs) == len(ys) and all(
        (described_array(x) is not None and described_array(y) is not None and
         described_array(x).shape == described_array(y).shape and
         within(described_array(x), described_array(y), kind, device)) or x == y
        for x, y in zip(xs, ys))
    if len(items_a) == len(items_e) - 1:
        if same(items_a, items_e[:-1]):
            return Diagnosis("last part missing",
                             "your result has every part but the last: the last, shorter "
                             "part is dropped (a range that stops at n - size, or a loop "
                             "that only keeps full parts)")
        if same(items_a, items_e[1:]):
            return Diagnosis("first part missing", "your result lacks its first part")
    return None


def packed(actual: Any, expected: Any) -> Diagnosis | None:
    """One array or tensor holding the values of an expected tuple of several (an item
    returned as its whole row instead of a pair)."""
    def look(a, e):
        if not (isinstance(a, dict) and isinstance(e, dict) and
                e.get("kind") in ("tuple", "list") and a.get("kind") in ("tensor", "ndarray")):
            return None
        parts = [described_array(x) for x in e.get("items", [])]
        whole = described_array(a)
        if len(parts) >= 2 and all(p is not None for p in parts) and whole is not None \
                and whole.size == sum(p.size for p in parts) and np.allclose(
                    whole.ravel(), np.concatenate([p.ravel() for p in parts])):
            return Diagnosis("one array instead of a tuple",
                             f"you return one {a['kind'].replace('ndarray', 'array')} holding "
                             f"{len(parts)} values where a tuple of {len(parts)} is expected: "
                             "return them as a pair, e.g. `return x, y` (a DataLoader then "
                             "batches each part on its own)")
        return None
    return walk(actual, expected, look)


def unused_parameters(actual: dict, expected: dict) -> Diagnosis | None:
    """Parameters that never get a gradient where every one should: forward leaves them out."""
    flows, names = actual.get("grads_flow"), actual.get("names")
    want = expected.get("grads_flow")
    if not (isinstance(flows, list) and flows and isinstance(names, list) and
            isinstance(want, list) and want and all(all(r) for r in want if isinstance(r, list))):
        return None
    rows = [r for r in flows if isinstance(r, list) and len(r) == len(names)]
    if not rows:
        return None
    never = [n for j, n in enumerate(names) if not any(r[j] for r in rows)]
    if not never or len(never) == len(names):
        return None
    said = ", ".join(f"`{n}`" for n in never)
    return Diagnosis("a parameter forward leaves out",
                     f"{said} never get{'s' if len(never) == 1 else ''} a gradient: your "
                     "forward does not use it (a term left out of the formula, such as the "
                     "bias, or a value taken through .item() or .detach())")


SEEDS = re.compile(r"seed|rng|generator|random_state", re.I)


def seed_input(inputs) -> str:
    """How the case names its random source, if it has one: an rng marker or an input whose
    name says seed."""
    for where, value in arguments(inputs):
        if isinstance(value, dict) and "__rng__" in value:
            return where
    if isinstance(inputs, dict):
        for key in [*inputs, *(inputs.get("kwargs") or {})]:
            if isinstance(key, str) and SEEDS.search(key):
                return f"`{key}`"
    return ""


def arrangement(actual: dict, expected: dict, inputs) -> Diagnosis | None:
    """The right integers (indices, members) arranged otherwise, where the case passes a
    random source: the arrangement did not come from it."""
    source = seed_input(inputs)
    if not source:
        return None
    ints = lambda out: [v for k, v in sorted(out.items()) if not str(k).startswith("_")
                        for v in [described_array(v) if isinstance(v, dict) else
                                  (np.asarray(v) if isinstance(v, np.ndarray) else None)]
                        if v is not None and v.dtype.kind in "iu" and v.ndim == 1]
    a, e = ints(actual), ints(expected)
    if not a or len(a) != len(e):
        return None
    flat_a, flat_e = np.concatenate(a), np.concatenate(e)
    if flat_a.shape != flat_e.shape or np.array_equal(flat_a, flat_e) or \
            not np.array_equal(np.sort(flat_a), np.sort(flat_e)):
        return None
    return Diagnosis("random arrangement not from the seed passed",
                     "your result holds the right values arranged otherwise; the expected "
                     f"arrangement is the one the random source passed in ({source}) gives, "
                     "through a generator seeded with it (torch.Generator().manual_seed(seed), "
                     "np.random.default_rng(seed))", cause=False)


ACTIVATIONS = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "tanh": np.tanh,
    "ReLU": lambda x: np.maximum(x, 0.0), "exp": np.exp, "absolute value": np.abs,
}


def elementwise(actual: Any, expected: Any, kind: str, device: str) -> Diagnosis | None:
    """An activation too many at the end (the result is f of the expected one), or one
    missing (the expected result is f of the student's), anywhere inside."""
    def look(av, ev, _):
        if av.shape != ev.shape or av.size < 2 or \
                not (np.isfinite(av).all() and np.isfinite(ev).all()):
            return None
        with np.errstate(all="ignore"):
            for name, f in ACTIVATIONS.items():
                if within(f(ev), ev, kind, device, "float32"):
                    continue  # f changes nothing here: it cannot be told apart
                if within(av, f(ev), kind, device, "float32"):
                    return Diagnosis(f"an extra {name}",
                                     f"your result is the {name} of the expected one: an extra "
                                     f"{name} (activation) is applied at the end")
                if within(ev, f(av), kind, device, "float32"):
                    return Diagnosis(f"the {name} missing",
                                     f"the expected result is the {name} of yours: the final "
                                     f"{name} (activation) is missing")
        return None
    return walk_arrays(actual, expected, look)


def singleton(actual: Any, expected: Any) -> Diagnosis | None:
    """The right numbers with a dimension of size 1 missing or extra, anywhere inside."""
    def look(av, ev, _):
        if av.shape == ev.shape or av.size != ev.size or \
                [d for d in av.shape if d != 1] != [d for d in ev.shape if d != 1] or \
                not np.allclose(av.ravel(), ev.ravel(), rtol=1e-6, atol=1e-9, equal_nan=True):
            return None
        fix = ("missing: reshape(-1, 1), [:, None] or unsqueeze" if av.ndim < ev.ndim else
               "too many: .squeeze(), reshape, or index the column out" if av.ndim > ev.ndim
               else f"in another place: reshape to {tuple(ev.shape)}")
        return Diagnosis("a dimension of size 1 missing or extra",
                         f"your numbers are right but shaped {tuple(av.shape)} where "
                         f"{tuple(ev.shape)} is expected: a dimension of size 1 is {fix}")
    return walk_arrays(actual, expected, look)


def constant(actual: Any, expected: Any) -> Diagnosis | None:
    """One value everywhere where the expected real values vary: an operation that makes the
    output independent of the input (a normalisation over a single value, a rounding, a
    result computed once and repeated)."""
    def look(av, ev, e):
        if not str(e.get("dtype", "")).startswith("float") or av.shape != ev.shape or \
                av.size < 2 or \
                not np.isfinite(av).all() or np.ptp(av) != 0 or \
                np.ptp(ev) <= 1e-9 * max(1.0, float(np.abs(ev).max())):
            return None
        return Diagnosis("the same value everywhere",
                         f"every value you return is {av.flat[0]:.6g}, whatever the input, where "
                         "the expected values vary: a step makes the output constant (a "
                         "normalisation over a single value is always 1, a rounding or a "
                         "comparison gives 0 or 1, a value computed once is repeated)", cause=False)
    return walk_arrays(actual, expected, look)


def normalised_rows(actual: Any, expected: Any) -> Diagnosis | None:
    """Rows that each sum to 1 where the expected rows do not: the entries are normalised
    across each row where each should be computed on its own."""
    def look(av, ev, _):
        if av.shape != ev.shape or av.ndim != 2 or \
                av.shape[1] < 2 or not np.allclose(av.sum(axis=1), 1.0, atol=1e-6) or \
                np.allclose(ev.sum(axis=1), 1.0, atol=1e-3):
            return None
        return Diagnosis("rows normalised to 1",
                         "each row of your output sums to 1 where the expected rows do not: "
                         "the entries are normalised across the row (exponentials divided by "
                         "their row's sum) where each should be computed on its own, by an "
                         "elementwise activation", cause=False)
    return walk_arrays(actual, expected, look)


def same(actual: Any, expected: Any, kind: str, device: str) -> bool:
    """Whether two described outputs hold the same values (arrays within the check's
    tolerance, containers part by part, anything else equal)."""
    av = described_array(actual) if isinstance(actual, dict) else None
    ev = described_array(expected) if isinstance(expected, dict) else None
    if av is not None or ev is not None:
        return av is not None and ev is not None and av.shape == ev.shape and \
            within(av, ev, kind, device)
    if isinstance(actual, dict) and isinstance(expected, dict):
        if actual.get("kind") in ("list", "tuple") or expected.get("kind") in ("list", "tuple"):
            return actual.get("kind") == expected.get("kind") and same(
                actual.get("items"), expected.get("items"), kind, device)
        return actual == expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            same(a, e, kind, device) for a, e in zip(actual, expected))
    return actual == expected


def _loader_rows(batches: Any) -> list[np.ndarray] | None:
    """The rows of a DataLoader's batches as the dataset probe describes them (tensors, or
    tuples of tensors), each part's batches stacked; None where they are not that."""
    if not isinstance(batches, list) or not batches:
        return None
    columns: list[list[np.ndarray]] | None = None
    for batch in batches:
        items = batch.get("items") if isinstance(batch, dict) and \
            batch.get("kind") in ("list", "tuple") else [batch]
        arrays = [described_array(x) if isinstance(x, dict) else None for x in items or []]
        if not arrays or any(x is None or x.ndim == 0 for x in arrays):
            return None
        columns = columns or [[] for _ in arrays]
        if len(arrays) != len(columns):
            return None
        for column, x in zip(columns, arrays):
            column.append(x)
    try:
        return [np.concatenate(column) for column in columns]
    except ValueError:
        return None


def dataset_length(actual: dict, expected: dict, kind: str, device: str, inputs,
                   hidden: bool) -> Diagnosis | None:
    """A Dataset (the engine's ``dataset`` probe: ``len``, the ``items`` asked for, a
    DataLoader's ``batches``) whose items are all the expected ones while ``len(dataset)``
    is not: what it counts against what it returns, seen only, never why."""
    n_a, n_e = actual.get("len"), expected.get("len")
    items_a, items_e = actual.get("items"), expected.get("items")
    if not (type(n_a) is int and type(n_e) is int and n_a != n_e and
            isinstance(items_a, list) and isinstance(items_e, list) and items_e and
            same(items_a, items_e, kind, device)):
        return None
    asked = inputs.get("items") if isinstance(inputs, dict) else None
    past = [i for i in asked if type(i) is int and i >= n_a] \
        if isinstance(asked, list) and len(asked) == len(items_e) else []
    if not past:
        return Diagnosis("len disagrees with the items",
                         ("len(dataset) is not the expected length" if hidden else
                          f"len(dataset) is {n_a} where {n_e} is expected") +
                         ", while every item your dataset returned (`ds[i]` at each index "
                         "checked) is the expected one", cause=False)
    taken = ""
    rows_a, rows_e = _loader_rows(actual.get("batches")), _loader_rows(expected.get("batches"))
    if n_a < n_e and rows_a and rows_e and len(rows_a) == len(rows_e) and all(
            len(x) == n_a and x.shape[1:] == y.shape[1:] and within(x, y[:n_a], kind, device)
            for x, y in zip(rows_a, rows_e)):
        taken = ("; a DataLoader therefore gives only the first items" if hidden else
                 (f"; a DataLoader therefore gives only the first {n_a} items" if n_a > 1
                  else "; a DataLoader therefore gives only the first item"))
    if hidden:
        return Diagnosis("len disagrees with the items",
                         "len(dataset) is not the expected length, yet your dataset returns "
                         "the expected item at an index past the length it reports: "
                         f"`__len__` counts fewer items than `__getitem__` gives{taken}",
                         cause=False)
    return Diagnosis("len disagrees with the items",
                     f"len(dataset) is {n_a}, yet your dataset returns item [{past[0]}], the "
                     f"expected one (the expected length is {n_e}): `__len__` counts fewer "
                     f"items than `__getitem__` gives{taken}", cause=False)
