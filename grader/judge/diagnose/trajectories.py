"""Findings on trajectories (one row of parameters per step): how a path moves where the
expected one moves every step (stuck at one of its rows, stopping, every k steps), the
expected rows reversed or shifted, rows too many, a drift after a right start, and a loop
judged on its own against the student's own gradient."""
from __future__ import annotations

import numpy as np

from grader.judge.compare import tolerance_for, within
from grader.judge.diagnose.case import arguments, is_index_batches
from grader.judge.diagnose.cause import Diagnosis


def motion(a: np.ndarray, e: np.ndarray, kind: str = "trajectory",
           device: str = "cpu", hidden: bool = False) -> Diagnosis | None:
    """How a trajectory moves where the expected one moves at every step."""
    if a.ndim != 2 or a.shape[0] < 3:
        return None
    moved = np.any(a[1:] != a[:-1], axis=1)
    expected_moves = np.any(e[1:] != e[:-1], axis=1)
    if not expected_moves.all():
        return None
    if not moved.any() and a.shape == e.shape and within(a, np.repeat(e[-1:], len(e), axis=0),
                                                         kind, device):
        # the witness: every expected row replaced by the last one is what was returned
        return Diagnosis("every row the final state",
                         "every row you return equals the expected last row: each row you "
                         "record is the same array (or tensor), changed in place by the later "
                         "updates; record a copy of it (.copy(), .clone()) at every step")
    if not moved.any() and a.shape == e.shape:
        k = next((k for k in range(len(e) - 1)
                  if within(a, np.repeat(e[k:k + 1], len(e), axis=0), kind, device)), None)
        if k is not None:  # seen only: which of the expected rows, not how it came to stay
            which = ("the first of the expected rows" if k == 0 else
                     "one same row of the expected ones (not the first, not the last)"
                     if hidden else
                     f"the expected row {k} (counting from 0, of {len(e)} rows)")
            return Diagnosis("every row one expected row",
                             f"every row you return equals {which}, where the expected rows "
                             "change at every step", cause=False)
    if not moved.any():
        return Diagnosis("parameters never move",
                         "your parameters never change from one row to the next (the expected "
                         "ones change at every step): no update reaches the rows you record",
                         cause=False)
    steps_a, steps_e = np.diff(a, axis=0), np.diff(e, axis=0)
    if moved.all() and np.allclose(steps_a, steps_a[0], rtol=1e-9, atol=1e-12) and \
            not np.allclose(steps_e, steps_e[0], rtol=1e-6, atol=1e-12):
        return Diagnosis("the same step every time",
                         "your parameters move by exactly the same step every time (a "
                         "straight line from the starting point), where the expected steps "
                         "change from one step to the next", cause=False)
    steps = np.flatnonzero(moved) + 1  # rows where a change shows
    if moved[: steps[-1]].all() and steps[-1] < a.shape[0] - 1:
        last = steps[-1]
        if a.shape == e.shape and within(a[:last + 1], e[:last + 1], kind, device):
            return Diagnosis("updates stop early",
                             f"your trajectory stops changing after row {last}: your rows up "
                             f"to row {last} are the expected ones, and every later row "
                             f"repeats your row {last}, where the expected one changes at "
                             "every row up to its last", cause=False)
        return Diagnosis("updates stop early",
                         f"your trajectory stops changing after row {steps[-1]}, where the "
                         "expected one changes at every row up to its last", cause=False)
    gaps = np.diff(np.concatenate([[0], steps]))
    if len(steps) >= 2 and len(set(gaps[1:].tolist())) == 1 and gaps[1] > 1:
        k = int(gaps[1])
        return Diagnosis("update inside a condition",
                         f"your parameters change only every {k} steps, where the expected "
                         "ones change at every step", cause=False)
    return None


def reordered(a: np.ndarray, e: np.ndarray, kind: str, device: str) -> Diagnosis | None:
    """The expected rows in reverse order, or shifted by two steps or more (one step has its
    own finding): what was seen, never why."""
    if a.ndim != 2 or a.shape != e.shape or len(e) < 3 or \
            not np.any(e[1:] != e[:-1], axis=1).all():
        return None
    if within(a, e[::-1], kind, device) and not within(e, e[::-1], kind, device):
        return Diagnosis("rows in reverse order",
                         "your trajectory is the expected one in reverse order: your first "
                         "row is the expected last one and your last row the expected first",
                         cause=False)
    for k in range(2, len(e) - 1):  # at least two rows overlap
        if within(a[k:], e[:-k], kind, device):
            return Diagnosis("shifted by several steps",
                             f"your trajectory is the expected one {k} steps late: from your "
                             f"row {k} on, each of your rows equals the expected row {k} "
                             "before it", cause=False)
        if within(a[:-k], e[k:], kind, device):
            return Diagnosis("shifted by several steps",
                             f"your trajectory is the expected one {k} steps early: each of "
                             f"your rows up to the last {k} equals the expected row {k} after "
                             "it", cause=False)
    return None


def drift(a: np.ndarray, e: np.ndarray, kind: str, device: str,
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
    right_steps = "step is" if t == 1 else f"{t} steps are"
    head = (f"your first {right_steps} right, then the path leaves "
            f"the expected one at step {t + 1}{which}: ")
    if any(is_index_batches(v) for _, v in arguments(inputs)):
        return Diagnosis("right first epoch, then a drift",
                         head + "the batches given are to be used as they are, in the same "
                         "order every epoch (no reshuffling between epochs, none skipped or "
                         "repeated), and nothing may carry over from one epoch to the next", cause=False)
    return Diagnosis("right first step, then a drift",
                     head + "the first update is computed as expected and a later one is not, "
                     "so look at what one step leaves to the next (gradients that are not "
                     "cleared accumulate; a buffer or value kept, or reset, between steps)",
                     cause=False)


def extra_rows(a: np.ndarray, e: np.ndarray, kind: str, device: str,
          hidden: bool = False) -> Diagnosis | None:
    """A trajectory with another number of rows than expected, explained by its rows (on a
    hidden case without the counts, which would tell the case's shape)."""
    if not (a.ndim == e.ndim == 2 and a.shape[1] == e.shape[1] and a.shape[0] > e.shape[0]):
        return None
    if a.shape[0] == e.shape[0] + 1:
        if within(a[1:], e, kind, device):
            return Diagnosis("start recorded as a row",
                             "your trajectory has one row too many: it starts with the "
                             "starting point; row t must hold the parameters after update t+1")
        if within(a[:-1], e, kind, device):
            return Diagnosis("one update too many",
                             "your trajectory has one row too many, at the end: the loop runs "
                             "once more than asked (range(n + 1), or a row added after it)")
    k, rest = divmod(a.shape[0], e.shape[0])
    if k > 1 and rest == 0 and within(a[k - 1::k], e, kind, device):
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


OWN_STEPS = 1000
"""The longest descent loop the own-loop rule re-checks, every step of it; a longer one is
judged as it is. (Only the first 50 steps were re-checked once: a loop right on its own
gradient for 50 steps, then frozen, kept the points of a right loop of 300.)"""


def own_loop_points(rows: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Where the student's gradient is asked for: the start, then every row but the last
    (the point each step starts from)."""
    return np.vstack([start[None, :], rows[:len(rows) - 1]])


def own_loop_holds(rows: np.ndarray, start: np.ndarray, lr: float, grads: np.ndarray,
                   reference_grads: np.ndarray, expected: np.ndarray | None, kind: str,
                   device: str) -> bool:
    """Trusted: whether every step of a path is a right loop on the student's
    own gradient, ``row[t] == row[t-1] - lr * grad(row[t-1])`` (``row[-1]`` being the start),
    with ``grads`` what the student's gradient function returned at those points in calls of
    its own (``own_loop_points``) and ``reference_grads`` the reference's at the same points.

    It holds only where that gradient says something and the path goes somewhere: every value
    finite, the gradient not all (nearly) zero, not one constant where the reference's varies
    across the points, and the path moving at every step where the expected one moves (not
    the start repeated). A zero gradient with a loop that returns its start is no loop."""
    points = own_loop_points(rows, start)
    m = len(points)
    if grads.shape != points.shape or reference_grads.shape != points.shape or m == 0:
        return False
    got = rows[:m]
    if not (np.isfinite(got).all() and np.isfinite(grads).all() and np.isfinite(lr)):
        return False
    tol = tolerance_for(kind, "float64", device)
    if np.all(np.abs(grads) <= tol.atol):  # a gradient of (nearly) nothing
        return False
    moved = np.any(got != points, axis=1)  # each step, from the point it started at
    should = np.ones(m, dtype=bool)
    if expected is not None and expected.ndim == 2 and len(expected) >= m and \
            expected.shape[1] == start.size:
        should = np.any(expected[:m] != np.vstack([start[None, :], expected[:m - 1]]), axis=1)
    if not moved.any() or np.any(should & ~moved):
        return False
    distinct = len(np.unique(points, axis=0)) > 1
    if distinct and np.allclose(grads, grads[0], rtol=1e-9, atol=0.0) and \
            not np.allclose(reference_grads, reference_grads[0], rtol=1e-9, atol=0.0):
        return False  # the same "gradient" everywhere, where the true one changes
    with np.errstate(all="ignore"):
        want = points - lr * grads
    return bool(np.isfinite(want).all()) and within(got, want, kind, device)
