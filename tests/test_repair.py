"""Issue 27: a verified fix in the student's own code, no cause without a witness, exact
fit-credit words. The table (``mistakes_heldout_27``) was written before the search existed."""
import numpy as np
import pytest

from conftest import ROOT, reference_source, write_submission
from grader.worker import wire
from grader.judge.diagnose import generic
from grader.course.probes import describe
from grader.judge.diagnose.repair import body_key, candidates
from mistakes_heldout_27 import TABLE_27

import sys
sys.path.insert(0, str(ROOT / "bench"))
from bench_diagnosis import REPAIR, classify  # noqa: E402


def _desc(value):
    return wire.loads(wire.dumps({"result": describe(value)}))


# ------------------------------------------------------------------ the repair search
@pytest.mark.parametrize("mistake", [m for m in TABLE_27 if m.id in (
    "minibatch_gd divides by len(X)", "gradient_descent updates in place and records the same array",
    "make_loader drops shuffle", "train_net squeezes the predictions",
    "sgd_step updates the weights only")], ids=lambda m: m.id)
def test_the_repair_search_finds_the_fix_on_the_expected_line(grade, tmp_path, mistake):
    reference = reference_source(mistake.folder)
    result = grade(write_submission(tmp_path / "s", mistake.folder, mistake.source(reference)),
                   mistake.folder, repair=True)
    got = classify(result, mistake, reference)
    assert got["broken"] == set(mistake.broken)  # verdicts unchanged
    assert got["verified"], got["fixes"]
    assert not got["false"], got["false"]


def test_a_correct_submission_gets_no_repair_and_no_cause(grade, tmp_path):
    folder = "01_gradient_descent"
    result = grade(write_submission(tmp_path / "s", folder, reference_source(folder)), folder,
                   repair=True)
    for check in result.checks():
        assert check.passed
        assert not any(REPAIR.search(n) for n in check.notes)
        assert not any(c.hint or c.cause for c in check.cases)


def test_a_fix_is_said_with_the_students_line_and_the_changed_line(grade, tmp_path):
    m = next(m for m in TABLE_27 if m.id == "minibatch_gd divides by len(X)")
    source = m.source(reference_source(m.folder))
    result = grade(write_submission(tmp_path / "s", m.folder, source), m.folder, repair=True)
    check = next(c for c in result.checks() if c.name == "minibatch_gd")
    said = [n for n in check.notes if REPAIR.search(n)]
    line = next(i + 1 for i, ln in enumerate(source.splitlines()) if "m = len(X)" in ln)
    assert said and said[0].startswith(f"line {line}: `m = len(X)` → `m = len(")
    assert "`minibatch_gd` passes every case" in said[0]


def test_candidates_keep_the_rest_of_the_file_and_compile():
    source = ("import numpy as np\n\n\ndef f(X, idx):\n    # a comment kept\n"
              "    m = len(X)\n    return np.sum(X[idx]) / m\n")
    edits = candidates(source, "f")
    assert any(e.after == "m = len(idx)" and e.line == 6 for e in edits)
    for e in edits:
        compile(e.source, "c", "exec")
        assert "# a comment kept" in e.source and e.source.startswith("import numpy as np")
    assert candidates(source, "g") == [] and candidates("def (", "f") == []


def test_only_the_same_text_shares_a_search():
    """A fix is told in the words and at the line of the file searched: a red team's copy of
    a classmate's code, with its own comment on the wrong line and a blank line more, put
    that comment, at its line, in the classmate's report."""
    a = "import numpy as np\n\n\ndef f(x):\n    return x + 1\n"
    assert body_key(a, "f") == body_key(str(a), "f")
    for b in ("import numpy as np  # for f\n\n\ndef f(x):\n    return x + 1\n",
              "import numpy as np\n\n\n\ndef f(x):\n    return x + 1\n",
              a.replace("+ 1", "+ 2")):
        assert body_key(b, "f") != body_key(a, "f")
    assert body_key(a, "g") is None and body_key("def (", "f") is None


def test_anything_that_can_run_is_part_of_the_key():
    """Two files share a search (and its fix) only where nothing can make them behave
    otherwise: red teams planted false fixes in classmates' reports with a class body, a
    main block calling a function whose body the key left out (with `__name__` set by
    hand), and a constant or helper the definition seemed not to reach."""
    a = ("import numpy as np\n\nK = 1\n\n\ndef h(x):\n    return x\n\n\n"
         "def f(x):\n    return np.mean(h(x)) + K\n\n\n"
         "def main():\n    print(f(np.ones(2)))\n\n\n"
         "if __name__ == '__main__':\n    main()\n")
    key = body_key(a, "f")
    runs = [a + "\n\nclass Settings:\n    globals()['f'] = lambda x: x\n",
            a.replace("import numpy as np\n", "import numpy as np\n__name__ = '__main__'\n"),
            a.replace("print(f(np.ones(2)))", "globals()['f'] = len"),
            a.replace("K = 1", "K = 2"),
            a.replace("return x\n", "return -x\n"),
            a + "\nnp.mean = np.sum\n",
            a + "\nLIMIT = 3\n"]
    assert all(body_key(b, "f") != key for b in runs)
    assert len({body_key(b, "f") for b in runs}) == len(runs)


def test_a_coding_line_runs_nothing_the_grader_does_not_read(tmp_path):
    """A red team's `# coding: utf-7` line: Python, reading the bytes, ran a comment's
    `+AAo-` as new lines of code (the grader reads the file as UTF-8, where they are a
    comment). A student's module is run as the text the grader reads; a byte-order mark
    is dropped as Python drops it."""
    from grader.worker.student import load_module
    path = tmp_path / "m.py"
    path.write_bytes(b"# coding: utf-7\n# +AAo-x = 42+AAo-\ny = 1\n")
    module = load_module(str(path), "m_utf7")
    assert module.y == 1 and not hasattr(module, "x")
    path.write_bytes(b"\xef\xbb\xbfz = 2\n")
    assert load_module(str(path), "m_bom").z == 2


def test_a_class_body_that_plays_candidate_plants_no_fix_in_a_classmates_report(pool, tmp_path):
    """A red team's attack: the same wrong `mse_grad` as a classmate, and a class body that
    replaces it with the right one only in the repair search's copies (their path says so).
    Graded first, its search "found" a fix that the classmate was then told, wrongly. Now
    each has a search of its own; the classmate is told the fix that is true for them."""
    import json
    from conftest import SECRET, assignment
    from grader.grade import Session
    from grader.instructor.batch import discover, run_batch
    from grader.instructor.gradebook import Gradebook
    a01 = "01_gradient_descent"
    wrong = reference_source(a01).replace("np.mean(2 * residual * -X)])",
                                          "np.mean(2 * residual * -X) + 0.5])")
    assert wrong != reference_source(a01)
    attack = wrong + ("\n\nclass _Settings:\n    if 'repair-' in __file__:\n"
                      "        def _right(params, X, y):\n"
                      "            r = y - params[0] - params[1] * X\n"
                      "            return np.array([(-2 * r).mean(), (-2 * r * X).mean()])\n"
                      "        globals()['mse_grad'] = _right\n")
    for name, text in (("aaa", attack), ("zzz", wrong)):
        (tmp_path / "class" / name / a01).mkdir(parents=True)
        (tmp_path / "class" / name / a01 / "gradient_descent.py").write_text(text)
    session = Session(pool, (assignment(a01),), secret=SECRET, max_timeout=5,
                      one_fork_per_student=True)
    book = Gradebook(tmp_path / "results" / "gradebook.sqlite")
    try:
        outcome = run_batch(session, discover(tmp_path / "class"), book, tmp_path / "results",
                            parallel=1)
    finally:
        book.close()
    assert not outcome.failed
    told = json.loads((tmp_path / "results" / "zzz" / "results.json").read_text())
    text = next(t["output"] for t in told["tests"] if t["name"].endswith("/mse_grad"))
    note = next(line for line in text.splitlines() if line.startswith("note:"))
    before, after = note.split(" → ", 1)
    assert "+ 0.5" in before and "+ 0.5" not in after.split(" — ")[0], note  # the true fix


# ------------------------------------------------------------------ no cause without a witness
def test_batches_cut_elsewhere_are_not_told_they_are_permuted():
    """np.array_split: the right indices in the right order, other cut points."""
    order = np.random.default_rng(0).permutation(10)
    expected = _desc([order[i:i + 4] for i in range(0, 10, 4)])
    actual = _desc(list(np.array_split(order, 3)))
    found = generic(actual, expected, "exact", "cpu", False, None,
                    {"args": [10, 4, {"__rng__": "generator", "seed": 1}]})
    assert found is not None and not found.cause
    assert "only the cut points differ: sizes [4, 3, 3], expected [4, 4, 2]" in found.hint
    assert "permutation" not in found.hint and "generator" not in found.hint


def test_rows_that_alias_the_final_state_are_not_told_they_never_move():
    e = np.cumsum(np.ones((6, 2)), axis=0)
    a = np.repeat(e[-1:], 6, axis=0)
    found = generic(_desc(a), _desc(e), "trajectory", "cpu", False, None, {"args": []})
    assert found.cause and "equals the expected last row" in found.hint
    assert "optimizer.step" not in found.hint


def test_a_path_that_never_moves_from_elsewhere_states_no_cause():
    """Rows all equal to the start (not to the last expected row): observed only."""
    e = np.cumsum(np.ones((6, 2)), axis=0)
    found = generic(_desc(np.zeros((6, 2))), _desc(e), "trajectory", "cpu", False, None,
                    {"args": []})
    assert found is not None and not found.cause and "never change" in found.hint


def test_entries_wrong_in_a_loss_curve_state_no_formula_cause():
    """A network whose biases are not updated: later losses differ, the first is right."""
    e = np.array([1.0, 0.8, 0.7, 0.65])
    a = np.array([1.0, 0.9, 0.85, 0.83])
    found = generic(_desc(a), _desc(e), "trajectory", "cpu", False, None, {"args": []})
    assert found is not None and not found.cause and "formula" not in found.hint


def test_a_drift_from_another_cause_states_no_cause():
    """A momentum buffer reset every step drifts after a right first step, with gradients
    cleared: no claim that they are not."""
    e = np.array([[1.0, 1.0], [0.9, 0.8], [0.75, 0.6], [0.6, 0.45]])
    a = e.copy()
    a[1:] += [[0.01, 0.02], [0.03, 0.02], [0.05, 0.04]]
    found = generic(_desc(a), _desc(e), "trajectory", "cpu", False, None, {"args": []})
    assert found is not None and not found.cause
    assert "most often" not in found.hint


def test_a_witnessed_factor_keeps_its_cause():
    found = generic(_desc(12.0), _desc(1.2), "value", "cpu", False, None,
                    {"args": [np.zeros(2), np.arange(10.0), np.arange(10.0)]})
    assert found.cause and "sum where a mean" in found.hint


def test_fit_credit_says_how_far_the_final_loss_is():
    from grader.judge.verdict import Judge
    from types import SimpleNamespace
    from grader.course.spec import Case, FitGoal
    check = SimpleNamespace(fit=FitGoal(lambda row, inputs: float(row[0])))
    case = Case("c", False, 0, {"args": []})
    said = Judge._fit_credit(check, case, _desc(np.array([[2.0], [56.126]])),
                             _desc(np.array([[2.0], [61.3011]])))
    assert "8.4% below the reference's" in said and "within" not in said
    above = Judge._fit_credit(check, case, _desc(np.array([[1.0], [1.005]])),
                              _desc(np.array([[1.0], [1.0]])))
    assert "0.5% above" in above


def test_course_toml_chooses_what_a_fix_shows():
    from pathlib import Path
    from grader.course.loader import CourseError, _repair_options
    where = Path("course.toml")
    assert _repair_options({}, where) == {"selfcheck": "line", "graded": "fix"}
    assert _repair_options({"feedback": {"repair_graded": "nothing"}}, where)["graded"] == \
        "nothing"
    with pytest.raises(CourseError, match="repair_selfcheck must be one of fix, line, nothing"):
        _repair_options({"feedback": {"repair_selfcheck": "all"}}, where)


# ------------------------------------------------------------------ two edits (issue 27, left)
# minibatch_gd with two mistakes a learner makes together: the step goes uphill (+ for -) and
# its gradient divides by len(X), not the batch's size. No one edit passes a case.
TWO_MISTAKES = ("            p = p - lr * mse_grad(p, X[idx], y[idx])",
                "            r = y[idx] - p[0] - p[1] * X[idx]\n"
                "            m = len(X)\n"
                "            p = p + lr * np.array([-2 * r.sum() / m, -2 * (r * X[idx]).sum() / m])")
# gradient_descent written otherwise and right: its own gradient, an update in place, a copy
# recorded; it must keep its points and get no fix.
DIFFERENT_BUT_RIGHT = (
    "        p = p - lr * mse_grad(p, X, y)\n        path.append(p)\n",
    "        r = y - (p[0] + p[1] * X)\n"
    "        p -= lr * np.array([-2.0 * r.mean(), -2.0 * (r * X).mean()])\n"
    "        path.append(p.copy())\n")


def _two_mistakes_source() -> str:
    source = reference_source("01_gradient_descent")
    for old, new in (TWO_MISTAKES, DIFFERENT_BUT_RIGHT):
        assert old in source
        source = source.replace(old, new, 1)
    return source


def _line_of(source: str, text: str) -> int:
    return next(i + 1 for i, ln in enumerate(source.splitlines()) if text in ln)


def test_a_mistake_needing_two_fixes_gets_one_fix_naming_both_lines(grade, tmp_path):
    folder = "01_gradient_descent"
    source = _two_mistakes_source()
    result = grade(write_submission(tmp_path / "s", folder, source), folder, repair=True)
    checks = {c.name: c for c in result.checks()}
    assert {n for n, c in checks.items() if c.score < c.max_score} == {"minibatch_gd"}
    said = [n for n in checks["minibatch_gd"].notes if REPAIR.search(n)]
    assert len(said) == 1, checks["minibatch_gd"].notes
    m, step = _line_of(source, "m = len(X)"), _line_of(source, "p = p + lr * np.array")
    assert said[0].startswith(f"line {m}: `m = len(X)` → `m = len(") and \
        f" and line {step}: `p = p + lr * np.array(" in said[0], said[0]
    changed = said[0].split(f" and line {step}: ")[1].split(" → ")[1]
    assert changed.startswith("`p = (p - lr") or changed.startswith("`p = p - lr"), changed
    assert "with these two changes `minibatch_gd` passes every case" in said[0]
    # the definition written otherwise and right keeps its points and gets no fix
    right = checks["gradient_descent"]
    assert right.score == right.max_score and not any(REPAIR.search(n) for n in right.notes)


def test_pairs_are_said_against_the_students_lines():
    from grader.judge.diagnose.repair import pairs
    source = ("import numpy as np\n\n\ndef f(x, idx):\n    m = len(x)\n"
              "    return -np.sum(x[idx]) / m\n")
    firsts = [e for e in candidates(source, "f") if e.after == "return np.sum(x[idx]) / m"]
    assert firsts
    both = pairs(source, "f", firsts[0])
    fix = next(e for e in both if e.also and e.also[0][2] == "m = len(idx)")
    assert fix.parts() == [(5, "m = len(x)", "m = len(idx)"),
                           (6, "return -np.sum(x[idx]) / m", "return np.sum(x[idx]) / m")]
    assert fix.said("f", "fix").startswith("line 5: `m = len(x)` → `m = len(idx)` and line 6")
    assert fix.said("f", "line", "every public case") == (
        "line 5: `m = len(x)` and line 6: `return -np.sum(x[idx]) / m` — small changes of "
        "these two lines make `f` pass every public case")
    assert all(e.source != source for e in both)  # the first edit undone is no candidate


# ------------------------------------------------------------------ the repair in self-check
from test_selfcheck import bundle  # noqa: E402,F401  (a student's copy, built once)


def _self_check(bundle, tmp_path, show: str | None):
    import subprocess
    toml = bundle / "grader" / "_course" / "course.toml"
    text = toml.read_text().split("\n[feedback]")[0]
    toml.write_text(text + (f'\n[feedback]\nrepair_selfcheck = "{show}"\n' if show else ""))
    work = tmp_path / "work" / "01_gradient_descent"
    work.mkdir(parents=True)
    source = reference_source("01_gradient_descent").replace(
        "p = p - lr * mse_grad(p, X, y)",
        "p = p - lr * mse_grad(p, y, X)")
    (work / "gradient_descent.py").write_text(source)
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "gradient_descent",
                           "--device", "cpu", "--dir", str(tmp_path / "work")], cwd=bundle,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, _line_of(source, "mse_grad(p, y, X)")


def test_self_check_shows_the_fix_on_public_cases_where_the_course_enables_it(bundle, tmp_path):
    """The student's copy (public expected values only, in the student's own process)
    searches the fix on the public cases and says it passes every *public* case."""
    out, line = _self_check(bundle, tmp_path, "fix")
    assert (f"line {line}: `p = p - lr * mse_grad(p, y, X)` → `p = p - lr * mse_grad(p, X, y)`"
            " — with this change `gradient_descent` passes every public case") in out, out
    assert "passes every case" not in out


def test_self_check_shows_the_line_only_by_default_and_nothing_where_told(bundle, tmp_path):
    out, line = _self_check(bundle, tmp_path / "a", None)
    assert (f"line {line}: `p = p - lr * mse_grad(p, y, X)` — a small change of this line "
            "makes `gradient_descent` pass every public case") in out, out
    assert "→" not in out
    out, _ = _self_check(bundle, tmp_path / "b", "nothing")
    assert "small change" not in out and "passes every" not in out


def test_trajectory_observations_without_a_witness_name_no_cause():
    """A path that moves every k steps, stops early, or moves by one same step: the grader has
    not reproduced how (a condition, a break, a gradient computed once), so it says only what
    it saw."""
    e = np.cumsum(np.vstack([np.full((1, 2), 0.1), 0.1 * 0.9 ** np.arange(1, 20)[:, None]
                             * np.ones((1, 2))]), axis=0)
    every = np.vstack([np.zeros((4, 2)), np.repeat(e[4::5], 5, axis=0)[:16]])
    stops = e.copy()
    stops[10:] = stops[9]
    straight = np.cumsum(np.full((20, 2), 0.1), axis=0)
    causes = ("condition", "guard", "printing", "break", "loop", "computed once", "recomputed",
              "instead of")
    for actual, seen in ((every, "only every 5 steps"), (stops, "stops changing after row 9"),
                         (straight, "same step every time")):
        found = generic(_desc(actual), _desc(e), "trajectory", "cpu", False, None, {"args": []})
        assert found is not None and not found.cause and seen in found.hint, found
        assert not any(w in found.hint for w in causes), found.hint


def test_a_file_built_to_make_huge_candidates_costs_the_grader_bounded_memory():
    """Each candidate is a whole copy of the student's file: thousands of statements in a
    file of tens of KiB once made the grader hold gigabytes of them (a 4 MiB file, 10 GB).
    Candidates are made only up to ``MAX_CANDIDATE_BYTES``; a file over
    ``MAX_SOURCE_BYTES`` is not searched at all."""
    import tracemalloc

    from grader.judge.diagnose import repair
    body = "".join(f"    x{i} = x{i - 1} + 1 if {i} else 0\n" for i in range(1, 3000))
    source = f"def mse_grad(params, X, y):\n    x0 = 0\n{body}    return x0 - 1\n"
    assert repair.MAX_SOURCE_BYTES > len(source) > 64 << 10
    tracemalloc.start()
    try:
        made = repair.candidates(source, "mse_grad")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0 < len(made) <= repair.MAX_CANDIDATES
    assert peak < 2 * repair.MAX_CANDIDATE_BYTES, peak
    huge = source + "#" * repair.MAX_SOURCE_BYTES + "\n"
    assert repair.candidates(huge, "mse_grad") == []
