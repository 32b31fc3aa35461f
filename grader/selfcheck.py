"""Self-check for students: public cases only, the same messages as the real grading.

In a notebook::

    from grader import check
    check("<exercise name>")   # rich HTML in Jupyter, text elsewhere

The function is taken from the notebook's own namespace (or, outside a notebook, from
``assignments/<folder>/<module>.py``) and run right here: this is the student's own code on
their own machine. Expected values come from the shipped public table, never the reference.
"""
from __future__ import annotations

import html
import types
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.cases import build_cases
from grader.course.loader import load_course
from grader.judge.verdict import Judge
from grader.course.probes import resolve, run_probe
from grader.judge.public import PUBLIC_FILE, PublicExpected

HIDDEN_NOTE = "Public cases only: hidden cases with other data will also count in your grade."


@dataclass
class CaseLine:
    id: str
    passed: bool
    message: str


@dataclass
class CheckReport:
    """What ``check(name)`` returns: shown as HTML in Jupyter and as text elsewhere."""

    name: str
    folder: str
    cases: list[CaseLine]
    notes: list[str] = field(default_factory=list)
    """What the real grading says of the whole check: a conversion it made, and the line a
    verified fix changes (as the course's ``[feedback] repair_selfcheck`` says)."""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)

    def __str__(self) -> str:
        good = sum(c.passed for c in self.cases)
        head = f"{self.name}: {good}/{len(self.cases)} public cases pass"
        lines = [head]
        for c in self.cases:
            lines.append(f"  [{'PASS' if c.passed else 'FAIL'}] case {c.id}")
            lines += ["      " + ln for ln in c.message.splitlines()]
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(HIDDEN_NOTE)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        good = sum(c.passed for c in self.cases)
        colour = "#1a7f37" if self.passed else "#b42318"
        rows = "".join(
            f"<li><b style='color:{'#1a7f37' if c.passed else '#b42318'}'>"
            f"{'✓' if c.passed else '✗'}</b> case {html.escape(c.id)}"
            + (f"<pre style='white-space:pre-wrap'>{html.escape(c.message)}</pre>"
               if c.message else "") + "</li>" for c in self.cases)
        notes = "".join(f"<p style='margin:.2em 0'>note: {html.escape(n)}</p>"
                        for n in self.notes)
        return (f"<div style='border-left:4px solid {colour};padding:.3em .8em'>"
                f"<b>{html.escape(self.name)}</b>: {good}/{len(self.cases)} public cases pass"
                f"<ul style='margin:.3em 0'>{rows}</ul>{notes}<small>{HIDDEN_NOTE}</small></div>")


def _module_for(assignment, namespace: dict):
    if namespace:
        return types.SimpleNamespace(**namespace)
    from grader.worker.student import load_module
    return load_module(str(student_file(assignment)), assignment.module)


def student_file(assignment) -> Path:
    """The student's ``.py`` of ``assignment``: beside the notebook (the folder the kernel
    runs in), in ``<here>/<folder>/`` or ``<here>/assignments/<folder>/``, else in this
    copy's ``assignments/`` (an unzipped release used in place)."""
    here, name = Path.cwd(), f"{assignment.module}.py"
    for folder in (here, here / assignment.folder, here / "assignments" / assignment.folder,
                   Path(__file__).resolve().parents[1] / "assignments" / assignment.folder):
        if (folder / name).is_file():
            return folder / name
    return here / "assignments" / assignment.folder / name


def _judge(course, device: str) -> Judge:
    """The one judge, with the expected values this copy has: the shipped public table in a
    student's copy, the reference (and its catalogue) in the instructor's."""
    public = course.root / PUBLIC_FILE
    if public.is_file():
        return Judge(PublicExpected(public), None, device, lambda *case: 0.0)
    from grader.judge.diagnose import Diagnoser
    from grader.judge.expected import Expected
    return Judge(Expected(), Diagnoser(), device, lambda *case: 0.0)


def _source_file(assignment, name: str, namespace: dict) -> Path | None:
    """The ``.py`` file the checked definition was read from: the student's file where the
    namespace lacks it, else the file the namespace's object was defined in (a notebook that
    imports it from the student's ``.py``); None for a definition made in a notebook cell
    (no file of the student holds it: as in grading, a notebook gets no repair)."""
    if name not in namespace:
        path = student_file(assignment)
        return path if path.is_file() else None
    import inspect
    try:
        found = inspect.getsourcefile(namespace[name])
    except (TypeError, OSError):  # a built-in, or a class made in a notebook cell
        return None
    path = Path(found) if found else None
    if path is None or path.suffix != ".py" or not path.is_file() or \
            path.resolve() != student_file(assignment).resolve():
        return None
    return path


def _repair(course, assignment, spec, pairs: list, outcomes: list, verdicts: list,
            path: Path, judge: Judge, device: str) -> list[str]:
    """The line a verified fix changes, said as ``python -m grader check`` says it: the same
    search (``Session.repairs``, ``repair_for="selfcheck"``: what the course's ``[feedback]
    repair_selfcheck`` shows, the line only by default), on the public cases only, each
    candidate run as the check runs the student's code (here in a student's copy, in a
    confined worker in the instructor's)."""
    from grader.grade import Plan, Session
    from grader.judge.results import AssignmentResult, CheckResult
    from grader.worker.pool import ModuleCalls
    from grader.worker.submission import source_code
    if (course.root / PUBLIC_FILE).is_file():
        from grader.worker.selfrun import InProcessRunner
        runner = InProcessRunner()
    else:
        from grader.worker.pool import WorkerPool
        runner = WorkerPool(1)
    import sys
    # Candidates run here (a student's copy) are imported under the module's own name: the
    # notebook's next ``import`` must find the student's module, never the last candidate.
    modules = dict(sys.modules)
    try:
        session = Session(runner, (assignment,), device=device, secret="",
                          include_hidden=False, expected=judge.expected, diagnoser=None,
                          one_fork_per_student=True, repair_for="selfcheck")
        result = AssignmentResult(assignment.folder, assignment.module, path.name)
        result.checks = [CheckResult(assignment.folder, c.name, c.points,
                                     cases=list(verdicts) if c.name == spec.name else [])
                         for c in assignment.checks]
        plan = Plan(assignment, result, pairs, ModuleCalls(str(path), assignment.module, []),
                    outcomes)
        session.repairs(plan, source_code(path), None)
        return next(c.notes for c in result.checks if c.name == spec.name)
    finally:
        runner.close()
        for key in [k for k in sys.modules if k in modules and sys.modules[k] is not modules[k]]:
            sys.modules[key] = modules[key]
        for key in [k for k in modules if k not in sys.modules]:
            sys.modules[key] = modules[key]


def check(name: str, namespace: dict | None = None, device: str = "cpu",
          course=None) -> CheckReport:
    """Run the public cases of one exercise against the student's own definition: the one in
    ``namespace`` (a notebook's globals; ``grader.check`` passes the caller's) if it has it,
    else the one in ``assignments/<folder>/<module>.py``. Verdicts, hints and credit come from
    the same judge as grading."""
    course = course or load_course()
    if (course.root / PUBLIC_FILE).is_file():  # a student's copy, in their own environment
        import sys

        from grader.worker.selfrun import too_old
        old = too_old(torch_too="torch" in sys.modules)
        if old:
            raise RuntimeError(old)
    assignment, spec = course.find(name)
    if not namespace or name not in namespace:
        namespace = {}
    module = _module_for(assignment, namespace)
    judge = _judge(course, device)
    probe = resolve(spec.probe)
    lines, notes, pairs, outcomes, verdicts = [], [], [], [], []
    for case in build_cases(assignment, spec, secret="", include_hidden=False):
        try:
            outcome = {"status": "ok", "output": _plain(run_probe(
                module, probe, spec.name, case.inputs, device, case.seed))}
        except BaseException as exc:  # the student's code failed: say how, keep going
            from grader.worker.student import describe_error
            # Frames of the student's own file, or of any notebook cell (no file to filter on).
            folder = str(Path(module.__file__).resolve().parent) if not namespace else ""
            outcome = {"status": "error", "error": describe_error(exc, folder)}
        verdict = judge.case(assignment, spec, case, outcome, notes)
        text = "\n".join(t for t in (verdict.message, f"hint: {verdict.hint}"
                                      if verdict.hint else "") if t)
        lines.append(CaseLine(case.id, verdict.status == "passed", text))
        pairs.append((spec, case))
        outcomes.append(outcome)
        verdicts.append(verdict)
    path = _source_file(assignment, name, namespace)
    if path is not None and any(v.status != "passed" for v in verdicts):
        notes += _repair(course, assignment, spec, pairs, outcomes, verdicts, path, judge,
                         device)
    return CheckReport(name, assignment.folder, lines, notes)


def _plain(output: dict) -> dict:
    """The probe's output as the grader would see it after the wire."""
    from grader.worker import wire
    return wire.loads(wire.dumps(output))
