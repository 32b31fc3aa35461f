"""Grading one student: cases, worker runs, comparison with the reference, verdicts."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, wire
from .cases import build_cases, secret_id
from .compare import compare_outputs, described_array
from .diagnose import Diagnoser, generic, own_loop_holds
from .feedback import describe_comparison, describe_crash, describe_student_error
from .reference import REFERENCE_ROOT, Expected, ReferenceError
from .results import AssignmentResult, CaseResult, CheckResult, StudentResult
from .spec import Assignment, Case, Check
from .submission import locate
from .worker.pool import Call, Job, ModuleCalls, WorkerPool

ADAPTIVE_FACTOR, ADAPTIVE_FLOOR = 100.0, 2.0
OWN_LOOP = ("your loop is right: judged on its own, every step follows your own `{grad}`, "
            "which is wrong (see there); the loop keeps its points")


@dataclass
class Plan:
    """One assignment of one student: what to run, and what came back."""

    assignment: Assignment
    result: AssignmentResult
    pairs: list[tuple[Check, Case]]
    module: ModuleCalls | None
    outcomes: list[dict]

    def add_notes(self, notes: list[str]) -> None:
        self.result.note = "\n".join(n for n in [self.result.note, *notes] if n)


@dataclass
class Session:
    """Everything shared by the students of one grading run."""

    pool: WorkerPool
    course: tuple[Assignment, ...]
    device: str = "cpu"
    secret: str = ""
    include_hidden: bool = True
    confine: bool = True
    one_fork_per_student: bool = False
    """Batch mode: all of a student's modules in one fork (cheaper, but not in parallel)."""
    max_timeout: float | None = None
    """Caps every check's time limit (tests use it to keep endless loops short)."""
    expected: Expected = field(default_factory=Expected)
    diagnoser: Diagnoser | None = field(default_factory=lambda: Diagnoser(REFERENCE_ROOT))
    warnings: list[str] = field(default_factory=list)
    _cases: dict = field(default_factory=dict)
    _encoded: dict = field(default_factory=dict)
    _limits: dict = field(default_factory=dict)

    def cases(self, assignment: Assignment, check: Check) -> list[Case]:
        key = (assignment.folder, check.name)
        if key not in self._cases:
            self._cases[key] = build_cases(assignment, check, self.secret, self.include_hidden)
        return self._cases[key]

    def encoded(self, assignment: Assignment, check: Check, case: Case):
        """A case's inputs as JSON text, encoded once for every student."""
        key = (assignment.folder, check.name, case.id)
        if key not in self._encoded:
            self._encoded[key] = wire.Raw(case.inputs)
        return self._encoded[key]

    def warm_expected(self) -> None:
        """Compute every expected value now; a reference failure is reported per case later."""
        for a in self.course:
            for check in a.checks:
                for case in self.cases(a, check):
                    try:
                        self.expected.get(a, check, case, self.device)
                    except ReferenceError:
                        pass

    def timeout(self, assignment: Assignment, check: Check, case: Case | None = None) -> float:
        """The check's limit, shortened to 100x the reference's median time (+2 s) if known
        (then kept for the session: every student gets the same limit)."""
        key = (assignment.folder, check.name)
        if key in self._limits:
            return self._limits[key]
        limit = min(check.timeout, self.max_timeout or check.timeout)
        times = [self.expected.seconds[k] for k in
                 (Expected.key(assignment, check, c, self.device)
                  for c in self.cases(assignment, check)) if k in self.expected.seconds]
        if times:
            limit = min(limit, ADAPTIVE_FACTOR * float(np.median(times)) + ADAPTIVE_FLOOR)
            if len(times) == len(self.cases(assignment, check)):
                self._limits[key] = limit
        return limit

    def grade(self, student_dir: Path, student: str | None = None) -> StudentResult:
        started = time.perf_counter()
        student_dir = student_dir.resolve()
        result = StudentResult(student or student_dir.name, self.device, __version__,
                               secret_id(self.secret), public_only=not self.include_hidden,
                               warnings=list(self.warnings))
        plans = [self.plan(student_dir, a) for a in self.course]
        runnable = [p for p in plans if p.module is not None]
        if self.one_fork_per_student:  # batch: one fork per student (a fork costs ~20 ms)
            if runnable:
                ran = self.pool.run(self.job([p.module for p in runnable], student_dir))
                for p, m in zip(runnable, ran.modules):
                    p.outcomes, p.result.output = m.results, ran.output
                    p.add_notes(m.notes)
        else:  # one student: its assignments in parallel, expected values meanwhile
            with ThreadPoolExecutor(max_workers=max(len(runnable), 1)) as ex:
                futures = [(p, ex.submit(self.pool.run, self.job([p.module], student_dir)))
                           for p in runnable]
                self.warm_expected()
                for p, fut in futures:
                    ran = fut.result()
                    p.outcomes, p.result.output = ran.modules[0].results, ran.output
                    p.add_notes(ran.modules[0].notes)
        result.assignments = [self.finish(p) for p in plans]
        result.seconds = time.perf_counter() - started
        return result

    def job(self, modules: list[ModuleCalls], student_dir: Path) -> Job:
        cap = self.max_timeout
        return Job(modules, str(student_dir), self.device, self.confine,
                   cell_seconds=min(30.0, cap or 30.0),
                   import_seconds=min(120.0, 4 * cap) if cap else 120.0)

    def plan(self, student_dir: Path, assignment: Assignment) -> "Plan":
        located = locate(student_dir, assignment)
        rel = str(located.path.relative_to(student_dir)) if located.path else None
        out = AssignmentResult(assignment.folder, assignment.module, rel, note=located.note)
        pairs = [(check, case) for check in assignment.checks
                 for case in self.cases(assignment, check)]
        module = None
        if located.path is None:
            outcomes = [{"status": "error", "error": {"kind": "missing", "message": located.note}}
                        ] * len(pairs)
        else:
            outcomes = []
            module = ModuleCalls(str(located.path), assignment.module, [
                Call(ch.probe, ch.name, ca.inputs, ca.seed, self.timeout(assignment, ch, ca),
                     encoded_inputs=self.encoded(assignment, ch, ca)) for ch, ca in pairs])
        return Plan(assignment, out, pairs, module, outcomes)

    def finish(self, plan: "Plan") -> AssignmentResult:
        by_check: dict[str, CheckResult] = {}
        for (check, case), outcome in zip(plan.pairs, plan.outcomes):
            cr = by_check.setdefault(check.name, CheckResult(plan.assignment.folder, check.name,
                                                             check.points))
            cr.cases.append(self.judge(plan.assignment, check, case, outcome, cr.notes))
        plan.result.checks = [by_check[c.name] for c in plan.assignment.checks]
        return plan.result

    def judge(self, assignment: Assignment, check: Check, case: Case, outcome: dict,
              notes: list[str]) -> CaseResult:
        base = dict(id=case.id, hidden=case.hidden, seed=case.seed)
        status = outcome["status"]
        if status == "error":
            found = self.diagnoser.from_error(assignment, check, outcome["error"]) \
                if self.diagnoser else None
            return CaseResult(**base, status="error", fraction=0.0,
                              message=describe_student_error(check.name, outcome["error"]),
                              hint=found.hint if found else "",
                              diagnosis=found.name if found else "")
        if status == "grader_error":  # the machinery failed twice on this student
            return CaseResult(**base, status="grader_error", fraction=1.0,
                              message="grader error, not charged to you: the grader's worker "
                                      f"failed on this case twice ({outcome.get('reason')}); "
                                      "your instructor can re-grade it")
        if status != "ok":
            return CaseResult(**base, status="error", fraction=0.0,
                              message=describe_crash(check.name, outcome, outcome.get("limit") or
                                                     self.timeout(assignment, check, case)))
        try:
            expected = self.expected.get(assignment, check, case, self.device)
        except ReferenceError as exc:
            return CaseResult(**base, status="grader_error", fraction=1.0,
                              message=f"grader error, not charged to you: {exc}")
        actual = outcome["output"]
        cmp = compare_outputs(actual, expected, check.kind, self.device, reveal=not case.hidden,
                              strict_dtype=check.strict_dtype)
        for note in cmp.notes:
            if note not in notes:
                notes.append(note)
        first = next((p.first_step for p in cmp.problems if p.first_step is not None), None)
        base["seconds"] = outcome.get("seconds")
        if check.kind in ("trajectory", "fit") and not case.hidden:
            base["evidence"] = {"actual": actual.get("result"), "expected": expected.get("result"),
                                "inputs": case.inputs, "check": check}
        if cmp.passed:
            return CaseResult(**base, status="passed", fraction=1.0)
        message = describe_comparison(cmp)
        if case.hidden:
            message += "\n(hidden case: its inputs and expected values are not shown)"
        values_only = all(p.first_step is not None for p in cmp.problems)  # not type, shape…
        if check.probe == "descent" and values_only and \
                own_loop_holds(actual, case.inputs, check.kind, self.device):
            return CaseResult(**base, status="passed", fraction=1.0, first_step=first,
                              hint=OWN_LOOP.format(grad=case.inputs["grad"]),
                              diagnosis="loop right, gradient wrong")
        found = self.diagnoser.from_output(assignment, check, case, actual, self.device) \
            if self.diagnoser else None
        hint = found.hint if found else generic(actual, expected, check.kind, self.device,
                                                case.hidden)
        extra = dict(first_step=first, hint=hint, diagnosis=found.name if found else "")
        partial = self._fit_credit(check, case, actual, expected)
        if partial:
            return CaseResult(**base, status="partial", fraction=0.5,
                              message=message + "\n" + partial, **extra)
        return CaseResult(**base, status="wrong", fraction=0.0, message=message, **extra)

    def _fit_credit(self, check: Check, case: Case, actual: dict, expected: dict) -> str:
        """Half credit when a fit reaches the reference's final loss by another path."""
        if check.fit is None:
            return ""
        a, e = described_array(actual.get("result")), described_array(expected.get("result"))
        if a is None or e is None or a.shape != e.shape or not np.isfinite(a).all():
            return ""
        loss_a, loss_e = check.fit.loss(a[-1], case.inputs), check.fit.loss(e[-1], case.inputs)
        if loss_a <= loss_e * (1 + check.fit.rel_margin) + 1e-12:
            numbers = "" if case.hidden else f" ({loss_a:.6g} against {loss_e:.6g})"
            return (f"your final loss is within {check.fit.rel_margin:.0%} of the reference's"
                    f"{numbers}: half credit for the fit")
        return ""
