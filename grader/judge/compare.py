"""Closeness, in the manner of ``torch.testing.assert_close``: attributes first, then values.

One rule everywhere: ``|actual - expected| <= atol + rtol * |expected|``, with tolerances
chosen by the kind of output (value, gradient, trajectory, fit) and the expected dtype.
Every function here is pure: plain data in, a list of problems out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.course.probes import described_array, resolve


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"


# (kind, dtype) -> tolerance. Trajectories and fits accumulate rounding over many steps.
TOLERANCES = {
    ("value", "float64"): Tolerance(1e-7, 1e-9),
    ("gradient", "float64"): Tolerance(1e-7, 1e-9),
    ("structure", "float64"): Tolerance(1e-7, 1e-9),
    ("trajectory", "float64"): Tolerance(1e-6, 1e-9),
    ("fit", "float64"): Tolerance(1e-5, 1e-8),
    ("value", "float32"): Tolerance(1.3e-6, 1e-5),
    ("gradient", "float32"): Tolerance(1e-5, 1e-5),
    ("structure", "float32"): Tolerance(1e-5, 1e-5),
    ("trajectory", "float32"): Tolerance(1e-4, 1e-5),
    ("fit", "float32"): Tolerance(1e-4, 1e-5),
    ("exact", "float64"): Tolerance(0.0, 0.0),
    ("exact", "float32"): Tolerance(0.0, 0.0),
}
CUDA_FACTOR = 10.0
"""GPUs reduce in another order; tolerances widen by this factor there."""


def tolerance_for(kind: str, dtype: str, device: str = "cpu") -> Tolerance:
    """The tolerance of one kind of output; half and single precision share float32's."""
    precision = "float64" if dtype == "float64" else "float32"
    base = TOLERANCES.get((kind, precision), TOLERANCES[("value", precision)])
    if device.startswith("cuda"):
        return Tolerance(base.rtol * CUDA_FACTOR, base.atol * CUDA_FACTOR)
    return base


@dataclass
class Problem:
    """One difference between actual and expected, worded for a student."""

    where: str
    text: str
    first_step: int | None = None
    key: str = ""
    """The key of the probe's output it is about (a check's declared shares use it)."""


@dataclass
class Comparison:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    equal_nan: bool = False
    strict_dtype: bool = True
    strict_container: bool = True
    """False: a NumPy array where a tensor is expected (or back) is compared by its numbers."""
    strict_type: bool = False
    """True: a Python int or float the reference returns must come back as exactly that."""

    @property
    def passed(self) -> bool:
        return not self.problems


def compare_for(check, actual: dict, expected: dict, device: str, **options) -> Comparison:
    """Compare as ``check`` judges (its kind, probe, dtype, container, exact-type and
    per-quantity rules): the verdict, its witnesses, the own-loop rule and the repair search
    all hold outputs to the same terms. ``options``: ``reveal``, ``equal_nan``."""
    return compare_outputs(actual, expected, check.kind, device,
                           strict_dtype=check.strict_dtype, probe=resolve(check.probe),
                           strict_container=check.strict_container,
                           strict_type=check.strict_type, tolerances=check.tolerances,
                           **options)


def compare_outputs(actual: dict, expected: dict, kind: str, device: str = "cpu",
                    reveal: bool = True, equal_nan: bool = False,
                    strict_dtype: bool = True, probe=None,
                    strict_container: bool = True, strict_type: bool = False,
                    tolerances: dict | None = None) -> Comparison:
    """Compare two probe outputs. ``reveal=False`` keeps expected numbers out of messages;
    ``equal_nan`` counts NaN (and equal infinities) in the same places as agreement.
    ``probe`` (a ``spec.Probe``) names each quantity and says which compare exactly;
    ``tolerances`` ({quantity: kind or (rtol, atol)}, a check's) overrides both per quantity;
    ``strict_type``: see ``spec.Check.strict_type``."""
    cmp = Comparison(equal_nan=equal_nan, strict_dtype=strict_dtype,
                     strict_container=strict_container, strict_type=strict_type)
    tolerances = tolerances or {}
    mutated = actual.get("mutated") or []
    if mutated:
        cmp.problems.append(Problem("inputs", f"modified its input {', '.join(mutated)} in place; "
                                    "a function must leave its arguments unchanged"))
    for key, exp in expected.items():
        if key == "mutated" or key.startswith("_"):  # "_" keys are evidence, not results
            continue
        where = probe.label(key) if probe else ("the returned value" if key == "result"
                                                 else key)
        before = len(cmp.problems)
        if key not in actual:
            cmp.problems.append(Problem(where, "was not reported"))
        else:
            _compare(actual[key], exp, where, _kind_of(key, kind, probe, tolerances),
                     device, reveal, cmp)
        for problem in cmp.problems[before:]:
            problem.key = key
    return cmp


def _kind_of(key: str, kind: str, probe, tolerances: dict) -> "str | Tolerance":
    """How one quantity is compared: the check's tolerance for it, else exactly where the
    probe says so, else the check's kind."""
    given = tolerances.get(key)
    if isinstance(given, str):
        return given
    if isinstance(given, (tuple, list)) and len(given) == 2:
        return Tolerance(float(given[0]), float(given[1]))
    return "exact" if probe and probe.exact(key) else kind


def _compare(a: Any, e: Any, where: str, kind: "str | Tolerance", device: str, reveal: bool,
             cmp: Comparison) -> None:
    if isinstance(e, dict) and "kind" in e:
        return _compare_described(a, e, where, kind, device, reveal, cmp)
    if isinstance(e, np.ndarray):
        return _compare_arrays(np.asarray(a) if isinstance(a, (list, np.ndarray)) else a, e,
                               where, kind, device, reveal, cmp)
    if isinstance(e, list) and e and all(_is_label(x) for x in e) and \
            isinstance(a, list) and all(_is_label(x) for x in a):
        if a != e:  # names, dtypes, shapes, sizes: contract facts, shown even when hidden
            cmp.problems.append(Problem(where, f"expected {e!r}, got {a!r}"))
        return
    if isinstance(e, list):
        if not isinstance(a, list) or len(a) != len(e):
            got = counted(len(a), "entry", "entries") if isinstance(a, list) else \
                type(a).__name__
            cmp.problems.append(Problem(where, f"expected {counted(len(e), 'entry', 'entries')}"
                                        f", got {got}"
                                        if reveal or not isinstance(a, list) else
                                        "has the wrong number of entries"))
            return
        for i, (ai, ei) in enumerate(zip(a, e)):
            _compare(ai, ei, f"{where}[{i}]", kind, device, reveal, cmp)
        return
    if isinstance(e, float) and isinstance(a, (int, float)) and not isinstance(a, bool):
        return _compare_arrays(np.asarray(float(a)), np.asarray(e), where, kind, device,
                               reveal, cmp)
    if a != e:
        text = f"expected {e!r}, got {a!r}"
        if isinstance(e, bool):
            text = "does not hold" if e else "holds but should not"
        cmp.problems.append(Problem(where, text))


def _is_label(x: Any) -> bool:
    """Strings, ints, bools and lists of them (shapes): compared exactly."""
    if isinstance(x, list):
        return all(_is_label(v) for v in x)
    return isinstance(x, (str, int, bool))


def as_float(value) -> float:
    """A described number as a float: a Python int too large for one is an infinity of its
    sign (``10**400`` once made a case "not graded", told to the instructor as the grader's
    failure)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _scalar(desc: dict) -> float | None:
    """A returned number: Python/NumPy scalar, or a one-element array or tensor."""
    if desc.get("kind") in ("float", "int"):
        return as_float(desc["value"])
    if desc.get("kind") in ("ndarray", "tensor") and np.asarray(desc["value"]).size == 1:
        return float(np.asarray(desc["value"]).reshape(()))
    return None


KIND_WORDS = {"ndarray": "a NumPy array", "tensor": "a torch tensor", "float": "a float",
              "int": "an int", "bool": "a bool", "list": "a list", "tuple": "a tuple",
              "dict": "a dict", "str": "a string", "none": "None (did you forget `return`?)"}


def _kind_word(desc: dict) -> str:
    return KIND_WORDS.get(desc.get("kind"), f"an object of type {desc.get('type', '?')}")


def _compare_described(a: Any, e: dict, where: str, kind: str, device: str, reveal: bool,
                       cmp: Comparison) -> None:
    if not isinstance(a, dict) or "kind" not in a:
        cmp.problems.append(Problem(where, "could not be read"))
        return
    ek, ak = e["kind"], a["kind"]
    if ek == "dict":
        return _compare_dicts(a, e, where, kind, device, reveal, cmp)
    if ek in ("float", "int") and cmp.strict_type:
        wrong = _wrong_type(a, e)
        if wrong:
            cmp.problems.append(Problem(where, wrong))
            return
    if ek == "int" and ak == "int" and isinstance(a.get("value"), int):
        if not -2**63 <= a["value"] < 2**63:  # no array holds it: compared as it is
            if a["value"] != e["value"]:
                cmp.problems.append(Problem(where, f"got an int of {a['value'].bit_length()} "
                                            f"bits, expected {e['value']}" if reveal else
                                            "the number differs"))
            return
        return _compare_arrays(np.asarray(a["value"]), np.asarray(int(e["value"])), where,
                               kind, device, reveal, cmp)  # counts: exactly, shown as ints
    if ek in ("float", "int"):
        value = _scalar(a)
        if value is None:
            cmp.problems.append(Problem(where, f"expected a number, got {_kind_word(a)}"))
            return
        return _compare_arrays(np.asarray(value), np.asarray(as_float(e["value"])), where, kind,
                               device, reveal, cmp)
    if ek in ("list", "tuple"):
        if ak not in ("list", "tuple"):
            cmp.problems.append(Problem(where, f"expected {_kind_word(e)} of "
                                        f"{counted(len(e['items']), 'item')}, got {_kind_word(a)}"))
            return
        return _compare(a["items"], e["items"], where, kind, device, reveal, cmp)
    if ek in ("ndarray", "tensor"):
        dtype_matters = cmp.strict_dtype
        if ak in ("list", "tuple"):
            converted, typed = _from_items(a)
            if converted is None:
                cmp.problems.append(Problem(where, f"expected {_kind_word(e)}, got "
                                            f"{_kind_word(a)} that is not a grid of numbers"))
                return
            cmp.notes.append(f"{where}: returned a {ak}; it was converted to {_kind_word(e)}")
            a = {"kind": ek, "dtype": converted.dtype.name, "shape": list(converted.shape),
                 "value": converted}
            dtype_matters &= typed  # plain Python numbers carry no dtype of their own
        elif ak != ek and ak in ("ndarray", "tensor") and not cmp.strict_container:
            cmp.notes.append(f"{where}: returned {_kind_word(a)} where {_kind_word(e)} is "
                             "usual; its numbers are what counts here")
        elif ak != ek:
            cmp.problems.append(Problem(where, f"expected {_kind_word(e)}, got {_kind_word(a)}"))
            return
        if a["shape"] != e["shape"]:
            cmp.problems.append(Problem(where, f"the shape does not match: got "
                                        f"{tuple(a['shape'])}, expected {tuple(e['shape'])}"))
            return
        if dtype_matters and a["dtype"] != e["dtype"] and \
                not _both_integer(a["dtype"], e["dtype"]):
            cmp.problems.append(Problem(where, f"the dtype does not match: got {a['dtype']}, "
                                        f"expected {e['dtype']}"))
            return
        return _compare_arrays(a["value"], e["value"], where, kind, device, reveal, cmp)
    if ak != ek:
        cmp.problems.append(Problem(where, f"expected {_kind_word(e)}, got {_kind_word(a)}"))
    elif ek == "bool" and a["value"] != e["value"]:
        cmp.problems.append(Problem(where, f"expected {e['value']}, got {a['value']}"))
    elif ek == "str" and a.get("value") != e.get("value"):
        cmp.problems.append(Problem(where, f"expected {e.get('value')!r}, got "
                                    f"{str(a.get('value'))[:200]!r}" if reveal else
                                    "the text differs"))


def _python_type(desc: dict) -> str:
    """``int``, ``float``, or the NumPy scalar type's name (``float64``) of a described
    number (descriptions without a type are Python's)."""
    return str(desc.get("type") or desc.get("kind"))


def _wrong_type(a: dict, e: dict) -> str:
    """What is wrong with a number's type where the check asks for the reference's exact
    Python type (``Check.strict_type``); '' when nothing is."""
    want = _python_type(e)
    if a.get("kind") == e["kind"] and _python_type(a) == want:
        return ""
    if want not in ("int", "float"):  # the reference's own is a NumPy scalar: kind only
        if a.get("kind") == e["kind"]:
            return ""
        want = e["kind"]
    if a.get("kind") in ("ndarray", "tensor"):
        shape = tuple(a.get("shape") or ())
        got = f"{_kind_word(a)} of shape {shape}"
        fix = " (`.item()` gives the number)" if int(np.prod(shape or (1,))) == 1 else ""
    elif a.get("kind") in ("int", "float") and _python_type(a) not in ("int", "float"):
        got, fix = f"a NumPy {_python_type(a)}", f" (`{want}(...)` converts it)"
    else:
        got, fix = _kind_word(a), (f" (`{want}(...)` converts it)"
                                   if a.get("kind") in ("int", "float") else "")
    return f"expected a Python {want}, got {got}{fix}"


def _compare_dicts(a: dict, e: dict, where: str, kind, device: str, reveal: bool,
                   cmp: Comparison) -> None:
    """A returned dict, key by key (``probes.describe`` gives its keys as ``repr``s): the
    same keys, then each value compared as the reference's, named ``where['key']``."""
    if a.get("kind") != "dict":
        cmp.problems.append(Problem(where, f"expected a dict, got {_kind_word(a)}"))
        return
    keys_a, keys_e = a.get("keys"), e.get("keys")
    items_a, items_e = a.get("items"), e.get("items")
    if not (isinstance(keys_a, list) and isinstance(items_a, list) and
            len(keys_a) == len(items_a) and all(isinstance(k, str) for k in keys_a)):
        cmp.problems.append(Problem(where, "could not be read"))
        return
    got = dict(zip(keys_a, items_a))
    missing = [k for k in keys_e if k not in got]
    extra = [k for k in keys_a if k not in set(keys_e)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing key(s) {', '.join(missing)}" if reveal else
                         f"{len(missing)} expected key(s) missing")
        if extra:
            parts.append(f"unexpected key(s) {', '.join(k[:60] for k in extra[:10])}")
        cmp.problems.append(Problem(where, "the keys do not match: " + "; ".join(parts)))
    for key, item in zip(keys_e, items_e):
        if key in got:
            _compare(got[key], item, f"{where}[{key}]", kind, device, reveal, cmp)


def _both_integer(a: str, b: str) -> bool:
    return np.dtype(a).kind in "iu" and np.dtype(b).kind in "iu"


def _from_items(desc: dict) -> tuple[np.ndarray | None, bool]:
    """A list of numbers, arrays or tensors (nested) as one array, and whether its dtype came
    from arrays or tensors (True) or was inferred from plain Python numbers (False)."""
    dtypes = []

    def plain(d):
        if d["kind"] in ("float", "int"):
            return d["value"]
        if d["kind"] in ("ndarray", "tensor"):
            dtypes.append(np.asarray(d["value"]).dtype)
            return np.asarray(d["value"]).tolist()
        if d["kind"] in ("list", "tuple"):
            return [plain(x) for x in d["items"]]
        raise ValueError
    try:
        values = plain(desc)
        dtype = np.result_type(*dtypes) if dtypes else None
        array = np.array(values, dtype=dtype)
        if array.dtype.kind not in "biuf":
            return None, False
        return array, bool(dtypes)
    except (ValueError, TypeError, KeyError):
        return None, False


def counted(n: int, word: str, many: str | None = None) -> str:
    """``1 entry``, ``2 entries``: a count and its noun in the right number."""
    return f"{n} {word if n == 1 else many or word + 's'}"


SHOWN = 12
"""About how many numbers one line of a message shows of an array."""


def _fmt(x: Any) -> str:
    """An array on one line. Past ``SHOWN`` numbers a 1-D array keeps its ends (``...``
    between); an array of rows keeps whole rows, as many as fit, and says how many are left
    out, so no row is ever cut in the middle (the first row is always shown)."""
    a = np.asarray(x)
    if a.ndim < 2 or a.shape[0] == 0:
        text = np.array2string(a, precision=10, separator=", ", threshold=SHOWN,
                               max_line_width=10**6)
        return " ".join(text.replace("[ ", "[").split())
    keep = max(1, min(a.shape[0], SHOWN // max(1, a[0].size)))
    rows = ", ".join(_fmt(row) for row in a[:keep])
    more = a.shape[0] - keep
    return f"[{rows}, … ({counted(more, 'more row')})]" if more else f"[{rows}]"


def _compare_arrays(a: Any, e: np.ndarray, where: str, kind: str, device: str, reveal: bool,
                    cmp: Comparison) -> None:
    if not isinstance(a, np.ndarray):
        cmp.problems.append(Problem(where, f"expected an array, got {type(a).__name__}"))
        return
    if a.shape != e.shape:
        cmp.problems.append(Problem(where, f"the shape does not match: got {a.shape}, "
                                    f"expected {e.shape}"))
        return
    if e.dtype.kind in "biu" and a.dtype.kind in "biu":
        if not np.array_equal(a, e) and e.ndim == 0:
            cmp.problems.append(Problem(where, f"got {a}, expected {e}" if reveal else
                                        "the number differs"))
        elif not np.array_equal(a, e):
            bad = np.argwhere(a != e)
            first = tuple(int(i) for i in bad[0])
            text = f"{len(bad)} / {e.size} entries differ; first at index {first}"
            if reveal:
                text += f": got {a[first]}, expected {e[first]}" if e.ndim else \
                    f": got {a}, expected {e}"
            cmp.problems.append(Problem(where, text))
        return
    if _identical(a, e, cmp.equal_nan):
        return
    tol = kind if isinstance(kind, Tolerance) else \
        tolerance_for(kind, e.dtype.name if e.dtype.kind == "f" else "float64", device)
    af, ef = a.astype(np.float64), e.astype(np.float64)
    if cmp.equal_nan:
        same = (np.isnan(af) & np.isnan(ef)) | (np.isinf(af) & (af == ef))
        af, ef = np.where(same, 0.0, af), np.where(same, 0.0, ef)
    trajectory = isinstance(kind, str) and kind in ("trajectory", "fit") and ef.ndim >= 1 \
        and ef.shape[0] > 0
    finite = np.isfinite(af)
    if not finite.all() and np.isfinite(ef).all():
        idx = tuple(int(i) for i in np.argwhere(~finite)[0])
        what = "NaN" if np.isnan(af[idx]) else "infinity"
        step = f" (first at step {idx[0] + 1}, row {idx[0]})" if trajectory else \
            f" (first at index {idx})" if idx else ""
        cmp.problems.append(Problem(where, f"contains {what}{step}",
                                    idx[0] if trajectory and idx else None))
        return
    with np.errstate(all="ignore"):
        diff = np.abs(af - ef)
    allowed = tol.atol + tol.rtol * np.abs(ef)
    bad = ~(diff <= allowed)
    if not bad.any():
        return
    n_bad, n = int(bad.sum()), bad.size
    lines = []
    first_step = None
    if trajectory:
        rows = bad.reshape(bad.shape[0], -1).any(axis=1)
        first_step = int(np.argmax(rows))
        lines.append(f"leaves the reference at step {first_step + 1} (row {first_step})")
        if reveal:
            lines.append(f"row {first_step}: got {_fmt(af[first_step])}, "
                         f"expected {_fmt(ef[first_step])}")
    elif reveal:
        lines.append(f"got {_fmt(af)}, expected {_fmt(ef)}" if n <= 12 else "values differ")
    else:
        lines.append("values differ")
    lines.append(f"Mismatched elements: {n_bad} / {n} ({100.0 * n_bad / n:.1f}%)")
    if reveal:
        i_abs = np.unravel_index(int(np.argmax(np.where(bad, diff, -1))), diff.shape)
        at = lambda i: f" at index {tuple(int(k) for k in i)}" if len(i) else ""
        lines.append(f"Greatest absolute difference: {diff[i_abs]:.6g}{at(i_abs)} "
                     f"(up to {tol.atol:g} allowed)")
        # A relative difference means something only where the expected value is larger
        # than the absolute tolerance (3e+33 "relative" to 1e-19 says nothing).
        meaningful = bad & (np.abs(ef) > tol.atol)
        if meaningful.any():
            with np.errstate(all="ignore"):
                rel = diff / np.abs(ef)
            i_rel = np.unravel_index(int(np.argmax(np.where(meaningful, rel, -1))), rel.shape)
            lines.append(f"Greatest relative difference: {rel[i_rel]:.6g}{at(i_rel)} "
                         f"(up to {tol.rtol:g} allowed)")
    cmp.problems.append(Problem(where, "\n".join(lines), first_step))


def _identical(a: np.ndarray, e: np.ndarray, equal_nan: bool) -> bool:
    """The same dtype and the same bytes, so within any tolerance: a correct output often
    is the reference's to the bit, and this says so in two calls instead of a dozen (NumPy's
    cost per call is most of a comparison's on small arrays). Equal bytes holding a NaN or
    an infinity agree only where ``equal_nan`` says so, as the full comparison has it."""
    return a.dtype == e.dtype and a.tobytes() == e.tobytes() and (
        equal_nan or bool(np.isfinite(e).all()))


SIGNATURE_DIGITS = 9
"""Significant digits a behaviour signature keeps: two outputs share a signature when they
agree to about 1e-9 relative, far tighter than two independent wrong answers ever do."""


def signature(output: Any) -> str:
    """A short digest of every number in a described output, rounded to
    ``SIGNATURE_DIGITS`` significant digits, with the shapes: equal for two students whose
    code computes the same thing on the same inputs (instructor side: similarity)."""
    import hashlib
    digest = hashlib.sha256()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict) and "kind" in node:
            values = described_array(node)
            if values is None and node.get("kind") in ("float", "int", "bool"):
                values = np.asarray(as_float(node["value"]))
            if values is not None:
                text = np.char.mod(f"%.{SIGNATURE_DIGITS - 1}e", values.ravel() + 0.0)
                digest.update(f"{path}:{values.shape}:".encode())
                digest.update(",".join(text.tolist()).encode())
                return
            digest.update(f"{path}:{node.get('kind')}:{node.get('type', '')};".encode())
            for key in ("value", "items"):
                if isinstance(node.get(key), (list, dict)):
                    walk(node[key], f"{path}.{key}")
        elif isinstance(node, dict):
            for key in sorted(node):
                walk(node[key], f"{path}/{key}")
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")
        else:
            digest.update(f"{path}={node!r};".encode())

    walk(output, "")
    return digest.hexdigest()[:20]


def within(a: np.ndarray, e: np.ndarray, kind: str, device: str = "cpu",
           dtype: str = "float64") -> bool:
    """Every entry within the kind's tolerance (and the shapes equal): the one rule, as a
    yes or no, for the diagnoses."""
    tol = tolerance_for(kind, dtype, device)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= tol.atol + tol.rtol * np.abs(e)))
