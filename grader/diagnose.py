"""Diagnosis: name the mistake behind a failure, the way a TA would.

Two sources, both evaluated in trusted code (the grader), never in the student's process:
- the course's catalogue (``<course>/<folder>/mistakes.py``): each entry is a small wrong
  implementation (a textual change to the reference) or the signature of an error, and the
  hint a TA gives. A failing output is compared with each catalogued mistake's output on the
  same inputs, through the same probe; a match shows its hint;
- generic patterns when nothing in the catalogue matches: a constant ratio, a sign flip, a
  permutation or a transposition, a shift by one step, agreement to float32 precision only.
On a hidden case a hint describes the kind of mistake, never a value.
"""
from __future__ import annotations

import re
import threading
import types
import warnings
from dataclasses import dataclass

import numpy as np

from . import wire
from .compare import compare_outputs, described_array, tolerance_for
from .probes import resolve, run_probe
from .spec import Assignment, Case, Check, Probe


@dataclass(frozen=True)
class Mistake:
    """One catalogued mistake."""

    folder: str
    target: str
    """The contract name the mistake is made in."""
    name: str
    hint: str
    replace: tuple[tuple[str, str], ...] = ()
    """Textual changes to the reference that make the mistake (output matching)."""
    error: str = ""
    """A regular expression for the error message the mistake raises (error matching)."""
    also: tuple[str, ...] = ()
    """Other names whose outputs carry the mistake (a loop that calls the wrong gradient)."""

    def diagnosis(self, name: str) -> "Diagnosis":
        """What this mistake says on ``name``: its own hint, or on another name that carries
        it, where it comes from (to be checked: ``judge.attribute``)."""
        if name == self.target:
            return Diagnosis(self.name, self.hint)
        return Diagnosis(self.name, f"this comes from `{self.target}`: {self.hint}", self.target)


@dataclass
class Diagnosis:
    name: str
    hint: str
    blames: str = ""
    """Another contract name the mistake is in (a loop judged wrong because of its gradient):
    the hint holds only if that name is defined and fails its own checks."""


class Diagnoser:
    """Matches failures against each assignment's catalogue (from its course); mistake
    outputs are cached per case."""

    def __init__(self):
        self._modules: dict[tuple, types.ModuleType | None] = {}
        self._outputs: dict[tuple, dict | None] = {}
        self._lock = threading.Lock()

    @staticmethod
    def catalogue(assignment: Assignment) -> tuple[Mistake, ...]:
        if assignment.course_root is None:
            return ()
        from .course import load_course
        return load_course(assignment.course_root).mistakes.get(assignment.folder, ())

    def candidates(self, assignment: Assignment, name: str) -> list[Mistake]:
        return [m for m in self.catalogue(assignment)
                if m.target == name or name in m.also]

    def from_error(self, assignment: Assignment, check: Check, error: dict) -> Diagnosis | None:
        text = f"{error.get('type', '')}: {error.get('message', '')}"
        for m in self.candidates(assignment, check.name):
            if m.error and re.search(m.error, text):
                return m.diagnosis(check.name)
        return None

    def from_output(self, assignment: Assignment, check: Check, case: Case, actual: dict,
                    device: str) -> Diagnosis | None:
        for m in self.candidates(assignment, check.name):
            if not m.replace:
                continue
            out = self._mistake_output(assignment, check, case, m, device)
            if out is not None and compare_outputs(actual, out, check.kind, device,
                                                   equal_nan=True,
                                                   probe=resolve(check.probe)).passed:
                return m.diagnosis(check.name)
        return None

    def _mistake_output(self, assignment, check, case, mistake, device) -> dict | None:
        key = (str(assignment.course_root), mistake, check.name, case.id, case.seed, device)
        with self._lock:
            if key not in self._outputs:
                module = self._module(assignment, mistake)
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")  # a wrong loop may well overflow
                        raw = run_probe(module, resolve(check.probe), check.name,
                                        case.inputs, device, case.seed) if module else None
                    self._outputs[key] = wire.loads(wire.dumps(raw)) if raw else None
                except Exception:  # a mistake that crashes on this case cannot match it
                    self._outputs[key] = None
            return self._outputs[key]

    def _module(self, assignment: Assignment, mistake: Mistake):
        key = (str(assignment.course_root), assignment.folder, mistake)
        if key not in self._modules:
            from .course import strip_markers
            source = strip_markers(assignment.reference_path.read_text())
            for old, new in mistake.replace:
                if old not in source:
                    self._modules[key] = None
                    return None
                source = source.replace(old, new)
            module = types.ModuleType(f"_mistake_{assignment.module}")
            module.__file__ = f"<mistake: {mistake.name}>"
            exec(compile(source, module.__file__, "exec"), module.__dict__)
            self._modules[key] = module
        return self._modules[key]


# --------------------------------------------------------------------------- generic patterns
WORDS = {0.5: "half", 2.0: "twice", -1.0: "the negative of", -0.5: "minus half",
         -2.0: "minus twice"}


def case_quantities(inputs) -> list[tuple[str, float]]:
    """Numbers of a case that a wrong constant factor often equals, with their names: the
    number of samples (an array argument's length), the batch size (of a list of index
    batches), and whole-number arguments (steps, epochs, sizes)."""
    found: list[tuple[str, float]] = []
    args = inputs.get("args", []) if isinstance(inputs, dict) else []
    kwargs = inputs.get("kwargs", {}) if isinstance(inputs, dict) else {}
    for i, value in [*enumerate(args), *kwargs.items()]:
        where = f"`{i}`" if isinstance(i, str) else f"argument {i + 1}"
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) >= 1 and shape[0] > 1:
            found.append(("N, the number of samples", float(shape[0])))
        elif isinstance(value, (list, tuple)) and value and all(
                getattr(v, "shape", None) is not None and len(v.shape) == 1 for v in value):
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


def _factor_words(c: float, inputs, hidden: bool) -> str:
    """``c`` in a student's terms: a quantity of the case, a simple number, or ''."""
    for name, q in case_quantities(inputs):
        for factor, how in ((q, "{n} times"), (1 / q, "divided by {n}"),
                            (2 * q, "2·{n} times"), (q / 2, "{n}/2 times")):
            if abs(c - factor) <= 1e-6 * abs(factor):
                short = name.split(",")[0]
                shown = "" if hidden else f" ({q:g})"
                said = how.format(n=short)
                cause = (": a sum where a mean is expected, or a division by it missing"
                         if how.startswith("{n} times") else
                         ": divided by it once too often (a mean of something already "
                         "averaged, or a sum expected)" if how.startswith("divided") else "")
                return f"every value is {said} the expected one, {name}{shown}{cause}"
    return ""


def _component(a: np.ndarray, e: np.ndarray, kind: str, device: str) -> str:
    """For a small vector (a gradient, a parameter pair): which entries are wrong, and how."""
    if a.ndim != 1 or not 2 <= a.size <= 8:
        return ""
    tol = tolerance_for(kind, "float64", device)
    right = np.abs(a - e) <= tol.atol + tol.rtol * np.abs(e)
    if right.all() or not right.any():
        return ""
    parts = []
    for i in np.flatnonzero(~right):
        rel = ""
        if abs(e[i]) > 1e-12:
            c = a[i] / e[i]
            word = next((w for k, w in WORDS.items() if abs(c - k) < 1e-6), None)
            rel = f" (it is {word} the expected one)" if word else ""
        parts.append(f"[{i}]{rel}")
    ok = ", ".join(f"[{i}]" for i in np.flatnonzero(right))
    return (f"only entr{'y' if len(parts) == 1 else 'ies'} {', '.join(parts)} of your result "
            f"{'is' if len(parts) == 1 else 'are'} wrong; {ok} {'is' if right.sum() == 1 else 'are'} "
            "right: the mistake is in the formula of that component alone")


def _motion(a: np.ndarray, e: np.ndarray) -> str:
    """How a trajectory moves where the expected one moves at every step."""
    if a.ndim != 2 or a.shape[0] < 3:
        return ""
    moved = np.any(a[1:] != a[:-1], axis=1)
    expected_moves = np.any(e[1:] != e[:-1], axis=1)
    if not expected_moves.all():
        return ""
    if not moved.any():
        return ("your parameters never change from one row to the next: the update does not "
                "reach them (optimizer.step() missing, the update applied to a copy, or a "
                "zero step)")
    steps = np.flatnonzero(moved) + 1  # rows where a change shows
    if moved[: steps[-1]].all() and steps[-1] < a.shape[0] - 1:
        return (f"your trajectory stops changing after row {steps[-1]}: the updates stop "
                "before the last step (a loop that ends early or a break)")
    gaps = np.diff(np.concatenate([[0], steps]))
    if len(steps) >= 2 and len(set(gaps[1:].tolist())) == 1 and gaps[1] > 1:
        k = int(gaps[1])
        return (f"your parameters change only every {k} steps: the update sits inside a "
                f"condition (such as `if t % {k} == {k - 1}:`) that should only guard printing "
                "or recording")
    return ""


def generic(actual: dict, expected: dict, kind: str, device: str, hidden: bool,
            probe: Probe | None = None, inputs: dict | None = None) -> str:
    """A pattern in how the returned numbers differ from the expected ones, or ''. A
    property the probe declares with a hint (``Report(hint=...)``) that holds for the
    reference and not for the student's code says that hint."""
    for key, report in (probe.reports.items() if probe else ()):
        if report.hint and expected.get(key) is True and actual.get(key) is False:
            return report.hint
    flows = actual.get("grads_flow")
    if isinstance(flows, list) and flows and expected.get("grads_flow") != flows and \
            not any(any(row) for row in flows if isinstance(row, list)):
        return ("no gradient reaches your parameters: forward must compute with the "
                "parameters themselves (no .detach(), .item() or new tensors)")
    a, e = described_array(actual.get("result")), described_array(expected.get("result"))
    if a is None or e is None:
        return ""
    if a.shape != e.shape:
        if a.shape == e.shape[::-1] and a.ndim == 2 and _close(a.T, e, kind, device):
            return "your result is the transpose of the expected one"
        if a.ndim == e.ndim == 2 and a.shape[1] == e.shape[1] and a.shape[0] == e.shape[0] + 1 \
                and _close(a[1:], e, kind, device):
            return ("your trajectory has one row too many: it starts with the starting point; "
                    "row t must hold the parameters after update t+1")
        return ""
    if not (np.isfinite(a).all() and np.isfinite(e).all()) or e.size == 0:
        return ""
    if kind in ("trajectory", "fit") and a.ndim == 2 and a.shape[0] > 1:
        if _close(a[1:], e[:-1], kind, device):
            return ("your trajectory is one step behind: it records the parameters before each "
                    "update (the starting point first) instead of after it")
        if _close(a[:-1], e[1:], kind, device):
            return "your trajectory is one step ahead of the expected one"
        motion = _motion(a, e)
        if motion:
            return motion
    if expected["result"].get("dtype") == "float64" and _close(a, e, kind, device, "float32"):
        return ("your numbers agree only to float32 precision: somewhere the computation runs "
                "in float32 (torch.Tensor(...), dtype=torch.float32, or .float())")
    nz = np.abs(e) > 1e-12
    if nz.any():
        ratio = a[nz] / e[nz]
        c = float(np.median(ratio))
        if abs(c - 1) > 1e-6 and np.allclose(ratio, c, rtol=1e-6, atol=1e-9) and \
                _close(a, c * e, kind, device):
            named = _factor_words(c, inputs or {}, hidden)
            if named:
                return named
            word = next((w for k, w in WORDS.items() if abs(c - k) < 1e-9), None)
            if hidden or word is None:
                return ("every value is the expected one times the same constant" +
                        ("" if hidden else f" ({c:.6g})") + ": look for a missing or extra "
                        "factor (or a sign)")
            return f"every value is {word} the expected one"
    component = _component(a, e, kind, device)
    if component:
        return component
    if a.ndim >= 1 and a.size > 1 and _close(np.sort(a, axis=None), np.sort(e, axis=None),
                                             kind, device):
        return "you return the right values in the wrong order (a permutation)"
    return ""


# Exceptions whose cause is known whatever the exercise: (pattern over "Type: message", pattern
# over where it was raised, hint). The first that matches is said.
ERROR_CAUSES = (
    (r"^(PermissionError|BlockingIOError|OSError|RuntimeError)",
     r"multiprocessing|dataloader|popen|spawn|fork|worker",
     "your code starts other processes (a DataLoader with num_workers > 0, or "
     "multiprocessing), which grading does not allow: use num_workers=0"),
    (r"has no attribute 'saved_tensor'",
     "", "the saved tensors are `ctx.saved_tensors` (plural, a tuple): "
         "`(x,) = ctx.saved_tensors`"),
    (r"must have the same dtype|expected scalar type (Double|Float)|"
     r"[Ff]ound dtype (Double|Float) but expected|expected both vectors to have same dtype",
     "", "float32 and float64 meet in one operation: tensors and layers default to float32, "
         "the inputs here are float64 (use dtype=torch.float64, .double(), or the inputs' "
         "dtype)"),
    (r"leaf Variable that requires grad is being used in an in-place operation",
     "", "a parameter that requires grad is changed in place outside torch.no_grad(): wrap "
         "the update in `with torch.no_grad():`"),
    (r"(too many|not enough) values to unpack|cannot unpack non-iterable",
     "", "an unpacking does not match what is unpacked: check how many values the right-hand "
         "side holds (for example `b, w = params`, not `b, w = params[0]`)"),
)


def explain_error(error: dict) -> str:
    """The cause of an exception that is known whatever the exercise, or ''."""
    text = f"{error.get('type', '')}: {error.get('message', '')}"
    origin = str(error.get("origin") or "")
    for pattern, where, hint in ERROR_CAUSES:
        if re.search(pattern, text) and (not where or re.search(where, origin, re.I)
                                         or re.search(where, text, re.I)):
            return hint
    return ""


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
    return _close(np.where(nan, 0.0, got), np.where(nan, 0.0, want), kind, device)


def _close(a: np.ndarray, e: np.ndarray, kind: str, device: str, dtype: str = "float64"):
    tol = tolerance_for(kind, dtype, device)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= tol.atol + tol.rtol * np.abs(e)))
