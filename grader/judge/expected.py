"""Expected values: the same probes run on the reference modules, in the grader (trusted)."""
from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

from grader.worker import wire
from grader.course.cases import build_cases
from grader.course.loader import CourseError
from grader.course.probes import resolve, run_probe
from grader.course.spec import Assignment, Case, Check


class ReferenceError(RuntimeError):
    """The course's own code (the reference, a probe) failed on a case: never charged to the
    student, never credited (the case is not graded).

    ``headline`` is what a student is shown: the course file and line, and the exception's
    type only (its message could carry a hidden case's values); ``str()`` is the instructor's
    whole line."""

    def __init__(self, message: str, where: str = "", kind: str = ""):
        super().__init__(message)
        self.where = where
        """``<folder>/<file>.py line N``: the innermost frame in the course's files ('' when
        none is, e.g. an engine probe failing on what the reference returned)."""
        self.kind = kind
        """The exception's type name."""

    @property
    def headline(self) -> str:
        """``course error in `01_layers/probes.py` line 12 (AttributeError)``."""
        file, _, line = self.where.partition(" line ")
        where = f" in `{file}` line {line}" if self.where else ""
        return f"course error{where} ({self.kind or 'error'})"


def course_frame(exc: BaseException, course_root) -> str:
    """``<folder>/<file>.py line N`` of the innermost frame of ``exc`` inside the course
    folder, or '' when no frame is (trusted side: reads the grader's own traceback)."""
    import traceback
    if course_root is None:
        return ""
    root = Path(course_root).resolve()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            rel = Path(frame.filename).resolve().relative_to(root)
        except (ValueError, OSError):
            continue
        return f"{rel.as_posix()} line {frame.lineno}"
    return ""


class Expected:
    """Computes and caches the reference's probe outputs per (assignment, check, case, device)."""

    def __init__(self):
        self._modules: dict[Path, object] = {}
        self._cache: dict[tuple, dict] = {}
        self.seconds: dict[tuple, float] = {}
        """How long the reference took per case: the base of adaptive time limits."""
        self._lock = threading.Lock()
        self.failures: dict[tuple, ReferenceError] = {}
        """The cases the course's code failed on, by key: raised again, not re-run, for every
        student (the instructor's list of course errors)."""

    def module(self, assignment: Assignment):
        path = assignment.reference_path
        if path not in self._modules:
            name = f"_reference_{abs(hash(str(path)))}_{assignment.module}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            self._modules[path] = module
        return self._modules[path]

    def export(self) -> list[tuple]:
        """Every value computed so far as plain data, for another trusted process (a cluster
        worker) that grades the same course: (folder, check, case id, seed, device, JSON,
        seconds)."""
        with self._lock:
            return [(k[1], k[2], k[3], k[4], k[5], wire.dumps(v), self.seconds.get(k, 0.0))
                    for k, v in self._cache.items()]

    def preload(self, rows: list[tuple], course_root: Path) -> None:
        """Take values ``export`` gave, for the course now at ``course_root``."""
        with self._lock:
            for folder, check, case_id, seed, device, text, seconds in rows:
                key = (str(course_root), folder, check, case_id, seed, device)
                self._cache[key] = wire.loads(text)
                self.seconds[key] = seconds

    @staticmethod
    def key(assignment: Assignment, check: Check, case: Case, device: str) -> tuple:
        return (str(assignment.course_root), assignment.folder, check.name, case.id, case.seed,
                device)

    def time_of(self, assignment: Assignment, check: Check, case: Case, device: str) -> float:
        """How long the reference took on the case (0 when it has not run here)."""
        return self.seconds.get(self.key(assignment, check, case, device), 0.0)

    def get(self, assignment: Assignment, check: Check, case: Case, device: str) -> dict:
        key = self.key(assignment, check, case, device)
        with self._lock:
            if key in self.failures:
                raise self.failures[key]
            if key not in self._cache:
                try:
                    module = self.module(assignment)
                    started = time.perf_counter()
                    raw = run_probe(module, resolve(check.probe), check.name, case.inputs,
                                    device, case.seed)
                    self.seconds[key] = time.perf_counter() - started
                    # The same plain-data round trip as a worker's output.
                    self._cache[key] = wire.loads(wire.dumps(raw))
                except Exception as exc:
                    where = course_frame(exc, assignment.course_root)
                    at = f" ({where})" if where else ""
                    failure = ReferenceError(
                        f"the reference failed on {check.name}/{case.id}{at}: "
                        f"{type(exc).__name__}: {str(exc)[:300]}", where, type(exc).__name__)
                    self.failures[key] = failure
                    raise failure from exc
            return self._cache[key]


class CaseMakerError(CourseError):
    """A case maker of the course raised, or returned what is not plain data: one line
    naming the checks file, the check and the case (never a traceback).

    At grading time its check is not graded (``course_error``): ``headline`` is what a
    student is shown (the course file and line, and the exception's type only: its message
    could carry a hidden case's values); ``str()`` is the instructor's whole line."""

    def __init__(self, message: str, where: str = "", kind: str = ""):
        super().__init__(message)
        self.where = where
        """``<folder>/checks.py line N`` (or the file the maker called into)."""
        self.kind = kind
        """The exception's type name, or what was wrong with the inputs."""

    @property
    def headline(self) -> str:
        """``course error in `01_x/checks.py` line 12 (KeyError)``."""
        file, _, line = self.where.partition(" line ")
        at = f" line {line}" if line else ""
        return f"course error in `{file}`{at}, a case maker ({self.kind or 'error'})"


def make_cases(assignment: Assignment, check: Check, secret: str,
               include_hidden: bool = True) -> list[Case]:
    """``cases.build_cases``, one case at a time so that a failing case maker is named with
    its case, and each case's inputs checked to be plain data (what travels to a worker)."""
    from types import SimpleNamespace
    cases = []
    for spec in check.cases:
        if spec.hidden and not include_hidden:
            continue
        where = (f"{assignment.folder}/checks.py: check {check.name!r}, "
                 f"{'hidden ' if spec.hidden else ''}case {spec.id!r}")
        try:
            one = SimpleNamespace(name=check.name, cases=(spec,))  # build_cases reads these
            made = build_cases(assignment, one, secret, include_hidden)
        except Exception as exc:
            at = course_frame(exc, assignment.course_root)
            raise CaseMakerError(f"{where}: the case maker raised {type(exc).__name__}: "
                                 f"{str(exc)[:200]}{f' ({at})' if at else ''}",
                                 at or f"{assignment.folder}/checks.py",
                                 type(exc).__name__) from None
        checks_file = f"{assignment.folder}/checks.py"
        for case in made:
            if not isinstance(case.inputs, dict):
                raise CaseMakerError(f"{where}: the case maker returned a "
                                     f"{type(case.inputs).__name__}, not a dict of inputs",
                                     checks_file, "inputs not a dict")
            try:
                wire.dumps(case.inputs)
            except Exception as exc:
                raise CaseMakerError(f"{where}: the inputs are not plain data: {exc} (give "
                                     "tensors as grader.course.probes.tensor(...), generators as "
                                     "rng(...))", checks_file,
                                     "inputs not plain data") from None
        cases += made
    return cases
