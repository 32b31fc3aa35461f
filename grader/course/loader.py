"""The course: a folder an instructor owns, loaded and validated; the engine knows none of it.

A course folder holds ``course.toml`` (its title and its assignments, in order, with their
points) and one folder per assignment::

    course.toml
    data.py                        optional helpers shared by the assignments' checks
    01_first_steps/
        first_steps.py             the reference, with ### BEGIN/END SOLUTION markers
        checks.py                  CHECKS = (Check(...), ...): cases, probes, kinds, points
        probes.py                  optional: probes only this assignment needs
        mistakes.py                optional: MISTAKES = (Mistake(...), ...), the catalogue
        lesson.md                  optional: the lesson notebook's narrative
        README.md                  the student README

Its Python files are imported as one package of their own (``_course_<hash>``), so checks
can share helpers with relative imports (``from ..data import ...``) and two courses can be
loaded side by side. Everything is checked when the course loads; a bad course is one
``CourseError`` naming the file and the entry.
"""
from __future__ import annotations

import ast
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.course.modules import ensure_package, import_course_module
from grader.course.spec import PUBLIC_SHARE, Assignment, Check, Probe, valid_share

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (a student's own environment): the same parser, from PyPI
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
COURSE_FILE = "course.toml"
STUDENT_COPY_MARK = "public_expected.json"
"""A course folder holding the public cases' expected values is a student's copy."""
STUDENT_COURSE = "_course"
"""Where the student release puts its course: inside the ``grader`` package, so an installed
copy (``pip install``) finds it from any folder and any notebook kernel."""
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


REPAIR_DEFAULTS = {"selfcheck": "line", "graded": "fix"}
REPAIR_SHOWS = ("fix", "line", "nothing")


def _repair_options(data: dict, path: Path) -> dict:
    """``[feedback] repair_selfcheck / repair_graded`` of course.toml, checked."""
    feedback = data.get("feedback", {})
    if not isinstance(feedback, dict):
        raise CourseError(f"{path}: [feedback] must be a table")
    out = dict(REPAIR_DEFAULTS)
    for where in REPAIR_DEFAULTS:
        value = feedback.get(f"repair_{where}", out[where])
        if value not in REPAIR_SHOWS:
            raise CourseError(f"{path}: [feedback] repair_{where} must be one of "
                              f"{', '.join(REPAIR_SHOWS)} (got {value!r})")
        out[where] = value
    return out


class CourseError(ValueError):
    """The course folder is not a valid course: says which file and which entry."""


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    assignments: tuple[Assignment, ...]
    package: str
    """The import name of the course's Python files."""
    mistakes: dict = field(default_factory=dict, compare=False, repr=False)
    """folder -> the catalogue of that assignment (tuple of Mistake), instructor side only."""
    student_modules: tuple[str, ...] = field(default=(), compare=False, repr=False)
    """The course modules the checks and probes import (what a student's copy needs)."""
    probe_modules: tuple[str, ...] = field(default=(), compare=False, repr=False)
    """The course's probe modules (``<folder>.probes``), imported by a worker before it is
    confined."""
    repair: dict = field(default_factory=lambda: dict(REPAIR_DEFAULTS), compare=False,
                         repr=False)
    """What a verified fix in the student's own code shows (``[feedback]`` of course.toml):
    ``selfcheck`` and ``graded``, each ``fix`` (the line and its change), ``line`` (the line
    only) or ``nothing``."""
    late: dict = field(default_factory=dict, compare=False, repr=False)
    """folder -> its ``deadlines.LatePolicy`` (assignments with a ``due`` date)."""

    def __iter__(self):
        return iter(self.assignments)

    def __len__(self) -> int:
        return len(self.assignments)

    def __getitem__(self, index):
        return self.assignments[index]

    @property
    def points(self) -> float:
        return sum(a.points for a in self.assignments)

    def assignment(self, folder: str) -> Assignment:
        for a in self.assignments:
            if a.folder == folder:
                return a
        raise KeyError(f"no assignment {folder!r}; known: "
                       f"{', '.join(a.folder for a in self.assignments)}")

    def find(self, name: str) -> tuple[Assignment, Check]:
        """The assignment and check of a contract name."""
        for a in self.assignments:
            for c in a.checks:
                if c.name == name:
                    return a, c
        known = ", ".join(c.name for a in self.assignments for c in a.checks)
        raise KeyError(f"no exercise called {name!r}; the exercises are: {known}")

    def student_files(self) -> list[Path]:
        """The course files a student's copy needs to check their work: the course file, every
        assignment's checks and probes and the course modules they import. Never a reference
        solution or a catalogue (the release test reads every solution line to be sure)."""
        files = {self.root / COURSE_FILE}
        for name in self.student_modules:
            path = getattr(sys.modules.get(name), "__file__", None)
            if path:
                files.add(Path(path))
        references = {a.reference_path.resolve() for a in self.assignments}
        return sorted(p for p in files if p.resolve() not in references)


_LOADED: dict[Path, Course] = {}
_LOCK = threading.RLock()


def default_root() -> Path:
    """This repository's course (``reference/``), or a student copy's: the one the student
    release ships inside the package (``grader/_course/``, found wherever pip installed it),
    or an older release's ``course/`` beside it."""
    for candidate in (ROOT / "reference", Path(__file__).resolve().parents[1] / STUDENT_COURSE,
                      ROOT / "course"):
        if (candidate / COURSE_FILE).is_file():
            return candidate
    return ROOT / "reference"


def load_course(root: str | Path | None = None) -> Course:
    """The course in ``root`` (default: ``default_root()``), loaded once per process."""
    root = Path(root or default_root()).resolve()
    with _LOCK:
        if root not in _LOADED:
            _LOADED[root] = _load(root)
        return _LOADED[root]


def probe_module_path(root: Path, folder: str) -> Path:
    return root / folder / "probes.py"


def _load(root: Path) -> Course:
    path = root / COURSE_FILE
    if not path.is_file():
        raise CourseError(f"{path}: no course file (a course folder holds {COURSE_FILE})")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path}: not valid TOML: {exc}") from None
    entries = data.get("assignment")
    if not isinstance(entries, list) or not entries:
        raise CourseError(f"{path}: lists no [[assignment]]")
    try:
        course_share = valid_share(data.get("public_share", PUBLIC_SHARE),
                                   f"{path}: public_share")
    except ValueError as exc:
        raise CourseError(str(exc)) from None
    package = ensure_package(root)
    student_copy = (root / STUDENT_COPY_MARK).is_file()
    probe_modules = []
    for entry in entries:  # probes first: checks refer to them, models register there
        folder = entry.get("folder", "")
        probes = probe_module_path(root, folder)
        if probes.is_file():
            try:
                import_course_module(root, f"{folder}.probes")
            except Exception as exc:
                raise CourseError(f"{probes}: cannot be imported: {type(exc).__name__}: "
                                  f"{exc}") from None
            probe_modules.append(f"{folder}.probes")
    assignments, mistakes = [], {}
    seen: dict[str, str] = {}
    for i, entry in enumerate(entries):
        where = f"{path}: [[assignment]] #{i + 1}"
        for key in ("folder", "module", "title", "points"):
            if key not in entry:
                raise CourseError(f"{where}: missing `{key}`")
        folder = entry["folder"]
        checks_path = root / folder / "checks.py"
        if not checks_path.is_file():
            raise CourseError(f"{where} ({folder}): no {checks_path.relative_to(root)}")
        try:
            module = import_course_module(root, f"{folder}.checks")
        except Exception as exc:
            raise CourseError(f"{checks_path}: cannot be imported: {type(exc).__name__}: "
                              f"{exc}") from None
        checks = getattr(module, "CHECKS", None)
        if not isinstance(checks, tuple) or not all(isinstance(c, Check) for c in checks):
            raise CourseError(f"{checks_path}: must define CHECKS, a tuple of Check")
        try:
            share = valid_share(getattr(module, "PUBLIC_SHARE", course_share),
                                f"{checks_path}: PUBLIC_SHARE")
        except ValueError as exc:
            raise CourseError(str(exc)) from None
        checks = tuple(c if c.public_share is not None else replace(c, public_share=share)
                       for c in checks)
        try:
            assignment = Assignment(folder, entry["module"], entry["title"],
                                    float(entry["points"]), checks, root)
        except ValueError as exc:
            raise CourseError(f"{checks_path}: {exc}") from None
        for c in checks:
            if c.name in seen:
                raise CourseError(f"{checks_path}: the contract name {c.name!r} is already "
                                  f"checked in {seen[c.name]}")
            seen[c.name] = folder
            _check_probe(c, checks_path)
        if not student_copy:  # a student's copy has no reference
            _check_reference(root, assignment)
        assignments.append(assignment)
    # What a self-check needs: the checks, the probes and what they import (not what the
    # catalogues import, loaded next).
    student_modules = tuple(sorted(n for n in sys.modules if n.startswith(package + ".")))
    for assignment in assignments if not student_copy else ():
        mistakes[assignment.folder] = _load_mistakes(root, assignment)
    total = data.get("points")
    course_points = sum(a.points for a in assignments)
    if total is not None and abs(float(total) - course_points) > 1e-9:
        raise CourseError(f"{path}: the assignments give {course_points:g} points, "
                          f"not the {float(total):g} the course declares")
    from grader.course.deadlines import DeadlineError, late_policies
    try:  # a student's copy needs no late policy (nor, on Windows, a time zone database)
        late = late_policies(data, path) if not student_copy else {}
    except DeadlineError as exc:
        raise CourseError(str(exc)) from None
    return Course(root, str(data.get("title", root.name)), tuple(assignments), package,
                  mistakes, student_modules, tuple(probe_modules), _repair_options(data, path),
                  late)


def _check_probe(check: Check, where: Path) -> None:
    from grader.course.probes import PROBES
    if isinstance(check.probe, Probe):
        return
    if check.probe not in PROBES:
        raise CourseError(f"{where}: check {check.name!r}: unknown probe {check.probe!r} "
                          f"(the engine's: {', '.join(sorted(PROBES))}; or a Probe of the "
                          "course's probes.py)")


def top_level_names(source: str) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def strip_markers(source: str) -> str:
    """The reference without its marker lines (a complete, runnable solution)."""
    return "\n".join(ln for ln in source.splitlines() if ln.strip() not in (BEGIN, END)) + "\n"


def _check_reference(root: Path, assignment: Assignment) -> None:
    path = root / assignment.folder / f"{assignment.module}.py"
    if not path.is_file():
        raise CourseError(f"{path}: the reference of {assignment.folder} is missing")
    source = path.read_text()
    try:
        names = top_level_names(source)
    except SyntaxError as exc:
        raise CourseError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    for c in assignment.checks:
        if c.name not in names:
            raise CourseError(f"{path}: defines no `{c.name}`, which "
                              f"{assignment.folder}/checks.py checks")
    if source.count(BEGIN) != source.count(END):
        raise CourseError(f"{path}: {source.count(BEGIN)} `{BEGIN}` markers but "
                          f"{source.count(END)} `{END}`")


def _load_mistakes(root: Path, assignment: Assignment) -> tuple:
    from grader.course.spec import Mistake
    path = root / assignment.folder / "mistakes.py"
    if not path.is_file():
        return ()
    try:
        module = import_course_module(root, f"{assignment.folder}.mistakes")
    except Exception as exc:
        raise CourseError(f"{path}: cannot be imported: {type(exc).__name__}: {exc}") from None
    entries = getattr(module, "MISTAKES", None)
    if not isinstance(entries, tuple) or not all(isinstance(m, Mistake) for m in entries):
        raise CourseError(f"{path}: must define MISTAKES, a tuple of Mistake")
    names = {c.name for c in assignment.checks}
    source = strip_markers((root / assignment.folder / f"{assignment.module}.py").read_text())
    for m in entries:
        where = f"{path}: mistake {m.name!r} ({m.target})"
        if m.target not in names:
            raise CourseError(f"{where}: {m.target!r} is not a checked name of "
                              f"{assignment.folder}")
        for other in m.also:
            if other not in names:
                raise CourseError(f"{where}: `also` names {other!r}, which is not checked")
        for old, _ in m.replace:
            if old not in source:
                raise CourseError(f"{where}: the text to replace is not in the reference: "
                                  f"{old[:60]!r}")
        if not m.replace and not m.error:
            raise CourseError(f"{where}: give `replace` (a wrong implementation) or `error`")
    return entries
