"""Self-check for students: public cases only, the same messages as the real grading.

In a notebook::

    from grader import check
    check("mse_grad")          # rich HTML in Jupyter, text elsewhere

The function is taken from the notebook's own namespace (or, outside a notebook, from
``assignments/<folder>/<module>.py``) and run right here: this is the student's own code on
their own machine. Expected values come from the shipped public table, never the reference.
"""
from __future__ import annotations

import html
import types
from dataclasses import dataclass
from pathlib import Path

from .cases import build_cases
from .compare import compare_outputs
from .course import COURSE
from .feedback import describe_comparison, describe_student_error
from .probes import run_probe
from .public import PublicExpected

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


def _find(name: str):
    for a in COURSE:
        for c in a.checks:
            if c.name == name:
                return a, c
    known = ", ".join(c.name for a in COURSE for c in a.checks)
    raise KeyError(f"no exercise called {name!r}; the exercises are: {known}")


def _module_for(assignment, namespace: dict):
    if namespace:
        return types.SimpleNamespace(**namespace)
    root = Path(__file__).resolve().parents[1] / "assignments" / assignment.folder
    from .worker.student import load_module
    return load_module(str(root / f"{assignment.module}.py"), assignment.module)


def check(name: str, namespace: dict | None = None, device: str = "cpu") -> CheckReport:
    """Run the public cases of one exercise against the student's own definition: the one in
    ``namespace`` (a notebook's globals; ``grader.check`` passes the caller's) if it has it,
    else the one in ``assignments/<folder>/<module>.py``."""
    assignment, spec = _find(name)
    if not namespace or name not in namespace:
        namespace = {}
    module = _module_for(assignment, namespace)
    expected = PublicExpected()
    lines = []
    for case in build_cases(assignment, spec, secret="", include_hidden=False):
        try:
            want = expected.get(assignment, spec, case, device)
        except Exception as exc:
            lines.append(CaseLine(case.id, False, f"cannot check: {exc}"))
            continue
        try:
            got = run_probe(module, spec.probe, spec.name, case.inputs, device, case.seed)
        except BaseException as exc:  # the student's code failed: say how, keep going
            from .worker.student import describe_error
            # Frames of the student's own file, or of any notebook cell (no file to filter on).
            folder = str(Path(module.__file__).resolve().parent) if not namespace else ""
            lines.append(CaseLine(case.id, False, describe_student_error(
                name, describe_error(exc, folder))))
            continue
        cmp = compare_outputs(_plain(got), want, spec.kind, device)
        lines.append(CaseLine(case.id, cmp.passed, describe_comparison(cmp)))
    return CheckReport(name, assignment.folder, lines)


def _plain(output: dict) -> dict:
    """The probe's output as the grader would see it after the wire."""
    from . import wire
    return wire.loads(wire.dumps(output))
