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

MESSAGE_CHARS = 2000
"""How much of an error's message is kept."""
CODE_CHARS = 300
"""How much of a line of code (or a file or function name) is kept."""
FRAMES = 6
"""How many of the student's frames an error keeps (the innermost)."""
ORIGIN_CHARS = 200
"""How much of where an error was raised outside the student's code is kept."""

ErrorKind = Literal["error", "not_implemented", "memory", "exit", "missing", "timeout",
                    "died", "too_large"]
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
        kind=kind if kind in ERROR_KINDS else "error",
        type=_text(value.get("type"), CODE_CHARS) or "Error",
        message=_text(value.get("message"), MESSAGE_CHARS),
        frames=[Frame(file=_text(f.get("file"), CODE_CHARS), line=_line(f.get("line")),
                      function=_text(f.get("function"), CODE_CHARS),
                      code=_text(f.get("code"), CODE_CHARS))
                for f in frames[-FRAMES:] if isinstance(f, dict)],
        origin=_text(value.get("origin"), ORIGIN_CHARS))


def seconds(value) -> float | None:
    """A call's duration as the fork timed it: a number, or None."""
    return float(value) if type(value) in (int, float) else None


def notes(value) -> list[str]:
    """Notes about a module (at most 50, each cut to size)."""
    return [_text(n, MESSAGE_CHARS) for n in value[:50] if isinstance(n, str)] \
        if isinstance(value, list) else []


def _described(value) -> bool:
    """Every described value inside ``value`` (a dict with a ``"kind"``, as
    ``probes.describe`` makes them) has the fields its kind declares: an array or tensor its
    dtype, shape and as many numbers as the shape holds (a 0-d array travels as one of
    shape (1,)); a list or tuple its items; a number a number."""
    if isinstance(value, list):
        return all(_described(v) for v in value)
    if not isinstance(value, dict):
        return True
    kind = value.get("kind")
    if kind in ("ndarray", "tensor"):
        shape, numbers = value.get("shape"), value.get("value")
        return (isinstance(value.get("dtype"), str) and isinstance(shape, list)
                and all(type(n) is int and n >= 0 for n in shape)
                and isinstance(numbers, np.ndarray) and numbers.size == math.prod(shape))
    if kind in ("list", "tuple") and not isinstance(value.get("items"), list):
        return False
    if kind in ("float", "int") and type(value.get("value")) not in (int, float):
        return False
    return all(_described(v) for v in value.values())


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
