"""Authoring: student stubs generated from the reference, the single source.

In ``<course>/<folder>/<module>.py`` every solution region sits between two marker lines::

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

from grader.course.loader import BEGIN, END, Course, strip_markers
from grader.course.spec import Assignment
STUB_HEADER = ("# Student version generated from the reference by the grader's `assign`.\n"
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


def stub_files(course) -> dict[str, str]:
    """Relative path under ``assignments/`` -> the text ``make assignments`` writes there: each
    assignment's stub, lesson notebook and README (copied from the course folder)."""
    files = {}
    for a in course:
        src = a.reference_path
        stub = make_stub(src.read_text(), str(src))
        files[f"{a.folder}/{a.module}.py"] = stub
        files[f"{a.folder}/{a.module}.ipynb"] = notebook_text(a, stub)
        readme = a.course_root / a.folder / "README.md"
        if readme.is_file():
            files[f"{a.folder}/README.md"] = readme.read_text()
    return files


def reference_notebook(assignment: Assignment) -> str:
    """The lesson notebook with the solutions in it (what grading a notebook is tested on)."""
    return notebook_text(assignment, strip_markers(assignment.reference_path.read_text()))


def lesson_sections(text: str, names: set[str]) -> dict[str, str]:
    """``## <name>`` lines (``intro`` or a contract name) start sections; other lines,
    other ``##`` headings included, are the section's markdown."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        key = line[3:].strip() if line.startswith("## ") else None
        if key in names | {"intro"}:
            current = key
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def _chunks(source: str) -> tuple[str, dict[str, str]]:
    """The code before the first definition, and each top-level def/class by its name."""
    import ast
    tree = ast.parse(source)
    lines = source.splitlines()
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    first = min((d.decorator_list[0].lineno if d.decorator_list else d.lineno) for d in defs)
    header = "\n".join(lines[:first - 1]).strip()
    chunks = {}
    for d in defs:
        start = d.decorator_list[0].lineno if d.decorator_list else d.lineno
        chunks[d.name] = "\n".join(lines[start - 1:d.end_lineno]).strip()
    return header, chunks


def notebook_text(assignment: Assignment, source: str) -> str:
    """A lesson notebook: narrative, one code cell per exercise, a check cell after each."""
    import nbformat
    names = [c.name for c in assignment.checks]
    lesson_path = assignment.course_root / assignment.folder / "lesson.md"
    lesson = lesson_sections(lesson_path.read_text(), set(names)) if lesson_path.is_file() \
        else {}
    header, chunks = _chunks(source)
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(lesson.get("intro", f"# {assignment.title}")),
             v4.new_code_cell(header)]
    for name, code in chunks.items():
        if name in lesson:
            cells.append(v4.new_markdown_cell(lesson[name]))
        cells.append(v4.new_code_cell(code))
        if name in names:
            check = v4.new_code_cell(f'from grader import check\ncheck("{name}")')
            check.metadata["tags"] = ["self-check"]
            cells.append(check)
    for i, cell in enumerate(cells):
        cell.id = f"{assignment.folder[:2]}-{i:02d}"
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    return nbformat.writes(nb) + "\n"


def write_assignments(course: Course, target: Path) -> list[Path]:
    """Write every stub and notebook; all get one modification time, so that neither of a
    ``.py``/``.ipynb`` pair looks like the one a student worked in (see submission.locate)."""
    import os
    import time
    written = []
    now = time.time()
    for rel, text in stub_files(course).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        os.utime(path, (now, now))
        written.append(path)
    return written
