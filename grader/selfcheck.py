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
from dataclasses import dataclass
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
        return (f"<div style='border-left:4px solid {colour};padding:.3em .8em'>"
                f"<b>{html.escape(self.name)}</b>: {good}/{len(self.cases)} public cases pass"
                f"<ul style='margin:.3em 0'>{rows}</ul><small>{HIDDEN_NOTE}</small></div>")


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
    lines = []
    for case in build_cases(assignment, spec, secret="", include_hidden=False):
        try:
            outcome = {"status": "ok", "output": _plain(run_probe(
                module, probe, spec.name, case.inputs, device, case.seed))}
        except BaseException as exc:  # the student's code failed: say how, keep going
            from grader.worker.student import describe_error
            # Frames of the student's own file, or of any notebook cell (no file to filter on).
            folder = str(Path(module.__file__).resolve().parent) if not namespace else ""
            outcome = {"status": "error", "error": describe_error(exc, folder)}
        verdict = judge.case(assignment, spec, case, outcome, [])
        text = "\n".join(t for t in (verdict.message, f"hint: {verdict.hint}"
                                      if verdict.hint else "") if t)
        lines.append(CaseLine(case.id, verdict.status == "passed", text))
    return CheckReport(name, assignment.folder, lines)


def _plain(output: dict) -> dict:
    """The probe's output as the grader would see it after the wire."""
    from grader.worker import wire
    return wire.loads(wire.dumps(output))
