"""Generic diagnoses: the cause of a failure read from the numbers and the case alone.

Whatever the course, a wrong output is set against the expected one for the patterns a TA
recognises: a constant factor that is a quantity of the case (N, the batch size, 2), one wrong
entry of a small vector, a transposition or a permutation, a trajectory that is shifted by a
step, never moves, stops, moves only every k steps or records too many rows, float32
precision, NumPy where tensors are expected, a random order that does not come from the
generator passed in. Each finding has a short name (for class statistics) and a hint in the
student's terms; on a hidden case a hint describes the kind of mistake, never a value.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..compare import described_array, tolerance_for
from ..spec import Probe
from .cause import Diagnosis

WORDS = {0.5: "half", 2.0: "twice", -1.0: "the negative of", -0.5: "minus half",
         -2.0: "minus twice"}


def plain(value: Any) -> Any:
    """An input as the numbers it holds (a tensor marker's array), else itself."""
    if isinstance(value, dict) and "__tensor__" in value:
        return np.asarray(value["__tensor__"])
    return value


def arguments(inputs: dict | None) -> list[tuple[str, Any]]:
    """A case's arguments with the words that name them: ``argument 4`` or ```lr```."""
    if not isinstance(inputs, dict):
        return []
    args = inputs.get("args", []) or []
    kwargs = inputs.get("kwargs", {}) or {}
    return [*((f"argument {i + 1}", v) for i, v in enumerate(args)),
            *((f"`{k}`", v) for k, v in kwargs.items())]


def is_index_batches(value: Any) -> bool:
    """A list of 1-D index arrays (the batches of an epoch)."""
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "iu" for v in value)


def case_quantities(inputs) -> list[tuple[str, float]]:
    """Numbers of a case that a wrong constant factor often equals, with their names: the
    number of samples (an array or tensor argument's length), the batch size (of a list of
    index batches), and whole-number arguments (steps, epochs, sizes)."""
    found: list[tuple[str, float]] = []
    lengths = [np.shape(plain(v))[0] for _, v in arguments(inputs)
               if isinstance(plain(v), np.ndarray) and plain(v).ndim >= 1]
    n = max(lengths, default=0)  # the samples are the longest arrays (not a parameter pair)
    for where, raw in arguments(inputs):
        value = plain(raw)
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) >= 1 and shape[0] > 1:
            if shape[0] == n:
                found.append(("N, the number of samples", float(shape[0])))
        elif is_index_batches(value):
            found.append(("the batch size", float(len(value[0]))))
            found.append(("the number of batches", float(len(value))))
        elif isinstance(value, int) and not isinstance(value, bool) and value > 2:
            found.append((f"{where} (a whole number of the case)", float(value)))
    seen, out = set(), []
    for name, q in found:
        if q not in seen:
            seen.add(q)
            out.append((name, q))
    return out


def _factor(c: float, inputs, hidden: bool) -> Diagnosis | None:
    """``c`` in a student's terms: a quantity of the case, or None."""
    for name, q in case_quantities(inputs):
        for factor, how in ((q, "{n} times"), (1 / q, "divided by {n}"),
                            (2 * q, "2·{n} times"), (q / 2, "{n}/2 times"),
                            (q / (q - 1), "{n}/({n}-1) times"),
                            ((q - 1) / q, "({n}-1)/{n} times")):
            if abs(c - factor) <= 1e-6 * abs(factor):
                short = name.split(",")[0]
                shown = "" if hidden else f" ({q:g})"
                said = how.format(n=short)
                cause = (": a sum where a mean is expected, or a division by it missing"
                         if how.startswith("{n} times") else
                         ": divided by it once too often (a mean of something already "
                         "averaged, or a sum expected)" if how.startswith("divided") else
                         f": divided by {short}-1 where the mean divides by {short}"
                         if how.startswith("{n}/({n}-1)") else
                         f": divided by {short} where {short}-1 is expected"
                         if how.startswith("({n}-1)") else "")
                return Diagnosis(f"{said} the expected value",
                                 f"every value is {said} the expected one, {name}{shown}{cause}")
    return None


def _component(a: np.ndarray, e: np.ndarray, kind: str, device: str) -> Diagnosis | None:
    """For a small vector (a gradient, a parameter pair): which entries are wrong, and how."""
    if a.ndim != 1 or not 2 <= a.size <= 8:
        return None
    tol = tolerance_for(kind, "float64", device)
    right = np.abs(a - e) <= tol.atol + tol.rtol * np.abs(e)
    if right.all() or not right.any():
        return None
    parts = []
    for i in np.flatnonzero(~right):
        rel = ""
        if abs(e[i]) > 1e-12:
            c = a[i] / e[i]
            word = next((w for k, w in WORDS.items() if abs(c - k) < 1e-6), None)
            rel = f" (it is {word} the expected one)" if word else ""
        parts.append(f"[{i}]{rel}")
    ok = ", ".join(f"[{i}]" for i in np.flatnonzero(right))
    one = len(parts) == 1
    return Diagnosis("one component wrong",
                     f"only entr{'y' if one else 'ies'} {', '.join(parts)} of your result "
                     f"{'is' if one else 'are'} wrong; {ok} {'is' if right.sum() == 1 else 'are'}"
                     " right: the mistake is in the formula of that component alone")


def _motion(a: np.ndarray, e: np.ndarray) -> Diagnosis | None:
    """How a trajectory moves where the expected one moves at every step."""
    if a.ndim != 2 or a.shape[0] < 3:
        return None
    moved = np.any(a[1:] != a[:-1], axis=1)
    expected_moves = np.any(e[1:] != e[:-1], axis=1)
    if not expected_moves.all():
        return None
    if not moved.any():
        return Diagnosis("parameters never move",
                         "your parameters never change from one row to the next: the update "
                         "does not reach them (optimizer.step() missing, the update applied "
                         "to a copy, inside a condition that never holds, or a zero step)")
    steps_a, steps_e = np.diff(a, axis=0), np.diff(e, axis=0)
    if moved.all() and np.allclose(steps_a, steps_a[0], rtol=1e-9, atol=1e-12) and \
            not np.allclose(steps_e, steps_e[0], rtol=1e-6, atol=1e-12):
        return Diagnosis("the same step every time",
                         "your parameters move by exactly the same step every time (a "
                         "straight line): the gradient is computed once, from the starting "
                         "point, instead of being recomputed at every step from the current "
                         "parameters")
    steps = np.flatnonzero(moved) + 1  # rows where a change shows
    if moved[: steps[-1]].all() and steps[-1] < a.shape[0] - 1:
        return Diagnosis("updates stop early",
                         f"your trajectory stops changing after row {steps[-1]}: the updates "
                         "stop before the last step (a loop that ends early or a break)")
    gaps = np.diff(np.concatenate([[0], steps]))
    if len(steps) >= 2 and len(set(gaps[1:].tolist())) == 1 and gaps[1] > 1:
        k = int(gaps[1])
        return Diagnosis("update inside a condition",
                         f"your parameters change only every {k} steps: the update sits "
                         f"inside a condition (such as `if t % {k} == {k - 1}:`) that should "
                         "only guard printing or recording")
    return None


def _drift(a: np.ndarray, e: np.ndarray, kind: str, device: str,
           inputs: dict | None = None) -> Diagnosis | None:
    """A trajectory whose first step is right and which leaves the expected one later: each
    step depends on something the previous steps left behind."""
    if a.ndim != 2 or a.shape[0] < 3:
        return None
    tol = tolerance_for(kind, "float64", device)
    right = np.all(np.abs(a - e) <= tol.atol + tol.rtol * np.abs(e), axis=1)
    if not right[0] or right.all():
        return None
    t = int(np.argmin(right))  # the first row that leaves
    wrong = np.flatnonzero(np.abs(a[t] - e[t]) > tol.atol + tol.rtol * np.abs(e[t]))
    which = "" if len(wrong) == a.shape[1] else (
        f" (at first only column{'s' if len(wrong) > 1 else ''} "
        f"{', '.join(f'[{i}]' for i in wrong)})")
    head = (f"your first {t} step{'s are' if t > 1 else ' is'} right, then the path leaves "
            f"the expected one at step {t + 1}{which}: ")
    if any(is_index_batches(v) for _, v in arguments(inputs)):
        return Diagnosis("right first epoch, then a drift",
                         head + "the batches given are to be used as they are, in the same "
                         "order every epoch (no reshuffling between epochs, none skipped or "
                         "repeated), and nothing may carry over from one epoch to the next")
    return Diagnosis("right first step, then a drift",
                     head + "something carries over from one step to the next, most often "
                     "gradients that are not cleared and accumulate (zero every parameter's "
                     "gradient after each update), or a value kept from the previous step")


def _rows(a: np.ndarray, e: np.ndarray, kind: str, device: str,
          hidden: bool = False) -> Diagnosis | None:
    """A trajectory with another number of rows than expected, explained by its rows (on a
    hidden case without the counts, which would tell the case's shape)."""
    if not (a.ndim == e.ndim == 2 and a.shape[1] == e.shape[1] and a.shape[0] > e.shape[0]):
        return None
    if a.shape[0] == e.shape[0] + 1:
        if close(a[1:], e, kind, device):
            return Diagnosis("start recorded as a row",
                             "your trajectory has one row too many: it starts with the "
                             "starting point; row t must hold the parameters after update t+1")
        if close(a[:-1], e, kind, device):
            return Diagnosis("one update too many",
                             "your trajectory has one row too many, at the end: the loop runs "
                             "once more than asked (range(n + 1), or a row added after it)")
    k, rest = divmod(a.shape[0], e.shape[0])
    if k > 1 and rest == 0 and close(a[k - 1::k], e, kind, device):
        if hidden:
            return Diagnosis("a row per inner step",
                             "your trajectory has a whole multiple of the expected rows, and "
                             "the last row of each group is right: you record a row after "
                             "every update; record one row per epoch, after its inner loop")
        return Diagnosis("a row per inner step",
                         f"your trajectory has {k} times as many rows as expected, and every "
                         f"{k}th row is right: you record a row after every update; record "
                         "one row per epoch, after its inner loop (the last row of every 1 in "
                         f"{k})")
    return None


def _index_parts(desc: Any) -> list[np.ndarray] | None:
    """A returned list of integer arrays (batches of indices), or None."""
    if not isinstance(desc, dict) or desc.get("kind") not in ("list", "tuple"):
        return None
    parts = [described_array(item) for item in desc.get("items", [])]
    if not parts or any(p is None or p.ndim != 1 for p in parts):
        return None
    return parts


def _order(actual: dict, expected: dict, inputs) -> Diagnosis | None:
    """The right indices in another order: where the order came from."""
    a, e = _index_parts(actual.get("result")), _index_parts(expected.get("result"))
    if a is None or e is None:
        return None
    flat_a, flat_e = np.concatenate(a), np.concatenate(e)
    if flat_a.shape != flat_e.shape or not np.array_equal(np.sort(flat_a), np.sort(flat_e)):
        return None
    runs = lambda parts: all(p.size < 2 or np.all(np.diff(p) == 1) for p in parts)
    if runs(a) and not runs(e):
        return Diagnosis("chunks shuffled instead of indices",
                         "each of your parts is a run of consecutive indices, only their order "
                         "changes: shuffle the indices first (a permutation of all n), then cut "
                         "them into consecutive chunks")
    source = next((where for where, v in arguments(inputs)
                   if isinstance(v, dict) and "__rng__" in v), "")
    if source:
        return Diagnosis("order not from the generator passed",
                         "your parts hold the right indices in another random order: the order "
                         f"must come from the random generator passed in ({source}): call its "
                         "own methods (rng.permutation), not np.random or a new generator")
    return Diagnosis("right values, wrong order",
                     "you return the right values in the wrong order (a permutation)")


def _walk(actual: Any, expected: Any, look) -> Any:
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
        found = _walk(a, e, look)
        if found:
            return found
    return None


def _kinds(actual: Any, expected: Any) -> Diagnosis | None:
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
    return _walk(actual, expected, look)


def _power(a: np.ndarray, e: np.ndarray, kind: str, device: str) -> Diagnosis | None:
    """The square root of the expected values, or their square (a root or a power too many
    or too few: an RMSE for an MSE, a norm for a squared norm)."""
    if np.all(e >= 0) and np.any(e > 1e-12) and close(a, np.sqrt(e), kind, device):
        return Diagnosis("square root of the expected value",
                         "your value is the square root of the expected one: a root that the "
                         "formula does not take (np.sqrt, ** 0.5, a norm instead of its square)")
    if np.any(np.abs(e) > 1e-12) and not close(e, e ** 2, kind, device) and \
            close(a, e ** 2, kind, device):
        return Diagnosis("square of the expected value",
                         "your value is the square of the expected one: a power the formula "
                         "does not have (** 2 applied once too often)")
    return None


FLOATS = ("float16", "bfloat16", "float32", "float64")


def _dtypes(actual: Any, expected: Any) -> tuple[str, str] | None:
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
    return _walk(actual, expected, look)


def _precision(actual: dict, expected: dict) -> Diagnosis | None:
    found = _dtypes(actual, expected)
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


def _registered(actual: dict, expected: dict) -> Diagnosis | None:
    """A module whose parameters the framework cannot see."""
    names_a, names_e = actual.get("names"), expected.get("names")
    if isinstance(names_e, list) and names_e and names_a == []:
        return Diagnosis("no parameters registered",
                         "your module has no parameters: tensors become parameters only as "
                         "nn.Parameter(...) (or inside layers such as nn.Linear) assigned as "
                         "attributes after super().__init__(); a plain tensor, or one kept in "
                         "a Python list, is invisible to model.parameters()")
    return None


def _parts(actual: dict, expected: dict, kind: str, device: str) -> Diagnosis | None:
    """A list result with its first or last part missing, or one part too many."""
    a, e = actual.get("result"), expected.get("result")
    if not (isinstance(a, dict) and isinstance(e, dict) and a.get("kind") == e.get("kind")
            and a.get("kind") in ("list", "tuple")):
        return None
    items_a, items_e = a.get("items", []), e.get("items", [])
    same = lambda xs, ys: len(xs) == len(ys) and all(
        (described_array(x) is not None and described_array(y) is not None and
         described_array(x).shape == described_array(y).shape and
         close(described_array(x), described_array(y), kind, device)) or x == y
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


def _packed(actual: Any, expected: Any) -> Diagnosis | None:
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
    return _walk(actual, expected, look)


def _unused_parameters(actual: dict, expected: dict) -> Diagnosis | None:
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


def _seed_input(inputs) -> str:
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


def _arrangement(actual: dict, expected: dict, inputs) -> Diagnosis | None:
    """The right integers (indices, members) arranged otherwise, where the case passes a
    random source: the arrangement did not come from it."""
    source = _seed_input(inputs)
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
                     "your result holds the right values arranged otherwise: the random "
                     f"arrangement must come from the random source passed in ({source}): draw "
                     "it from a generator seeded with it (torch.Generator().manual_seed(seed), "
                     "np.random.default_rng(seed)), not from an unseeded or global one")


ACTIVATIONS = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "tanh": np.tanh,
    "ReLU": lambda x: np.maximum(x, 0.0), "exp": np.exp, "absolute value": np.abs,
}


def _elementwise(actual: Any, expected: Any, kind: str, device: str) -> Diagnosis | None:
    """An activation too many at the end (the result is f of the expected one), or one
    missing (the expected result is f of the student's), anywhere inside."""
    def look(a, e):
        av = described_array(a) if isinstance(a, dict) else None
        ev = described_array(e) if isinstance(e, dict) else None
        if av is None or ev is None or av.shape != ev.shape or av.size < 2 or \
                not (np.isfinite(av).all() and np.isfinite(ev).all()):
            return None
        with np.errstate(all="ignore"):
            for name, f in ACTIVATIONS.items():
                if close(f(ev), ev, kind, device, "float32"):
                    continue  # f changes nothing here: it cannot be told apart
                if close(av, f(ev), kind, device, "float32"):
                    return Diagnosis(f"an extra {name}",
                                     f"your result is the {name} of the expected one: an extra "
                                     f"{name} (activation) is applied at the end")
                if close(ev, f(av), kind, device, "float32"):
                    return Diagnosis(f"the {name} missing",
                                     f"the expected result is the {name} of yours: the final "
                                     f"{name} (activation) is missing")
        return None
    return _walk(actual, expected, look)


def _row_scale(a: np.ndarray, e: np.ndarray) -> Diagnosis | None:
    """Each row (or column) scaled by a constant of its own: a per-row normalisation taken
    over the wrong axis, or over the whole array."""
    if a.ndim != 2 or min(a.shape) < 2 or np.any(np.abs(e) < 1e-12):
        return None
    r = a / e
    for axis, what in ((1, "row"), (0, "column")):
        per = r.mean(axis=axis, keepdims=True)
        if np.allclose(r, per, rtol=1e-6, atol=1e-12) and not np.allclose(per, per.flat[0],
                                                                           rtol=1e-6):
            return Diagnosis(f"each {what} scaled by its own constant",
                             f"each {what} of your result is the expected {what} times a "
                             f"constant of its own: a per-{what} scaling (such as the sum "
                             f"that normalises each {what}) is taken over the wrong axis or "
                             f"over the whole array; compute it for each {what} (axis="
                             f"{1 if what == 'row' else 0}, keepdims=True)")
    return None


def _scalar(desc: Any) -> float | None:
    if isinstance(desc, dict) and desc.get("kind") in ("float", "int"):
        return float(desc["value"])
    return None


def generic(actual: dict, expected: dict, kind: str, device: str, hidden: bool,
            probe: Probe | None = None, inputs: dict | None = None) -> Diagnosis | None:
    """A pattern in how the returned numbers differ from the expected ones, or None. A
    property the probe declares with a hint (``Report(hint=...)``) that holds for the
    reference and not for the student's code says that hint."""
    for key, report in (probe.reports.items() if probe else ()):
        if report.hint and expected.get(key) is True and actual.get(key) is False:
            return Diagnosis(f"{report.label} fails", report.hint)
    registered = _registered(actual, expected)
    if registered:
        return registered
    flows = actual.get("grads_flow")
    if isinstance(flows, list) and flows and expected.get("grads_flow") != flows and \
            not any(any(row) for row in flows if isinstance(row, list)):
        return Diagnosis("no gradient flow",
                         "no gradient reaches your parameters: forward must compute with the "
                         "parameters themselves (no .detach(), .item() or new tensors)")
    unused = _unused_parameters(actual, expected)
    if unused:
        return unused
    found = (_kinds(actual, expected) or _packed(actual, expected) or
             _order(actual, expected, inputs) or _parts(actual, expected, kind, device) or
             _arrangement(actual, expected, inputs))
    if found:
        return found
    sa, se = _scalar(actual.get("result")), _scalar(expected.get("result"))
    if sa is not None and se is not None and abs(se) > 1e-12:
        c = sa / se
        word = next((w for k, w in WORDS.items() if abs(c - k) < 1e-9), None)
        return _factor(c, inputs or {}, hidden) or (
            Diagnosis(f"{word} the expected value", f"your value is {word} the expected one")
            if word else _power(np.asarray(sa), np.asarray(se), kind, device))
    a, e = described_array(actual.get("result")), described_array(expected.get("result"))
    if a is None or e is None:
        return _elementwise(actual, expected, kind, device) or _precision(actual, expected)
    if a.shape != e.shape:
        if a.shape == e.shape[::-1] and a.ndim == 2 and close(a.T, e, kind, device):
            return Diagnosis("transposed", "your result is the transpose of the expected one")
        return _rows(a, e, kind, device, hidden)
    if not (np.isfinite(a).all() and np.isfinite(e).all()) or e.size == 0:
        return None
    if kind in ("trajectory", "fit") and a.ndim == 2 and a.shape[0] > 1:
        if close(a[1:], e[:-1], kind, device):
            return Diagnosis("one step behind",
                             "your trajectory is one step behind: it records the parameters "
                             "before each update (the starting point first) instead of after it")
        if close(a[:-1], e[1:], kind, device):
            return Diagnosis("one step ahead",
                             "your trajectory is one step ahead of the expected one")
        motion = _motion(a, e)
        if motion:
            return motion
    if expected["result"].get("dtype") == "float64" and close(a, e, kind, device, "float32"):
        return Diagnosis("float32 precision",
                         "your numbers agree only to float32 precision: somewhere the "
                         "computation runs in float32 (torch.Tensor(...), dtype=torch.float32, "
                         "or .float())")
    if kind in ("trajectory", "fit"):
        drift = _drift(a, e, kind, device, inputs)
        if drift:
            return drift
    nz = np.abs(e) > 1e-12
    if nz.any():
        ratio = a[nz] / e[nz]
        c = float(np.median(ratio))
        if abs(c - 1) > 1e-6 and np.allclose(ratio, c, rtol=1e-6, atol=1e-9) and \
                close(a, c * e, kind, device):
            named = _factor(c, inputs or {}, hidden)
            if named:
                return named
            word = next((w for k, w in WORDS.items() if abs(c - k) < 1e-9), None)
            if hidden or word is None:
                return Diagnosis("a constant factor",
                                 "every value is the expected one times the same constant" +
                                 ("" if hidden else f" ({c:.6g})") + ": look for a missing or "
                                 "extra factor (or a sign)")
            return Diagnosis(f"{word} the expected value", f"every value is {word} the expected one")
    found = (_component(a, e, kind, device) or _power(a, e, kind, device) or
             _row_scale(a, e) or _elementwise(actual, expected, kind, device))
    if found:
        return found
    if a.ndim >= 1 and a.size > 1 and close(np.sort(a, axis=None), np.sort(e, axis=None),
                                             kind, device):
        return Diagnosis("right values, wrong order",
                         "you return the right values in the wrong order (a permutation)")
    return _precision(actual, expected)


def own_loop_holds(actual: dict, inputs: dict, kind: str, device: str) -> bool:
    """True when every re-checked step is exactly a step along the student's own gradient:
    ``row[t] == row[t-1] - lr * own_grad(row[t-1])`` (``row[-1]`` being the start)."""
    own = actual.get("_own_grads")
    rows = described_array(actual.get("result"))
    if own is None or rows is None or rows.ndim != 2 or len(own) == 0:
        return False
    own = np.asarray(own, dtype=np.float64)
    args = inputs["args"]
    start, lr = np.asarray(args[0], dtype=np.float64), float(args[3])
    if own.shape != (min(len(rows), len(own)), rows.shape[1]):
        return False
    prev = np.vstack([start[None, :], rows[:len(own) - 1]])
    got, want = rows[:len(own)], prev - lr * own
    nan = np.isnan(want)
    if not np.array_equal(np.isnan(got), nan):  # NaN from a NaN gradient is the loop's due
        return False
    return close(np.where(nan, 0.0, got), np.where(nan, 0.0, want), kind, device)


def close(a: np.ndarray, e: np.ndarray, kind: str, device: str, dtype: str = "float64"):
    """Every entry within the kind's tolerance (shapes equal)."""
    tol = tolerance_for(kind, dtype, device)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= tol.atol + tol.rtol * np.abs(e)))

