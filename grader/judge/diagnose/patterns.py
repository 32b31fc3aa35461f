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

from typing import Any

import numpy as np

from grader.course.probes import described_array
from grader.judge.compare import as_float, tolerance_for, within
from grader.course.spec import Probe
from grader.judge.diagnose.case import arguments, case_quantities, plain
from grader.judge.diagnose.cause import Diagnosis
from grader.judge.diagnose.outputs import (arrangement, constant, dataset_length, dtypes,
                                           elementwise, kinds, normalised_rows, order, packed,
                                           parts, precision, registered, singleton,
                                           unused_parameters)
from grader.judge.diagnose.trajectories import drift, extra_rows, motion, reordered

WORDS = {0.5: "half", 2.0: "twice", -1.0: "the negative of", -0.5: "minus half",
         -2.0: "minus twice"}


def _is_an_input(row: np.ndarray, inputs, kind: str, device: str) -> bool:
    """Whether ``row`` is one of the case's inputs (the starting point a loop was given)."""
    for _, value in arguments(inputs):
        try:
            x = np.asarray(plain(value), dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if x.size == row.size and x.size and within(row, x.reshape(row.shape), kind, device):
            return True
    return False


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


def _component(a: np.ndarray, e: np.ndarray, kind: str, device: str, inputs,
               hidden: bool) -> Diagnosis | None:
    """For a small vector (a gradient, a parameter pair): which entries are wrong, and how;
    where all are, one entry off by a factor that is a quantity of the case (the entries
    computed from it inherit the mistake)."""
    if a.ndim != 1 or not 2 <= a.size <= 8:
        return None
    tol = tolerance_for(kind, "float64", device)
    right = np.abs(a - e) <= tol.atol + tol.rtol * np.abs(e)
    if right.all():
        return None
    if not right.any():
        return _entry_factor(a, e, inputs, hidden)
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
                     " right", cause=False)


def _entry_factor(a: np.ndarray, e: np.ndarray, inputs, hidden: bool) -> Diagnosis | None:
    """The first entry (all wrong) off by a factor that is a quantity of the case."""
    for i in range(a.size):
        if abs(e[i]) <= 1e-12:
            continue
        named = _factor(a[i] / e[i], inputs or {}, hidden)
        if named:
            return Diagnosis(f"an entry {named.name}",
                             named.hint.replace("every value is", f"entry [{i}] of your "
                                                "result is", 1) +
                             "; the entries computed from it are off because of it")
    return None


def _complement(a: np.ndarray, e: np.ndarray, kind: str, device: str) -> Diagnosis | None:
    """One minus the expected values, where those are fractions: the share of the other
    outcome (the wrong ones for the right ones, a probability of the other class)."""
    if not (np.all(e >= 0) and np.all(e <= 1)) or within(a, e, kind, device) or \
            not within(a, 1 - e, kind, device):
        return None
    return Diagnosis("one minus the expected value",
                     "your value is one minus the expected one: you count the other outcome "
                     "(the wrong ones where the right ones are asked for, or the probability "
                     "of the other class); flip the comparison")


def _power(a: np.ndarray, e: np.ndarray, kind: str, device: str) -> Diagnosis | None:
    """The square root of the expected values, or their square (a root or a power too many
    or too few: an RMSE for an MSE, a norm for a squared norm)."""
    if np.all(e >= 0) and np.any(e > 1e-12) and within(a, np.sqrt(e), kind, device):
        return Diagnosis("square root of the expected value",
                         "your value is the square root of the expected one: a root that the "
                         "formula does not take (np.sqrt, ** 0.5, a norm instead of its square)")
    if np.any(np.abs(e) > 1e-12) and not within(e, e ** 2, kind, device) and \
            within(a, e ** 2, kind, device):
        return Diagnosis("square of the expected value",
                         "your value is the square of the expected one: a power the formula "
                         "does not have (** 2 applied once too often)")
    return None


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


def _not_reduced(a: np.ndarray | None, se: float, kind: str,
                 device: str) -> Diagnosis | None:
    """Many numbers where one is expected: the reduction (a mean, a sum) left out."""
    if a is None or a.size < 2:
        return None
    for how, value in (("mean", a.mean()), ("sum", a.sum())):
        if within(np.asarray(value), np.asarray(se), kind, device):
            return Diagnosis("an array where one number is expected",
                             f"you return {a.size} numbers (shape {tuple(a.shape)}) where one "
                             f"is expected, and their {how} is the expected value: reduce "
                             f"them ({'np.mean / .mean()' if how == 'mean' else 'np.sum / .sum()'})")
    return Diagnosis("an array where one number is expected",
                     f"you return {a.size} numbers (shape {tuple(a.shape)}) where one is "
                     "expected: reduce them to a single number (a mean, a sum)", cause=False)


def _one_row(a: np.ndarray, e: np.ndarray, kind: str, device: str) -> Diagnosis | None:
    """One row of the expected rows (the last: the final state; the first), as if the loop
    returned what it ends with instead of what it records."""
    if e.ndim < 2 or a.shape != e.shape[1:] or len(e) < 2:
        return None
    for row, which in ((-1, "the last"), (0, "the first")):
        if within(a, e[row], kind, device):
            return Diagnosis(f"only {which} row",
                             f"you return only {which} of the {len(e)} expected rows (the "
                             f"{'final' if row == -1 else 'first'} state): record a row at every "
                             "step (append it to a list inside the loop) and return them all")
    return None


def _offset(a: np.ndarray, e: np.ndarray, kind: str, device: str, inputs,
            hidden: bool) -> Diagnosis | None:
    """Every value off by the same amount: a constant term missing or extra, named when an
    entry of the case's inputs equals it (an intercept, a bias)."""
    d = a - e
    c = float(np.median(d))
    if a.size < 2 or abs(c) <= 1e-12 or not within(a, e + c, kind, device):
        return None
    named = ""
    for where, raw in arguments(inputs):
        v = plain(raw)
        values = np.asarray(v, dtype=float).ravel() if isinstance(v, (np.ndarray, float, int)) \
            and not isinstance(v, bool) and np.size(v) <= 8 else np.zeros(0)
        for i, x in enumerate(values):
            if abs(x) > 1e-12 and abs(abs(c) - abs(x)) <= 1e-6 * abs(x):
                entry = where if np.ndim(v) == 0 else f"entry [{i}] of {where}"
                named = (f": it is {'minus ' if c * x < 0 else ''}{entry}, so a term with "
                         f"it is {'missing' if c * x < 0 else 'counted twice'}")
                break
        if named:
            break
    shown = "" if hidden else f" ({c:+.6g})"
    return Diagnosis("off by a constant",
                     f"every value is the expected one plus the same constant{shown}"
                     f"{named or ': a constant term (an intercept, a bias) is missing or extra'}")


def _scalar(desc: Any) -> float | None:
    if isinstance(desc, dict) and desc.get("kind") in ("float", "int"):
        return as_float(desc["value"])
    return None


def generic(actual: dict, expected: dict, kind: str, device: str, hidden: bool,
            probe: Probe | None = None, inputs: dict | None = None) -> Diagnosis | None:
    """A pattern in how the returned numbers differ from the expected ones, or None. A
    property the probe declares with a hint (``Report(hint=...)``) that holds for the
    reference and not for the student's code says that hint."""
    for key, report in (probe.reports.items() if probe else ()):
        if report.hint and expected.get(key) is True and actual.get(key) is False:
            return Diagnosis(f"{report.label} fails", report.hint, cause=False)
    path = kind in ("trajectory", "fit")
    found = (registered(actual, expected) or
             # a path's rows are parameters, not activations: a path that never moves (at
             # a point whose entries sum to 1, say) is told so by the trajectory findings below
             (not path and (normalised_rows(actual, expected) or constant(actual, expected))))
    if found:
        return found
    flows = actual.get("grads_flow")
    if isinstance(flows, list) and flows and expected.get("grads_flow") != flows and \
            not any(any(row) for row in flows if isinstance(row, list)):
        return Diagnosis("no gradient flow",
                         "no gradient reaches your parameters: forward must compute with the "
                         "parameters themselves (no .detach(), .item() or new tensors)")
    unused = unused_parameters(actual, expected) or \
        dataset_length(actual, expected, kind, device, inputs, hidden)
    if unused:
        return unused
    found = (kinds(actual, expected) or packed(actual, expected) or
             singleton(actual, expected) or
             order(actual, expected, inputs) or parts(actual, expected, kind, device) or
             arrangement(actual, expected, inputs))
    if found:
        return found
    sa, se = _scalar(actual.get("result")), _scalar(expected.get("result"))
    if se is not None and sa is None:
        found = _not_reduced(described_array(actual.get("result")), se, kind, device)
        if found:
            return found
    if sa is not None and se is not None:
        found = _complement(np.asarray(sa), np.asarray(se), kind, device)
        if found:
            return found
    if sa is not None and se is not None and abs(se) > 1e-12:
        c = sa / se
        word = next((w for k, w in WORDS.items() if abs(c - k) < 1e-9), None)
        return _factor(c, inputs or {}, hidden) or (
            Diagnosis(f"{word} the expected value", f"your value is {word} the expected one")
            if word else _power(np.asarray(sa), np.asarray(se), kind, device))
    a, e = described_array(actual.get("result")), described_array(expected.get("result"))
    if a is None or e is None:
        return elementwise(actual, expected, kind, device) or precision(actual, expected)
    if a.shape != e.shape:
        if a.shape == e.shape[::-1] and a.ndim == 2 and within(a.T, e, kind, device):
            return Diagnosis("transposed", "your result is the transpose of the expected one")
        return _one_row(a, e, kind, device) or extra_rows(a, e, kind, device, hidden)
    if not (np.isfinite(a).all() and np.isfinite(e).all()) or e.size == 0:
        return None
    if kind in ("trajectory", "fit") and a.ndim == 2 and a.shape[0] > 1:
        if within(a[1:], e[:-1], kind, device):
            if _is_an_input(a[0], inputs, kind, device):  # the witness: row 0 is the start
                return Diagnosis("one step behind",
                                 "your trajectory is one step behind: it records the "
                                 "parameters before each update (the starting point first) "
                                 "instead of after it")
            return Diagnosis("one step behind",
                             "your trajectory is one step behind the expected one: from your "
                             "second row on, each row is the expected row before it",
                             cause=False)
        if within(a[:-1], e[1:], kind, device):
            return Diagnosis("one step ahead",
                             "your trajectory is one step ahead of the expected one")
        found = reordered(a, e, kind, device) or motion(a, e, kind, device, hidden)
        if found:
            return found
    if expected["result"].get("dtype") == "float64" and within(a, e, kind, device, "float32"):
        return Diagnosis("float32 precision",
                         "your numbers agree only to float32 precision: somewhere the "
                         "computation runs in float32 (torch.Tensor(...), dtype=torch.float32, "
                         "or .float())")
    if kind in ("trajectory", "fit"):
        found = drift(a, e, kind, device, inputs)
        if found:
            return found
    nz = np.abs(e) > 1e-12
    if nz.any():
        ratio = a[nz] / e[nz]
        c = float(np.median(ratio))
        if abs(c - 1) > 1e-6 and np.allclose(ratio, c, rtol=1e-6, atol=1e-9) and \
                within(a, c * e, kind, device):
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
    found = None if dtypes(actual, expected) else _offset(a, e, kind, device, inputs, hidden)
    if found:
        return found
    found = (_component(a, e, kind, device, inputs, hidden) or
             _complement(a, e, kind, device) or _power(a, e, kind, device) or
             _row_scale(a, e) or elementwise(actual, expected, kind, device))
    if found:
        return found
    if a.ndim >= 1 and a.size > 1 and within(np.sort(a, axis=None), np.sort(e, axis=None),
                                             kind, device):
        return Diagnosis("right values, wrong order",
                         "you return the right values in the wrong order (a permutation)")
    return precision(actual, expected)
