"""Authoring: student stubs generated from the reference, the single source.

In ``reference/<folder>/<module>.py`` every solution region sits between two marker lines::

    ### BEGIN SOLUTION
    ...the instructor's code...
    ### END SOLUTION

``make_stub`` replaces each region with ``raise NotImplementedError(...)`` at the region's
indentation, keeping signatures and docstrings. ``python -m grader assign`` writes every
stub into ``assignments/``; a test fails when the committed files differ from what it writes.
"""
from __future__ import annotations

import re
from pathlib import Path

from .spec import Assignment

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB_HEADER = ("# Student version generated from the reference by `make assignments`.\n"
               "# Replace each `raise NotImplementedError` with your code; keep the names and\n"
               "# signatures: the grader calls them exactly as they are written here.\n")


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


def _enclosing_name(lines: list[str], index: int) -> str:
    for line in reversed(lines[:index]):
        m = re.match(r"\s*(?:def|class)\s+(\w+)", line)
        if m:
            return m.group(1)
    return "this part"


def make_stub(source: str, path: str = "<reference>") -> str:
    """Replace every solution region with a ``NotImplementedError`` at its indentation."""
    lines = source.splitlines()
    out: list[str] = []
    inside_since = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside_since is not None:
                raise MarkerError(f"{path}:{i + 1}: nested {BEGIN}")
            inside_since = i
            indent = line[: len(line) - len(line.lstrip())]
            name = _enclosing_name(lines, i)
            out.append(f'{indent}raise NotImplementedError("{name}: your code here")')
        elif stripped == END:
            if inside_since is None:
                raise MarkerError(f"{path}:{i + 1}: {END} without {BEGIN}")
            inside_since = None
        elif inside_since is None:
            out.append(line)
    if inside_since is not None:
        raise MarkerError(f"{path}:{inside_since + 1}: {BEGIN} is never closed")
    return STUB_HEADER + "\n".join(out) + "\n"


def strip_markers(source: str) -> str:
    """The reference without its marker lines (a complete, runnable solution)."""
    return "\n".join(ln for ln in source.splitlines() if ln.strip() not in (BEGIN, END)) + "\n"


def stub_files(reference_root: Path, course: tuple[Assignment, ...]) -> dict[str, str]:
    """Relative path under ``assignments/`` -> the text ``make assignments`` writes there."""
    files = {}
    for a in course:
        src = reference_root / a.folder / f"{a.module}.py"
        files[f"{a.folder}/{a.module}.py"] = make_stub(src.read_text(), str(src))
    return files


def write_assignments(reference_root: Path, target: Path, course) -> list[Path]:
    written = []
    for rel, text in stub_files(reference_root, course).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written
