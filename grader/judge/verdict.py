"""The judge: one case's outcome against its expected value, a verdict, a hint and credit.

Every path that gives a verdict calls this: grading one student, a batch, the Gradescope run
and a student's self-check (terminal and notebook). Only where the outcome comes from (a
confined worker, or the student's own process on their own machine) and where the expected
value comes from (the reference, or the shipped table of public cases) differ.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader.judge.compare import compare_for, signature
from grader.judge.diagnose import Diagnoser, explain_error, generic
from grader.judge.feedback import (describe_comparison, describe_crash,
                                   describe_hidden_comparison, describe_student_error,
                                   error_line, hidden_error, hidden_line)
from grader.course.probes import Unreadable, derived, described_array, resolve
from grader.judge.expected import ReferenceError
from grader.judge.results import CaseResult
from grader.course.spec import Assignment, Case, Check

NOT_GRADED = ("not graded: {why}. Not charged to you and not credited either: the "
              "instructor has been told, and a later run grades it")
"""A case no verdict could be reached on. It earns nothing: a grade never rises because
grading failed (a student able to make grading fail would otherwise earn its points)."""


@dataclass
class Judge:
    expected: object
    """``reference.Expected`` or ``public.PublicExpected``: ``get(assignment, check, case,
    device)``."""
    diagnoser: Diagnoser | None
    """The course's catalogue (instructor side); None in a student's copy."""
    device: str
    limit: Callable[[Assignment, Check, Case], float]
    """The time limit a case ran under (for the message of a time-out)."""

    def case(self, assignment: Assignment, check: Check, case: Case, outcome: dict,
             notes: list[str]) -> CaseResult:
        """The verdict on one case; notes common to the check's cases go to ``notes``.

        Judging that fails (what a fork sent passed its declared shape, yet something in
        it stops the comparison or a diagnosis) leaves the case not graded: 0 points, the
        instructor told, the other cases judged as usual; never a crash of the grader."""
        try:
            return self._case(assignment, check, case, outcome, notes)
        except Exception as exc:
            return CaseResult(id=case.id, hidden=case.hidden, seed=case.seed,
                              status="grader_error", fraction=0.0, message=NOT_GRADED.format(
                                  why="the grader could not judge what came back "
                                      f"({type(exc).__name__}: {str(exc)[:200]})"))

    def _case(self, assignment: Assignment, check: Check, case: Case, outcome: dict,
              notes: list[str]) -> CaseResult:
        base = dict(id=case.id, hidden=case.hidden, seed=case.seed)
        status = outcome["status"]
        if status != "grader_error":
            try:  # whatever the student's code did: a case the course cannot grade is not graded
                expected = self.expected.get(assignment, check, case, self.device)
            except ReferenceError as exc:  # the course's own code failed: never the student's
                return CaseResult(**base, status="course_error", fraction=0.0,
                                  message=NOT_GRADED.format(why=exc.headline if exc.kind
                                                            else f"course error: {exc}"))
        if status == "error":
            found = (self.diagnoser.from_error(assignment, check, outcome["error"])
                     if self.diagnoser else None) or explain_error(outcome["error"])
            module_file = f"{assignment.module}.py"
            said, line = hidden_error(check.name, outcome["error"], module_file) \
                if case.hidden else (describe_student_error(check.name, outcome["error"])
                                     + _in_course(check.name, outcome["error"]),
                                     error_line(outcome["error"], module_file))
            return CaseResult(**base, status="error", fraction=0.0, message=said, line=line,
                              hint=found.hint if found else "",
                              cause=bool(found and found.cause),
                              diagnosis=found.name if found else "",
                              blames=found.blames if found else "",
                              error_kind=str(outcome["error"].get("kind") or "error"))
        if status == "grader_error":  # the machinery failed on this student, every try
            return CaseResult(**base, status="grader_error", fraction=0.0,
                              message=NOT_GRADED.format(
                                  why="the grader's worker failed on this case "
                                      f"({outcome.get('reason')})"))
        if status != "ok":
            return CaseResult(**base, status="error", fraction=0.0,
                              message=describe_crash(check.name, outcome,
                                                     outcome.get("limit") or
                                                     self.limit(assignment, check, case),
                                                     case.hidden))
        probe = resolve(check.probe)
        try:  # what earns points is derived here, from what the probes described
            expected = derived(probe, expected, case.inputs)
        except Unreadable as exc:
            return CaseResult(**base, status="course_error", fraction=0.0,
                              message=NOT_GRADED.format(why=f"course error: the reference's "
                                                            f"output could not be read ({exc})"))
        try:
            actual = derived(probe, outcome["output"], case.inputs)
        except Unreadable as exc:
            return CaseResult(**base, status="wrong", fraction=0.0,
                              message=f"`{check.name}`: what came back from your code could "
                                      "not be read" + ("" if case.hidden else f" ({exc})"))
        cmp = compare_for(check, actual, expected, self.device, reveal=not case.hidden)
        for note in cmp.notes:
            _add_note(notes, note)
        first = next((p.first_step for p in cmp.problems if p.first_step is not None), None)
        # A hidden call's time is the student's to choose (a sleep, a forged event): a number
        # that could carry its inputs, so it is not kept.
        base["seconds"] = None if case.hidden else outcome.get("seconds")
        if check.kind in ("trajectory", "fit") and not case.hidden:
            base["evidence"] = {"actual": actual.get("result"), "expected": expected.get("result"),
                                "inputs": case.inputs, "check": check}
        if cmp.passed:
            return CaseResult(**base, status="passed", fraction=1.0)
        message = describe_hidden_comparison(cmp) if case.hidden else describe_comparison(cmp)
        found = self.diagnoser.from_output(assignment, check, case, actual, self.device,
                                           expected) if self.diagnoser else None
        plain = generic(actual, expected, check.kind, self.device, case.hidden, probe,
                        case.inputs)
        if plain is None and self.diagnoser and (found is None or found.blames):
            plain = self.diagnoser.from_variants(
                assignment, check, case, actual, self.device,
                self.expected.time_of(assignment, check, case, self.device))
        finding = found or plain
        extra = dict(first_step=first, hint=finding.hint if finding else "",
                     diagnosis=finding.name if finding else "",
                     cause=bool(finding and finding.cause),
                     blames=found.blames if found else "", fallback=plain,
                     signature=signature(actual))
        share, said = self._shared_credit(check, cmp, expected, probe)
        if share > 0:
            return CaseResult(**base, status="partial", fraction=share,
                              message=message + "\n" + said, **extra)
        partial = self._fit_credit(check, case, actual, expected)
        if partial:
            return CaseResult(**base, status="partial", fraction=0.5,
                              message=message + "\n" + partial, **extra)
        return CaseResult(**base, status="wrong", fraction=0.0, message=message, **extra)

    @staticmethod
    def _shared_credit(check: Check, cmp, expected: dict, probe) -> tuple[float, str]:
        """The share of a case the right quantities earn (``Check.shares``), and its words."""
        shares = {k: float(w) for k, w in check.shares.items() if k in expected}
        wrong = {p.key for p in cmp.problems}
        if not shares or not wrong <= set(shares):
            return 0.0, ""
        right = [k for k in shares if k not in wrong]
        earned = sum(shares[k] for k in right) / sum(shares.values())
        if not right:
            return 0.0, ""
        names = ", ".join(probe.label(k) for k in right)
        return earned, f"right: {names} ({earned:.0%} of the case's points)"

    @staticmethod
    def _fit_credit(check: Check, case: Case, actual: dict, expected: dict) -> str:
        """Half credit when a fit reaches the reference's final loss by another path."""
        if check.fit is None:
            return ""
        a, e = described_array(actual.get("result")), described_array(expected.get("result"))
        if a is None or e is None or a.shape != e.shape or not np.isfinite(a).all():
            return ""
        loss_a, loss_e = check.fit.loss(a[-1], case.inputs), check.fit.loss(e[-1], case.inputs)
        if loss_a <= loss_e * (1 + check.fit.rel_margin) + 1e-12:
            numbers = "" if case.hidden else f" ({loss_a:.6g} against {loss_e:.6g})"
            gap = (loss_a - loss_e) / abs(loss_e) if loss_e else 0.0
            said = ("equal to the reference's" if abs(gap) < 5e-4 else
                    f"{abs(gap):.1%} {'below' if gap < 0 else 'above'} the reference's")
            return (f"your final loss is {said}{numbers} (at most "
                    f"{check.fit.rel_margin:.0%} above earns it): half credit for the fit")
        return ""


def attribute(checks: list, uses=None) -> None:
    """Hints checked against the whole of a student's verdicts, so that none blames the wrong
    function or names a cause the other cases contradict:

    - a catalogued mistake is one piece of code: it stands only where it explains every
      failing case of its check; elsewhere the generic finding is said instead;
    - a hint that blames another contract name holds only if that name is defined and loses
      points of its own; otherwise it is withdrawn (the mistake is where the student wrote
      it, not where the catalogue usually finds it);
    - a failing name with no hint that calls another contract name of the submission that
      fails its own checks is told so (``uses()``: {name: the contract names it calls}, read
      from the source only when some failing name has no hint)."""
    by_name = {c.name: c for c in checks}
    for check in checks:
        failing = [c for c in check.cases if c.status in ("wrong", "partial")]
        for case in failing:
            if case.diagnosis and not case.blames and case.fallback is not None and any(
                    other.diagnosis != case.diagnosis for other in failing):
                _fall_back(case)
        for case in failing:  # a generic cause is said only where every failing case shows it
            if case.cause and not case.blames and case.fallback is not None and \
                    case.diagnosis == case.fallback.name and any(
                        other.diagnosis != case.diagnosis for other in failing):
                case.hint, case.diagnosis, case.cause = "", "", False
        for case in check.cases:
            other = by_name.get(case.blames)
            if not case.blames or other is None:
                continue
            if not _fails_itself(other):
                _fall_back(case)
    unexplained = any(c.status in ("wrong", "partial", "error") and not c.hint
                      for check in checks for c in check.cases)
    calls = uses() if uses is not None and unexplained else {}
    for check in checks:
        broken = sorted(n for n in calls.get(check.name, ())
                        if n in by_name and n != check.name and _fails_itself(by_name[n]))
        if not broken:
            continue
        names = ", ".join(f"`{n}`" for n in broken)
        fails, its = ("fails", "its") if len(broken) == 1 else ("fail", "their")
        for case in check.cases:
            if case.status in ("wrong", "partial", "error") and not case.hint and \
                    case.error_kind not in ("missing", "not_implemented"):
                case.hint = (f"`{check.name}` calls your {names}, which {fails} {its} own "
                             "checks: fix that first, its mistake carries over here")
                case.diagnosis, case.blames = "uses a failing function", broken[0]
                case.cause = False  # where to look first, not a cause reproduced


def point_at_lines(checks: list, source, module_file: str = "") -> None:
    """A hidden case's error is told where it was raised (``feedback.hidden_line``); an error
    explained by a known cause but raised outside the student's code (no line of theirs in
    the traceback) is shown the line of theirs that causes it. ``source()``: the
    submission's code, read only when some case needs it."""
    from grader.judge.diagnose.errors import SOURCE_LINES, student_line
    code = None
    for check in checks:
        shown = {c.line for c in check.cases if not c.hidden and c.status == "error"}
        for case in check.cases:
            if case.status == "error" and case.hidden and case.line is not None:
                # a hidden case's line: its code read here, never taken from the student's
                # process (which could have put the case's inputs in it)
                text = ""
                if case.line in shown:
                    code = source() if code is None else code
                    lines = code.splitlines() if code else []
                    if case.line <= len(lines):
                        text = lines[case.line - 1].strip()[:200]
                case.message += hidden_line(module_file, case.line, case.line in shown, text,
                                            check.name)
                continue
            if case.status != "error" or case.diagnosis not in SOURCE_LINES or \
                    "line" in case.message:
                continue
            code = source() if code is None else code
            found = student_line(code, check.name, case.diagnosis) if code else None
            if found:
                case.message += f"\n    caused by your line {found[0]}: {found[1]}"


def _in_course(name: str, error: dict) -> str:
    """Where an error a student's code caused was raised in the course's own code (a probe,
    a grader-built model; the fork says so, ``kind`` ``course``): the reference passes this
    case, so the error is the student's — said so, with the place, should the instructor's
    code be at fault all the same (a style the contract allows but the probe does not)."""
    if error.get("kind") != "course" or not error.get("origin"):
        return ""
    return (f"\n    raised in the course's own code ({error['origin']}) while it used what "
            f"`{name}` returned or did; the reference passes this case, so compare yours "
            "with the contract (type, shape, dtype)")


def _fails_itself(check) -> bool:
    """Defined, and losing points of its own."""
    return not check.passed and not all(c.error_kind == "missing" for c in check.cases)


def _fall_back(case) -> None:
    """Say the case's generic finding instead of a withdrawn catalogue hint."""
    plain = case.fallback
    case.hint, case.diagnosis = (plain.hint, plain.name) if plain else ("", "")
    case.cause = bool(plain and plain.cause)
    case.blames = ""


_INDEX = re.compile(r"\[\d+\]")


def _add_note(notes: list[str], note: str) -> None:
    """Add ``note`` once; notes that differ only in an item's index (``value[0]``,
    ``value[1]``…) become one, about every such item (``value[…]``)."""
    general = _INDEX.sub("[…]", note)
    for k, seen in enumerate(notes):
        if seen == note or seen == general:
            return
        if _INDEX.sub("[…]", seen) == general:
            notes[k] = general
            return
    notes.append(note)
