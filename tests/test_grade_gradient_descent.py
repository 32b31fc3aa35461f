"""Assignment 01 end to end: full marks, zero for stubs, mistakes and bad inputs (issue 2)."""
import pytest

from conftest import ROOT, broken, messages, mutate, reference_source, scores

A01 = "01_gradient_descent"
ALL_01 = {"predict", "mse_loss", "mse_grad", "gradient_descent", "make_batches", "minibatch_gd"}


def test_reference_scores_full_marks(grade):
    result = grade(ROOT / "reference", A01)
    assert result.score == 20 and result.max_score == 20


def test_stubs_score_zero_with_not_implemented(grade):
    result = grade(ROOT / "assignments", A01)
    assert result.score == 0
    for name in ALL_01:
        assert "not implemented" in messages(result, name)


def test_python_loops_score_full_marks(grade, fixture_student):
    result = grade(fixture_student("loops"), A01)
    assert result.score == 20, broken(result)


# gradient_descent is judged on its own: a right loop over a wrong mse_grad keeps its points.
GRAD_USERS = {"mse_grad", "minibatch_gd"}
MISTAKES = {
    "no factor 2": ([("np.mean(2 * residual * -1), np.mean(2 * residual * -X)",
                      "np.mean(residual * -1), np.mean(residual * -X)")], GRAD_USERS),
    "wrong sign": ([("np.mean(2 * residual * -1), np.mean(2 * residual * -X)",
                     "np.mean(2 * residual), np.mean(2 * residual * X)")], GRAD_USERS),
    "sum instead of mean": ([("np.mean(2 * residual * -1), np.mean(2 * residual * -X)",
                              "np.sum(2 * residual * -1), np.sum(2 * residual * -X)")],
                            GRAD_USERS),
    "trajectory includes the start": ([("    path = []\n    for _ in range(n_steps):",
                                        "    path = [p]\n    for _ in range(n_steps - 1):")],
                                      {"gradient_descent"}),
    "loop mutates params0": ([("    p = np.array(params0, dtype=np.float64)\n    path = []\n"
                               "    for _ in range(n_steps):\n"
                               "        p = p - lr * mse_grad(p, X, y)\n        path.append(p)",
                               "    p = params0\n    path = []\n    for _ in range(n_steps):\n"
                               "        p -= lr * mse_grad(p, X, y)\n"
                               "        path.append(p.copy())")], {"gradient_descent"}),
    "make_batches ignores rng": ([("rng.permutation(n) if rng is not None else np.arange(n)",
                                   "np.arange(n)")], {"make_batches"}),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_loses_points_on_exactly_the_names_it_breaks(grade, student, mistake):
    replacements, names = MISTAKES[mistake]
    result = grade(student(A01, mutate(reference_source(A01), replacements)), A01)
    assert broken(result) == names
    for name in names:
        assert scores(result)[name] < 20


def test_mutating_params0_is_named_in_the_feedback(grade, student):
    replacements, _ = MISTAKES["loop mutates params0"]
    result = grade(student(A01, mutate(reference_source(A01), replacements)), A01)
    assert "modified its input `params0` in place" in messages(result, "gradient_descent")


def test_trajectory_feedback_names_the_first_step_and_the_differences(grade, student):
    replacements, _ = MISTAKES["trajectory includes the start"]
    result = grade(student(A01, mutate(reference_source(A01), replacements)), A01)
    text = messages(result, "gradient_descent")
    assert "leaves the reference at step 1 (row 0)" in text
    assert "Greatest absolute difference" in text and "Mismatched elements" in text


def test_syntax_error_scores_zero_and_points_at_the_line(grade, student):
    source = reference_source(A01).replace("def predict(params, X):", "def predict(params, X)")
    result = grade(student(A01, source), A01)
    assert result.score == 0
    text = messages(result, "predict")
    assert "SyntaxError" in text and "gradient_descent.py, line" in text


def test_import_error_scores_zero_with_the_missing_module(grade, student):
    source = "import numpyy as np\n" + reference_source(A01)
    result = grade(student(A01, source), A01)
    assert result.score == 0
    assert "ModuleNotFoundError" in messages(result, "mse_grad")
    assert "numpyy" in messages(result, "mse_grad")


@pytest.mark.parametrize("name, body, words, dependent", [
    ("mse_loss", "    return 1 / 0\n", ["ZeroDivisionError", "line"], {"mse_loss"}),
    ("predict", "    while True:\n        pass\n", ["did not finish within"], {"predict"}),
    # A gradient that is NaN, and the same wherever it is asked, says nothing: a loop over it
    # is not judged on its own (issue 24). A wrong but real gradient is: see MISTAKES.
    ("mse_grad", "    return np.array([np.nan, 0.0])\n", ["contains NaN"],
     GRAD_USERS | {"gradient_descent"}),
    ("mse_grad", "    return np.zeros((2, 1))\n", ["shape does not match", "(2, 1)"],
     GRAD_USERS | {"gradient_descent"}),
    ("mse_loss", "    return 'small'\n", ["expected a number"], {"mse_loss"}),
    ("predict", "    pass\n", ["None"], {"predict"}),
])
def test_a_broken_function_costs_that_function_only(grade, student, name, body, words,
                                                    dependent):
    source = reference_source(A01) + f"\n\ndef {name}(*args, **kwargs):\n{body}"
    result = grade(student(A01, source), A01, max_timeout=2.0)
    assert broken(result) == dependent
    assert scores(result)[name] == 0
    for word in words:
        assert word in messages(result, name)


def test_missing_function_scores_zero_for_it_alone(grade, student):
    source = reference_source(A01).replace("def make_batches(", "def make_batch(")
    result = grade(student(A01, source), A01)
    assert broken(result) == {"make_batches"}
    assert "`make_batches` is not defined" in messages(result, "make_batches")


def test_missing_file_scores_zero_without_stopping(grade, tmp_path):
    (tmp_path / "nobody").mkdir()
    result = grade(tmp_path / "nobody", A01)
    assert result.score == 0
    assert "no submission" in messages(result, "predict")


def test_warnings_and_stderr_never_cost_points(grade, student):
    source = ("import sys, warnings\nprint('hello from the student')\n"
              "warnings.warn('a deprecation warning')\nsys.stderr.write('noise\\n')\n"
              + reference_source(A01))
    result = grade(student(A01, source), A01)
    assert result.score == 20
    assert "hello from the student" in result.assignments[0].output


def test_hidden_cases_differ_only_with_the_secret(grade):
    a = grade(ROOT / "reference", A01, secret="one")
    b = grade(ROOT / "reference", A01, secret="two")
    seeds = lambda r, hidden: {(c.name, k.id): k.seed for c in r.checks() for k in c.cases
                               if k.hidden == hidden}
    assert seeds(a, False) == seeds(b, False)
    assert set(seeds(a, True)) == set(seeds(b, True))
    assert seeds(a, True) != seeds(b, True)
