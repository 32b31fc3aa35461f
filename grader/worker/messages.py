"""The declared shapes of what a student's fork reports, and their enforcement.

A fork writes its own events, and student code runs in it: it can write events too, of any
shape. The fork server passes on only what fits these shapes (strings cut to size, numbers
as numbers, nothing nested deeper than declared), so nothing a student writes can make the
fork server, or the grader reading after it, fail in its place — a failure there counts as
the grader's, and charges the student nothing.
"""
from __future__ import annotations

import math
from typing import Literal, TypedDict

import numpy as np

from grader.worker import wire

MESSAGE_CHARS = 2000
"""How much of an error's message is kept."""
CODE_CHARS = 300
"""How much of a line of code (or a file or function name) is kept."""
FRAMES = 6
"""How many of the student's frames an error keeps (the innermost)."""
ORIGIN_CHARS = 200
"""How much of where an error was raised outside the student's code is kept."""

ErrorKind = Literal["error", "not_implemented", "memory", "exit", "missing", "timeout",
                    "died", "too_large", "course"]
ERROR_KINDS: frozenset[str] = frozenset(ErrorKind.__args__)


class Frame(TypedDict):
    """One frame of the student's code in a traceback."""

    file: str
    line: int
    function: str
    code: str


class ErrorReport(TypedDict):
    """An exception as a student should see it (``student.describe_error`` makes them)."""

    kind: ErrorKind
    type: str
    message: str
    frames: list[Frame]
    origin: str
    """Where it was raised when not in the student's code (``module/file.py:function``)."""


def phase(module: dict, hidden: bool) -> list[int]:
    """The indexes of a request's module's calls that run in one phase, in order.

    A fork makes its calls in two phases: every module's public calls (each module's right
    after its import), then the hidden calls of the modules that imported. The hidden calls'
    inputs reach the fork only between the two, once the fork server has taken what it printed
    so far and stopped keeping the rest: what a student sees (printed text, public messages)
    was made before any hidden input was in the process. The child and its fork server both
    follow this order; an event out of it changes nothing."""
    return [i for i, call in enumerate(module["calls"]) if bool(call.get("hidden")) == hidden]


DEPTH = 64
"""How deeply a described output may nest (``probes.describe`` stops lists at 3 levels)."""
DESCRIBED_DTYPES = frozenset(wire.ALLOWED_DTYPES | {"bfloat16", "complex32"})
"""The dtypes a described array or tensor may claim (torch's names without ``torch.``)."""


def number(value, limit: float = 1e12) -> float | None:
    """A number a fork sent (a duration, CPU seconds): a finite float within ``limit``, or
    None for anything else (a string, a bool, an integer too large for a float, NaN)."""
    if type(value) not in (int, float):
        return None
    if type(value) is int and abs(value) > limit:
        return None
    value = float(value)
    return value if math.isfinite(value) and abs(value) <= limit else None


def index(value, size: int) -> int | None:
    """A position a fork named (a module, a call): an ``int`` (not a bool, not a float)
    within ``range(size)``, or None."""
    return value if type(value) is int and 0 <= value < size else None


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _line(value) -> int:
    return value if type(value) is int else 0


def error_report(value) -> ErrorReport:
    """``value`` (anything a fork sent as an error) in the shape of an ErrorReport: fields of
    the wrong type become empty, unknown fields and kinds are dropped."""
    if not isinstance(value, dict):
        value = {}
    kind = value.get("kind")
    frames = value.get("frames") if isinstance(value.get("frames"), list) else []
    return ErrorReport(
        kind=kind if isinstance(kind, str) and kind in ERROR_KINDS else "error",
        type=_text(value.get("type"), CODE_CHARS) or "Error",
        message=_text(value.get("message"), MESSAGE_CHARS),
        frames=[Frame(file=_text(f.get("file"), CODE_CHARS), line=_line(f.get("line")),
                      function=_text(f.get("function"), CODE_CHARS),
                      code=_text(f.get("code"), CODE_CHARS))
                for f in frames[-FRAMES:] if isinstance(f, dict)],
        origin=_text(value.get("origin"), ORIGIN_CHARS))


def seconds(value) -> float | None:
    """A call's duration as the fork timed it: a number, or None."""
    found = number(value)
    return found if found is not None and found >= 0 else None


def notes(value) -> list[str]:
    """Notes about a module (at most 50, each cut to size)."""
    return [_text(n, MESSAGE_CHARS) for n in value[:50] if isinstance(n, str)] \
        if isinstance(value, list) else []


def _described(value, depth: int = 0) -> bool:
    """Every described value inside ``value`` (a dict with a ``"kind"``, as
    ``probes.describe`` makes them) has the fields its kind declares: an array or tensor its
    dtype, shape and as many numbers as the shape holds (a 0-d array travels as one of
    shape (1,)); a list or tuple its items; a number a number."""
    if depth > DEPTH:
        return False
    if isinstance(value, list):
        return all(_described(v, depth + 1) for v in value)
    if not isinstance(value, dict):
        return True
    kind = value.get("kind")
    if "kind" in value and not (isinstance(kind, str) and len(kind) <= CODE_CHARS):
        return False
    if not all(isinstance(value.get(k, ""), str) for k in ("type", "device")):
        return False
    if kind in ("ndarray", "tensor"):
        shape, numbers = value.get("shape"), value.get("value")
        return (isinstance(value.get("dtype"), str) and value["dtype"] in DESCRIBED_DTYPES
                and isinstance(shape, list) and len(shape) <= DEPTH
                and all(type(n) is int and n >= 0 for n in shape)
                and isinstance(numbers, np.ndarray) and numbers.size == math.prod(shape))
    if kind in ("list", "tuple") and not isinstance(value.get("items"), list):
        return False
    if kind in ("float", "int") and type(value.get("value")) not in (int, float):
        return False
    return all(_described(v, depth + 1) for v in value.values())


def probe_output(value) -> dict | None:
    """A call's output (decoded from its part) if it has a probe output's shape: named
    quantities, ``"mutated"`` (the arguments changed in place), where present, a list of
    names, and every described value complete. None otherwise: the call then fails, as a
    result that could not be read (only a forged result can be malformed)."""
    if not isinstance(value, dict):
        return None
    mutated = value.get("mutated", [])
    if not (isinstance(mutated, list) and all(isinstance(m, str) for m in mutated)):
        return None
    return value if _described(value) else None
