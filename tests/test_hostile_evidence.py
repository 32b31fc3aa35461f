"""Only the trusted side computes what earns points (issue 24, item 3).

A student's code runs in the same process as the probe that calls it, and can replace that
probe. What a probe says about the code (a loop's "own gradients", a loader's true/false
facts, whether a class is a Dataset) was once computed there and believed. These
submissions forge it, or need no forgery at all (a zero gradient under a loop that returns
its start), and must earn nothing for it; an honest loop over a wrong gradient keeps its
points, judged from calls of that gradient made by the grader.
"""
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import broken, messages, mutate, reference_source
from grader.course.loader import load_course
from grader.judge.diagnose.trajectories import own_loop_holds, own_loop_points
from grader.grade import Session
from grader.judge.expected import Expected
from grader.worker.pool import WorkerPool

HOSTILE = Path(__file__).resolve().parent / "hostile"
A01, A03 = "01_gradient_descent", "03_dataset"
SECRET = "s3cret-for-evidence-tests"
COURSE = load_course()
EXPECTED = Expected()


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(size=2) as p:
        yield p


def grade_file(pool, tmp_path, folder: str, attack: str):
    """A student whose module is ``tests/hostile/<attack>.py``, beside the reference's
    module as ``honest.py``."""
    a = COURSE.assignment(folder)
    target = tmp_path / attack / folder
    target.mkdir(parents=True)
    shutil.copy(HOSTILE / f"{attack}.py", target / f"{a.module}.py")
    (target / "honest.py").write_text(reference_source(folder))
    session = Session(pool, (a,), secret=SECRET, max_timeout=10.0, expected=EXPECTED)
    return session.grade(tmp_path / attack)


def grade_source(pool, tmp_path, folder: str, source: str) -> tuple[Session, object]:
    """A student whose module of ``folder`` is ``source``: the session and its result."""
    a = COURSE.assignment(folder)
    target = tmp_path / "student" / folder
    target.mkdir(parents=True)
    (target / f"{a.module}.py").write_text(source)
    session = Session(pool, (a,), secret=SECRET, max_timeout=10.0, expected=EXPECTED)
    return session, session.grade(tmp_path / "student")


def score(result, name: str) -> float:
    return next(c.score for c in result.checks() if c.name == name)


def hints(result, name: str) -> str:
    return "\n".join(c.hint for ch in result.checks() if ch.name == name for c in ch.cases)


def test_forged_own_loop_evidence_earns_nothing(pool, tmp_path):
    """An all-zero path with forged "own gradients" once had full marks on gradient_descent;
    the follow-up calls of mse_grad answered with a guessed step do not help either (nothing
    moves after the first row)."""
    result = grade_file(pool, tmp_path, A01, "forge_own_loop")
    assert result.grader_errors == 0
    assert score(result, "gradient_descent") == 0
    assert "judged on its own" not in hints(result, "gradient_descent")
    assert {"mse_grad", "gradient_descent"} <= broken(result)
    assert score(result, "predict") == 2  # the rest grades as usual


def test_a_zero_gradient_under_a_loop_that_returns_its_start_earns_nothing(pool, tmp_path):
    result = grade_file(pool, tmp_path, A01, "zero_gradient_loop")
    assert result.grader_errors == 0
    assert score(result, "gradient_descent") == 0
    assert "judged on its own" not in hints(result, "gradient_descent")


def test_forged_loader_and_dataset_facts_earn_nothing(pool, tmp_path):
    """``make_loader = None`` with a probe that reports every property holding once scored
    3/3; ``MyData = None`` with a probe that reports only ``is_dataset`` earned its share."""
    result = grade_file(pool, tmp_path, A03, "forge_loader")
    assert result.grader_errors == 0
    assert score(result, "make_loader") == 0
    assert score(result, "MyData") == 0
    assert "could not be read" in messages(result, "make_loader")
    assert score(result, "LRDataset") == 3 and score(result, "split_dataset") == 2


def test_a_right_loop_over_a_wrong_gradient_keeps_its_points(pool, tmp_path):
    """The honest case the rule is for: judged from the grader's own calls of mse_grad."""
    source = mutate(reference_source(A01),
                    [("np.mean(2 * residual * -1)", "np.mean(3 * residual * -1)")])
    _, result = grade_source(pool, tmp_path, A01, source)
    assert score(result, "gradient_descent") == 5 and "mse_grad" in broken(result)
    assert "judged on its own" in hints(result, "gradient_descent")


A04 = "04_custom_function"
POLY_WRONG = ("g = 2.0 * residual", "g = 4.0 * residual")  # a wrong factor in poly_grads


@pytest.mark.parametrize("frozen_after", [None, 50])
def test_every_step_of_a_loop_over_a_wrong_gradient_is_checked(pool, tmp_path, frozen_after):
    """A loop right on its own (wrong) gradient keeps its points; the same loop frozen after
    step 50, of 300 (a red team's: only the first 50 steps were re-checked), earns nothing."""
    source = mutate(reference_source(A04), [POLY_WRONG])
    if frozen_after:
        source = source.replace("        p = p - lr * poly_grads(p, x, y)\n",
                                f"        if len(path) < {frozen_after}:\n"
                                "            p = p - lr * poly_grads(p, x, y)\n")
        assert "if len(path) <" in source
    session, result = grade_source(pool, tmp_path, A04, source)
    assert "poly_grads" in broken(result)
    if frozen_after:  # a case of 50 steps or fewer is a right loop; a longer one is not
        check = next(c for c in COURSE.assignment(A04).checks if c.name == "fit_poly")
        steps = {c.id: c.inputs["args"][4] for c in session.cases(COURSE.assignment(A04),
                                                                   check)}
        verdicts = next(ch for ch in result.checks() if ch.name == "fit_poly").cases
        assert any(steps[v.id] > frozen_after for v in verdicts)
        assert all(v.status != "passed" for v in verdicts if steps[v.id] > frozen_after)
    else:
        assert score(result, "fit_poly") == next(
            c.points for c in COURSE.assignment(A04).checks if c.name == "fit_poly")
        assert "judged on its own" in hints(result, "fit_poly")


SLOW_GRADIENT = ("def mse_grad(params, X, y):\n"
                 "    import sys, time\n"
                 "    if sys._getframe(1).f_code.co_name != 'gradient_descent':\n"
                 "        time.sleep(0.3)  # slow when asked at a point, under its limit\n"
                 "    return np.asarray(params, dtype=np.float64) * 0 + 0.1\n\n")


def test_a_gradient_slow_at_every_point_holds_a_worker_a_bounded_time(pool, tmp_path,
                                                                      monkeypatch):
    """Every step is re-checked, so a gradient that waits at each point (under its limit)
    could hold a worker for the length of the path times its limit: the calls run in chunks
    and none starts once the budget is spent; the loops left are judged as they are."""
    from grader import grade as grade_module
    monkeypatch.setattr(grade_module, "OWN_WALL_SECONDS", 1.0)
    monkeypatch.setattr(grade_module, "OWN_CHUNK", 5)
    asked = []
    own = grade_module.Session._own_gradients

    def recording(self, *args):
        asked.append(own(self, *args))
        return asked[-1]
    monkeypatch.setattr(grade_module.Session, "_own_gradients", recording)
    source = reference_source(A01)
    start = source.index("def mse_grad(")
    source = source[:start] + SLOW_GRADIENT + source[source.index("def ", start + 1):]
    _, result = grade_source(pool, tmp_path, A01, source)
    assert "mse_grad" in broken(result) and score(result, "gradient_descent") == 0
    statuses = [a.get("status") for answers in asked for a in answers]
    assert statuses.count("ok") >= 5 and statuses.count("skipped") > statuses.count("ok")
    assert set(statuses) <= {"ok", "skipped"}


class _ReferenceFails:
    """A pool whose jobs on the reference's folder end as ``status`` (a time-out, a death,
    the machinery's failure): the own-loop rule's reference gradient never comes back."""

    def __init__(self, pool, status: str):
        self.pool, self.status, self.size = pool, status, pool.size

    def run(self, job):
        out = self.pool.run(job)
        if Path(job.student_dir).resolve() == COURSE.assignment(A01).reference_path.parent:
            for module in out.modules:
                module.results[:] = [{"status": self.status, "limit": 1.0, "exit": "killed",
                                      "reason": "stopped"}] * len(module.results)
        return out

    def __getattr__(self, name):
        return getattr(self.pool, name)


@pytest.mark.parametrize("status", ["timeout", "died", "grader_error"])
def test_a_reference_gradient_the_worker_never_finished_is_not_graded(pool, tmp_path, status):
    """The reference's gradient along a student's path runs in a fork of its own; where that
    fork times out or dies, the loop is neither charged (it was, as a plain wrong loop) nor
    credited: not graded, and the student is told the reference's calls did not finish."""
    source = mutate(reference_source(A01),
                    [("np.mean(2 * residual * -1)", "np.mean(3 * residual * -1)")])
    folder = tmp_path / "honest" / A01
    folder.mkdir(parents=True)
    (folder / "gradient_descent.py").write_text(source)
    session = Session(_ReferenceFails(pool, status), (COURSE.assignment(A01),), secret=SECRET,
                      max_timeout=10.0, expected=EXPECTED)
    result = session.grade(tmp_path / "honest")
    loop = next(c for c in result.checks() if c.name == "gradient_descent")
    ruled = [c for c in loop.cases if c.status == "grader_error"]
    assert ruled and all(c.fraction == 0 for c in loop.cases if c.status != "passed")
    assert not [c for c in loop.cases if c.status in ("wrong", "partial")], \
        [(c.status, c.message) for c in loop.cases]
    assert "the reference's `mse_grad` along your path" in ruled[0].message


def test_the_same_loop_with_a_right_gradient_is_simply_wrong(pool, tmp_path):
    """Where the gradient passes its own check, a wrong path is not a matter of the gradient:
    no follow-up, no credit."""
    source = mutate(reference_source(A01), [("p = p - lr * mse_grad(p, X, y)",
                                             "p = p - 0.5 * lr * mse_grad(p, X, y)")])
    _, result = grade_source(pool, tmp_path, A01, source)
    assert score(result, "gradient_descent") == 0 and "mse_grad" not in broken(result)


# The trusted rule on plain numbers: a path of 4 steps from (1, 2) with lr 0.1.
START, LR = np.array([1.0, 2.0]), 0.1


def _path(grad):
    rows, p = [], START.copy()
    for _ in range(4):
        p = p - LR * grad(p)
        rows.append(p)
    return np.array(rows)


def _holds(rows, grad, reference=lambda p: 2 * p, expected=None):
    points = own_loop_points(rows, START)
    grads = np.array([grad(p) for p in points])
    ref = np.array([reference(p) for p in points])
    return own_loop_holds(rows, START, LR, grads, ref, expected, "trajectory", "cpu")


def test_the_own_loop_rule_on_plain_numbers():
    wrong = lambda p: 3 * p  # a wrong gradient that says something
    assert _holds(_path(wrong), wrong)
    assert not _holds(_path(wrong) + 1e-3, wrong)  # steps that do not follow it
    zero = lambda p: np.zeros(2)
    assert not _holds(_path(zero), zero)  # the start repeated, a zero gradient
    constant = lambda p: np.array([1.0, -1.0])
    assert not _holds(_path(constant), constant)  # the same everywhere; the reference varies
    assert _holds(_path(constant), constant, reference=lambda p: np.array([1.0, -1.0]))
    nan = lambda p: np.array([np.nan, 0.0])
    assert not _holds(_path(nan), nan)
    # Moves once, then stays where the expected path goes on moving.
    jump = lambda p: p / LR if np.allclose(p, START) else np.zeros(2)
    assert not _holds(_path(jump), jump, expected=_path(lambda p: 2 * p))
