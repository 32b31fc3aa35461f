"""The course tests itself (issue 26): ``validate`` reports each problem of a course once,
naming its file; commands that hand a course out or grade with it refuse an invalid one; and
at grading time the course's own errors are never charged to a student nor credited.

Each test copies the shipped course into a temporary folder (cut down to one assignment, to be
quick) and breaks one thing in it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


from conftest import ROOT, SECRET, mutate, reference_source, write_submission
from grader.course.loader import load_course
from grader.grade import Session
from grader.instructor.validate import validate

A01, A04 = "01_gradient_descent", "04_custom_function"


def course_copy(tmp_path: Path, *folders: str) -> Path:
    """The shipped course, copied, with only ``folders`` in its course file."""
    root = tmp_path / "course"
    shutil.copytree(ROOT / "reference", root,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shipped = load_course(ROOT / "reference")
    lines = ['title = "A copy"\n']
    for a in shipped:
        if a.folder in folders:
            lines.append(f'\n[[assignment]]\nfolder = "{a.folder}"\nmodule = "{a.module}"\n'
                         f'title = "{a.title}"\npoints = {a.points:g}\n')
    (root / "course.toml").write_text("".join(lines))
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the edit no longer applies to {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1))


def problems(root: Path, pool) -> list[str]:
    return validate(load_course(root), SECRET, "cpu", pool).problems


def only(found: list[str]) -> str:
    """The one problem reported (more, or none, fail the test)."""
    assert len(found) == 1, "\n".join(found)
    return found[0]


def missing(line: str, *words: str) -> list[str]:
    """The words ``line`` lacks."""
    return [w for w in words if w not in line]


def test_the_shipped_course_validates_clean(pool):
    result = validate(load_course(ROOT / "reference"), SECRET, "cpu", pool)
    assert result.problems == []
    assert result.checked["mistakes"] > 0 and result.checked["cases"] > 100


def test_a_typo_in_a_course_probe_is_one_problem_naming_the_probe_file(tmp_path, pool):
    root = course_copy(tmp_path, A04)
    edit(root / A04 / "probes.py", ".detach()", ".detatch()")
    line = only(problems(root, pool))
    assert not missing(line, f"{A04}/probes.py: check 'LegendrePolynomial3'",
                        "every case", "AttributeError", "detatch"), line


def test_a_case_maker_failing_for_hidden_cases_only_is_named_with_its_case(tmp_path, pool):
    root = course_copy(tmp_path, A01)
    with open(root / A01 / "checks.py", "a") as f:
        f.write('''
import dataclasses as _dc


def _broken(rng):
    raise KeyError("n_features")


CHECKS = tuple(_dc.replace(c, cases=tuple(_dc.replace(s, make=_broken) if s.hidden else s
                                          for s in c.cases)) if c.name == "mse_loss" else c
               for c in CHECKS)
''')
    found = problems(root, pool)
    assert len(found) == 2, found  # hidden-1 and hidden-2: one line each, no traceback
    for line, case in zip(found, ("hidden-1", "hidden-2")):
        assert line.startswith(f"{A01}/checks.py: check 'mse_loss', hidden case '{case}': "
                               "the case maker raised KeyError"), line
        assert "Traceback" not in line


def test_a_reference_failing_one_case_is_one_problem(tmp_path, pool):
    root = course_copy(tmp_path, A01)
    with open(root / A01 / "checks.py", "a") as f:
        f.write('''
import dataclasses as _dc
import numpy as _np

CHECKS = tuple(_dc.replace(c, cases=tuple(
    _dc.replace(s, make=lambda rng: {"args": [_np.array([0.5]), _np.zeros(3)]})
    if s.id == "random-2" else s for s in c.cases)) if c.name == "predict" else c
    for c in CHECKS)
''')
    line = only(problems(root, pool))
    assert not missing(line, f"{A01}/gradient_descent.py: check 'predict'", "cases random-2",
                        "(1 of 5)", "IndexError"), line


def test_a_misspelt_shares_key_is_named(tmp_path, pool):
    root = course_copy(tmp_path, A01)
    edit(root / A01 / "checks.py", 'Check("predict", 2, "call", kind="value", ',
         'Check("predict", 2, "call", kind="value", shares={"reslt": 1, "mutated": 1}, ')
    line = only(problems(root, pool))
    assert not missing(line, f"{A01}/checks.py: check 'predict'", "'reslt'",
                        "did you mean 'result'"), line


def test_a_misspelt_report_key_is_named(tmp_path, pool):
    root = course_copy(tmp_path, A04)
    edit(root / A04 / "probes.py", '"composite": Report(', '"composit": Report(')
    line = only(problems(root, pool))
    assert not missing(line, f"{A04}/probes.py: probe `autograd_function`", "'composit'",
                        "did you mean 'composite'"), line


def test_a_mistyped_lesson_heading_is_named_with_its_line(tmp_path, pool):
    root = course_copy(tmp_path, A01)
    edit(root / A01 / "lesson.md", "## mse_loss\n", "## mse_los\n")
    line = only(problems(root, pool))
    assert not missing(line, f"{A01}/lesson.md: line ", "`## mse_los`",
                        "did you mean `## mse_loss`"), line


def test_a_catalogue_entry_that_does_not_reproduce_is_named(tmp_path, pool):
    root = course_copy(tmp_path, A01)
    with open(root / A01 / "mistakes.py", "a") as f:
        f.write('''
MISTAKES += (Mistake(A01, "predict", "a comment changed", "no hint can come of this",
                     replace=(("Return the predictions", "Give the predictions"),)),)
''')
    line = only(problems(root, pool))
    assert not missing(line, f"{A01}/mistakes.py: mistake 'a comment changed' (predict)",
                        "does not reproduce"), line


def test_a_value_the_check_cannot_compare_is_named(tmp_path, pool):
    root = course_copy(tmp_path, A01)
    with open(root / A01 / "gradient_descent.py", "a") as f:
        f.write("\n\n_predict = predict\n\n\ndef predict(params, X):\n    import types\n"
                "    return types.SimpleNamespace(value=_predict(params, X))\n")
    line = only(problems(root, pool))
    assert not missing(line, "check 'predict'", "cannot compare", "SimpleNamespace"), line


def test_batch_refuses_an_invalid_course(tmp_path):
    root = course_copy(tmp_path, A01)
    edit(root / A01 / "lesson.md", "## mse_loss\n", "## mse_los\n")
    subs = tmp_path / "submissions"
    write_submission(subs / "ann", A01, reference_source(A01))
    env = {**os.environ, "GRADER_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "grader", "batch", str(subs), "--course",
                           str(root), "--results", str(tmp_path / "results"), "--device", "cpu"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    assert "the course is not valid (1 problem" in proc.stderr
    assert f"{A01}/lesson.md: line" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "results" / "ann").exists()  # nobody was graded


def test_a_course_error_is_neither_charged_nor_credited(tmp_path, pool):
    """A typo in the course's probe: a correct and a wrong student both get "course error"
    on that check, 0 points and not graded; their other checks are as on the intact course."""
    intact = load_course(ROOT / "reference")
    root = course_copy(tmp_path, A04)
    edit(root / A04 / "probes.py", ".detach()", ".detatch()")
    broken = load_course(root)
    right = reference_source(A04)
    wrong = mutate(right, [("return 0.5 * (5 * input ** 3 - 3 * input)",
                            "return 0.5 * (5 * input ** 3 - 2 * input)")])
    for name, source in (("right", right), ("wrong", wrong)):
        folder = write_submission(tmp_path / name, A04, source)
        scores = {}
        for course in (intact, broken):
            session = Session(pool, course.assignments, device="cpu", secret=SECRET,
                              max_timeout=10.0)
            result = session.grade(folder)
            scores[course.root] = {c.name: c for c in result.checks()}
        was, now = scores[intact.root], scores[broken.root]
        cases = now["LegendrePolynomial3"].cases
        assert {c.status for c in cases} == {"course_error"}, name
        assert all(c.fraction == 0 for c in cases)
        assert all(f"course error in `{A04}/probes.py` line" in c.message and
                   "(AttributeError)" in c.message and "instructor" in c.message
                   for c in cases), cases[0].message
        assert "detatch" not in cases[0].message  # the course's message is the instructor's
        for other in ("fit_sine", "poly_grads", "fit_poly"):
            assert now[other].score == was[other].score, (name, other)
        if name == "wrong":
            assert was["LegendrePolynomial3"].score < was["LegendrePolynomial3"].max_score


def test_a_forged_course_frame_is_charged_when_the_reference_passes(tmp_path, pool):
    """The fork says an error was raised in a course file; the reference passes the case, so
    the error is the student's: charged, never "course error"."""
    course = load_course(ROOT / "reference")
    fake = ROOT / "reference" / A01 / "probes.py"
    source = reference_source(A01).replace(
        "    b, w = params[0], params[1]\n    return b + w * X\n",
        f"    exec(compile('raise AttributeError(\"detatch\")', {str(fake)!r}, 'exec'))\n", 1)
    folder = write_submission(tmp_path / "forger", A01, source)
    session = Session(pool, (course.assignment(A01),), device="cpu", secret=SECRET,
                      max_timeout=10.0)
    check = next(c for c in session.grade(folder).checks() if c.name == "predict")
    assert {c.status for c in check.cases} == {"error"}
    assert check.score == 0
    assert "the reference passes this case" in check.cases[0].message


BROKEN_MAKER = '''
import dataclasses as _dc


def _broken(rng):
    raise KeyError("n_features")


CHECKS = tuple(_dc.replace(c, cases=tuple(_dc.replace(s, make=_broken) if s.id == "random-1"
                                          else s for s in c.cases))
               if c.name == "mse_loss" else c for c in CHECKS)
'''


def test_a_case_maker_failing_while_grading_is_a_course_error_of_its_check(tmp_path):
    """`grade`, and `batch --no-validate`: the check whose case maker raises is not graded
    (0 points, "course error" naming the checks file), the instructor is told once, the
    other checks grade as usual, and the command finishes."""
    import json
    root = course_copy(tmp_path, A01)
    with open(root / A01 / "checks.py", "a") as f:
        f.write(BROKEN_MAKER)
    subs = tmp_path / "submissions"
    write_submission(subs / "ann", A01, reference_source(A01))
    env = {**os.environ, "GRADER_CACHE": str(tmp_path / "cache"), "GRADER_SECRET": SECRET * 2}
    common = ["--course", str(root), "--device", "cpu"]
    runs = {
        "grade": [sys.executable, "-m", "grader", "grade", str(subs / "ann"), *common,
                  "--results", str(tmp_path / "graded")],
        "batch": [sys.executable, "-m", "grader", "batch", str(subs), *common, "--no-validate",
                  "--results", str(tmp_path / "batched")],
    }
    for command, argv in runs.items():
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, (command, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr, (command, proc.stderr[-2000:])
        told = [line for line in (proc.stdout + proc.stderr).splitlines()
                if f"course error on {A01}/mse_loss" in line]
        assert len(told) == 1, (command, proc.stdout, proc.stderr)
        assert not missing(told[0], f"{A01}/checks.py", "KeyError", "'n_features'",
                           "not charged"), told[0]
        found = next((tmp_path / ("graded" if command == "grade" else "batched"))
                     .rglob("results.json"))
        data = json.loads(found.read_text())
        tests = {t["name"]: t for t in data["tests"]}
        broken = tests[f"{A01}/mse_loss"]
        assert broken["score"] == 0, (command, broken)
        assert "course error" in broken["output"] and f"{A01}/checks.py" in broken["output"]
        assert "n_features" not in broken["output"]  # the maker's message is the instructor's
        for name in ("predict", "mse_grad", "gradient_descent", "make_batches"):
            assert tests[f"{A01}/{name}"]["score"] == tests[f"{A01}/{name}"]["max_score"], \
                (command, name, tests[f"{A01}/{name}"]["output"][:300])


def test_a_reference_breaking_a_property_its_probe_declares_is_named(tmp_path, pool):
    """A reference whose backward is not the derivative of its forward breaks the property
    `gradcheck` its probe declares: one line naming the reference file, the check and the
    property (its catalogued mistakes, judged against a broken reference, are not said)."""
    root = course_copy(tmp_path, A04)
    edit(root / A04 / "legendre.py", "        (input,) = ctx.saved_tensors\n",
         "        (input,) = ctx.saved_tensors\n        grad_output = 1.1 * grad_output\n")
    found = problems(root, pool)
    said = [line for line in found if "'LegendrePolynomial3'" in line or
            "(LegendrePolynomial3)" in line]
    line = only(said)
    assert not missing(line, f"{A04}/legendre.py: check 'LegendrePolynomial3'",
                       "breaks the property 'gradcheck'", f"{A04}/probes.py", "every case"), line


def test_a_misspelt_tolerances_key_is_named(tmp_path, pool):
    root = course_copy(tmp_path, A01)
    edit(root / A01 / "checks.py", 'Check("predict", 2, "call", kind="value", ',
         'Check("predict", 2, "call", kind="value", tolerances={"reslt": "exact"}, ')
    line = only(problems(root, pool))
    assert not missing(line, f"{A01}/checks.py: check 'predict'", "`tolerances` names 'reslt'",
                       "did you mean 'result'"), line
