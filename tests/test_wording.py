"""Counts said to a student in the right number: one step, one case."""
import numpy as np

from grader.judge.diagnose import generic
from grader.judge.feedback import verdict_line
from grader.judge.results import CaseResult, CheckResult


def _out(v):
    return {"result": {"kind": "ndarray", "dtype": "float64", "shape": list(np.shape(v)),
                       "value": np.asarray(v)}}


def test_a_drift_after_one_right_step_says_the_first_step():
    e = np.cumsum(np.tile([[0.5, -0.25]], (8, 1)), axis=0) * np.linspace(1, 2, 8)[:, None]
    a = e.copy()
    a[1:, 0] += np.arange(1, 8) * 0.1  # right for one step, then column [0] drifts
    hint = generic(_out(a), _out(e), "trajectory", "cpu", False).hint
    assert hint.startswith("your first step is right, then the path leaves the expected one "
                           "at step 2"), hint


def test_a_check_of_one_case_that_passes_is_said_in_the_singular():
    case = lambda i: CaseResult(id=f"c{i}", hidden=False, seed=i, status="passed", fraction=1.0)
    one = CheckResult("01", "f", 2, cases=[case(0)])
    assert verdict_line(one) == "the one case passes"
    assert verdict_line(CheckResult("01", "f", 2, cases=[case(0), case(1)])) == \
        "all 2 cases pass"
