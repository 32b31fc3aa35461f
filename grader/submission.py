"""Finding a student's files: ``<student>/<folder>/<module>.py`` or ``.ipynb``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .spec import Assignment


@dataclass(frozen=True)
class Located:
    path: Path | None
    note: str = ""


WORKED_IN = 60.0
"""Seconds by which a notebook must be newer than the .py to count as the one worked in
(a fresh checkout or unzip writes both within a second or two)."""


def locate(student_dir: Path, assignment: Assignment) -> Located:
    """The file to grade. When both a ``.py`` and an ``.ipynb`` exist: the notebook if it
    was modified at least a minute after the ``.py`` (the one the student worked in), else
    the ``.py``; the report says which."""
    folder = student_dir / assignment.folder
    py, nb = folder / f"{assignment.module}.py", folder / f"{assignment.module}.ipynb"
    if py.is_file() and nb.is_file():
        newer = nb.stat().st_mtime - py.stat().st_mtime > WORKED_IN
        chosen, other = (nb, py) if newer else (py, nb)
        return Located(chosen, f"both {py.name} and {nb.name} were found; {chosen.name}, "
                               f"modified last, was graded ({other.name} was not)")
    if py.is_file():
        return Located(py)
    if nb.is_file():
        return Located(nb)
    return Located(None, f"no submission: expected {assignment.folder}/{py.name} "
                         f"(or {nb.name})")


def notebook_code(text: str) -> str:
    """The code cells of a notebook, in order (magics and shell lines dropped)."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return ""
    out = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        out.append("\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))))
    return "\n\n".join(out)


def source_code(path: Path) -> str:
    """A submission's code as text: a ``.py`` file, or a notebook's code cells. Read, never
    run (the grader may parse it)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return notebook_code(text) if path.suffix == ".ipynb" else text
