"""The diagnoses read every input a probe passes: a course probe's named inputs (``X``, ``y``,
``lr``) as well as the ``call`` probe's ``args`` and ``kwargs``."""
import numpy as np

from grader.judge.diagnose import generic
from grader.judge.diagnose.case import arguments, case_quantities
from grader.judge.diagnose.variants import _replace
from grader.course.probes import tensor


def _out(v):
    return {"result": {"kind": "ndarray", "dtype": "float64", "shape": list(np.shape(v)),
                       "value": np.asarray(v)}}


NAMED = {"model": {"kind": "linear", "n_in": 1, "n_out": 1, "weight": [[0.5]], "bias": [0.0]},
         "X": tensor(np.linspace(0, 1, 10)[:, None]), "y": tensor(np.ones((10, 1))),
         "lr": 0.1, "n_epochs": 7, "_private": 99}


def test_a_course_probes_named_inputs_are_case_quantities():
    assert ("N, the number of samples", 10.0) in case_quantities(NAMED)
    assert ("`n_epochs` (a whole number of the case)", 7.0) in case_quantities(NAMED)
    assert "`_private`" not in dict(arguments(NAMED))


def test_a_sum_over_a_named_inputs_samples_is_told_as_n_times():
    e = np.array([0.25, -0.5, 1.0])
    hint = generic(_out(10 * e), _out(e), "value", "cpu", False, inputs=NAMED).hint
    assert hint.startswith("every value is N times the expected one, N, the number of samples "
                           "(10): a sum where a mean is expected"), hint


def test_a_variant_changes_a_named_input_where_it_is():
    changed = _replace(NAMED, "`lr`", 0.2)
    assert changed["lr"] == 0.2 and "kwargs" not in changed and NAMED["lr"] == 0.1
    call = {"args": [1.0], "kwargs": {"lr": 0.1}}
    assert _replace(call, "`lr`", 0.3) == {"args": [1.0], "kwargs": {"lr": 0.3}}
