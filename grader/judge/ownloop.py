"""The own-loop rule: a descent loop that is wrong only because the student's gradient is wrong
keeps its points, judged on the trusted side from calls made for that purpose.

After the first run of a student, for each failing ``descent`` case whose values (not its type
or shape) are wrong, and whose gradient function (the contract name in ``inputs["grad"]``)
fails its own check, the grader asks for that gradient at the points of the student's own path
(``asks``): plain calls of the engine's ``call`` probe, run in the confined worker like every
call, and the same calls of the reference's gradient, in a fork of their own (so the grader
itself never imports torch or the reference for them). With what they return, the grader
decides whether each step follows that gradient and whether the gradient and the path are
worth the name (``settle``, through
``diagnose.trajectories.own_loop_holds``). Nothing the first run computed about the loop is
believed; a probe that forged anything gains nothing here.

Every path that grades a student through ``grade.Session`` (grade, batch, gradescope-run, the
cluster, ``grader check``) runs this. Where the reference is not at hand (a student's copy,
whose expected values come from the shipped table) the reference's gradient cannot be compared
and the rule is not applied: the loop is judged like any output. The notebook's
``grader.check`` runs a single exercise in the student's own process and does not apply it
either.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from grader.judge.compare import compare_for
from grader.judge.diagnose.trajectories import OWN_STEPS, own_loop_holds, own_loop_points
from grader.course.probes import described_array, resolve, tensor
from grader.judge.results import CaseResult
from grader.course.spec import Assignment, Case, Check

OWN_LOOP = ("your loop is right: judged on its own, every step follows your own `{grad}`, "
            "which is wrong (see there); the loop keeps its points")
NOT_SETTLED = ("not graded: the calls of your `{grad}` along your path, made to judge your "
               "loop on its own, failed in the grader's worker ({why}). Not charged to you "
               "and not credited either: your instructor can grade it again")
REFERENCE_UNSETTLED = ("not graded: the reference's `{grad}` along your path, computed to judge "
                       "your loop on its own, did not finish in the grader's worker ({why}). "
                       "Not charged to you and not credited either: your instructor can "
                       "grade it again")
MACHINERY = ("grader_error", "timeout", "died")
"""How a call of the reference can fail that is no one's doing but the machinery's: its
inputs are the student's points, plain float64 rows of the expected shape, on which the
reference's gradient takes as long as on any."""


@dataclass
class Ask:
    """One failing descent case to judge on its own: where its gradient is asked for."""

    check_index: int
    case_index: int
    check: Check
    case: Case
    grad: str
    rows: np.ndarray
    start: np.ndarray
    points: np.ndarray
    inputs: list[dict]
    """The plain inputs of each call of the gradient (one per point)."""


def asks(judge, assignment: Assignment, checks: list, pairs: list, outcomes: list) -> list[Ask]:
    """The own-loop questions of one assignment's verdicts. ``checks``: its CheckResults in
    the order of ``assignment.checks``; ``pairs`` and ``outcomes``: each (check, case) run and
    what came back, in the same order."""
    from grader.judge.verdict import _fails_itself
    found = []
    by_name = {c.name: c for c in checks}
    ran = {(check.name, case.id): (case, outcome)
           for (check, case), outcome in zip(pairs, outcomes)}
    for ci, (check, result) in enumerate(zip(assignment.checks, checks)):
        probe = resolve(check.probe)
        if probe.name != "descent" or probe.module:
            continue
        for ki, verdict in enumerate(result.cases):
            case, outcome = ran.get((check.name, verdict.id), (None, None))
            if verdict.status not in ("wrong", "partial") or outcome is None or \
                    outcome.get("status") != "ok":
                continue
            grad = case.inputs.get("grad")
            if not isinstance(grad, str) or grad not in by_name or \
                    not _fails_itself(by_name[grad]):
                continue  # a right gradient under a wrong path: the loop is simply wrong
            ask = _ask(judge, assignment, check, case, outcome["output"], grad)
            if ask is not None:
                found.append(dataclasses.replace(ask, check_index=ci, case_index=ki))
    return found


def _ask(judge, assignment: Assignment, check: Check, case: Case, actual: dict,
         grad: str) -> Ask | None:
    """The question for one case, or None where the rule cannot apply to it."""
    if getattr(judge.expected, "module", None) is None:  # no reference here (student copy)
        return None
    try:
        expected = judge.expected.get(assignment, check, case, judge.device)
    except Exception:
        return None
    cmp = compare_for(check, actual, expected, judge.device)
    if cmp.passed or not all(p.first_step is not None for p in cmp.problems):
        return None  # a wrong type, shape or a modified input: not a matter of values
    rows = described_array(actual.get("result"))
    args = case.inputs.get("args")
    if rows is None or rows.ndim != 2 or len(rows) == 0 or len(rows) > OWN_STEPS or \
            not isinstance(args, list) or len(args) < 4:
        return None  # (a path longer than OWN_STEPS is judged as it is)
    first = args[0]
    marker = isinstance(first, dict) and "__tensor__" in first
    start = np.asarray(first["__tensor__"] if marker else first, dtype=np.float64).reshape(-1)
    if start.size != rows.shape[1]:
        return None
    points = own_loop_points(rows, start)

    def as_input(point: np.ndarray):  # in the form the start came in
        return tensor(point, first.get("dtype", "float64")) if marker else point.copy()
    inputs = [{"args": [as_input(p), *args[1:3]]} for p in points]
    return Ask(-1, -1, check, case, grad, rows, start, points, inputs)


def settle(judge, assignment: Assignment, ask: Ask, verdict: CaseResult,
           outcomes: list[dict], references: list[dict]) -> CaseResult:
    """The verdict once the gradient's answers are in (``outcomes``: the student's gradient
    at the student's points; ``references``: the reference's, from a fork of its own): the
    loop's points where the rule holds, not graded where the grader's worker failed on the
    student's calls or did not finish the reference's, else the verdict as it was."""
    failed = [o for o in outcomes if o.get("status") == "grader_error"]
    if failed:
        return dataclasses.replace(verdict, status="grader_error", fraction=0.0,
                                   message=NOT_SETTLED.format(grad=ask.grad,
                                                              why=failed[0].get("reason")))
    unfinished = [o for o in references if o.get("status") in MACHINERY]
    if unfinished:
        o = unfinished[0]
        why = o.get("reason") or o.get("killed") or o.get("exit") or o["status"]
        return dataclasses.replace(verdict, status="grader_error", fraction=0.0,
                                   message=REFERENCE_UNSETTLED.format(grad=ask.grad, why=why))
    grads, reference = _gradients(outcomes, ask), _gradients(references, ask)
    if grads is None or reference is None:  # the loop cannot be judged: as it was
        return verdict
    expected = described_array(judge.expected.get(assignment, ask.check, ask.case,
                                                  judge.device).get("result"))
    lr = float(ask.case.inputs["args"][3])
    if not own_loop_holds(ask.rows, ask.start, lr, grads, reference, expected,
                          ask.check.kind, judge.device):
        return verdict
    return dataclasses.replace(verdict, status="passed", fraction=1.0, message="",
                               hint=OWN_LOOP.format(grad=ask.grad),
                               diagnosis="loop right, gradient wrong", blames="",
                               fallback=None, signature="")


def _gradients(outcomes: list[dict], ask: Ask) -> np.ndarray | None:
    """One gradient per point, as float64 rows; None where a call failed or gave something
    else (a student's wrong answer, or the reference failing: the rule is then not applied)."""
    out = []
    for o in outcomes:
        g = described_array(o["output"].get("result")) if o.get("status") == "ok" and \
            isinstance(o.get("output"), dict) else None
        if g is None or g.size != ask.start.size:
            return None
        out.append(g.reshape(-1))
    return np.array(out) if len(out) == len(ask.inputs) else None
