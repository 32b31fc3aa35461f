"""Finding a student's files: ``<student>/<folder>/<module>.py`` or ``.ipynb``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .spec import Assignment


@dataclass(frozen=True)
class Located:
    path: Path | None
    note: str = ""


def locate(student_dir: Path, assignment: Assignment) -> Located:
    """The file to grade; when both a ``.py`` and an ``.ipynb`` exist, the one modified last
    (the one the student worked in; the ``.py`` on a tie), and the report says so."""
    folder = student_dir / assignment.folder
    py, nb = folder / f"{assignment.module}.py", folder / f"{assignment.module}.ipynb"
    if py.is_file() and nb.is_file():
        chosen, other = (nb, py) if nb.stat().st_mtime > py.stat().st_mtime else (py, nb)
        return Located(chosen, f"both {py.name} and {nb.name} were found; {chosen.name}, "
                               f"modified last, was graded ({other.name} was not)")
    if py.is_file():
        return Located(py)
    if nb.is_file():
        return Located(nb)
    return Located(None, f"no submission: expected {assignment.folder}/{py.name} "
                         f"(or {nb.name})")
