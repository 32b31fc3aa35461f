"""Hidden cases carry the weight, keep their secrets, and follow the instructor's secret."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.judge.public import PUBLIC_FILE, build_public
from grader.judge.results import CaseResult, CheckResult

from conftest import COURSE, ROOT, assignment

A01 = "01_gradient_descent"
HOSTILE = ROOT / "tests" / "hostile"


def _case(hidden: bool, fraction: float, i: int = 0) -> CaseResult:
    return CaseResult(f"{'hidden' if hidden else 'public'}-{i}", hidden, i,
                      "passed" if fraction == 1 else "wrong", fraction)


def test_public_answers_looked_up_by_seed_earn_at_most_a_third(grade, tmp_path):
    """The student bundle ships the public cases' expected values (self-check needs them);
    a file that looks them up by the seed the grader gives torch, with no implementation,
    once earned 63 of the course's 100 points (public cases carried most of them)."""
    student = tmp_path / "student" / A01
    student.mkdir(parents=True)
    shutil.copy(HOSTILE / "lookup_public.py", student / "gradient_descent.py")
    (student / PUBLIC_FILE).write_text(json.dumps(build_public([assignment(A01)])))
    result = grade(tmp_path / "student", A01)
    cases = [c for check in result.checks() for c in check.cases]
    public = [c for c in cases if not c.hidden]
    assert public and all(c.status == "passed" for c in public)  # the lookup works...
    assert all(c.status != "passed" for c in cases if c.hidden)
    # ...and earns a third at most (each check's score is rounded to 4 decimals)
    assert result.score <= result.max_score / 3 + 1e-3
    assert result.score > 0


def test_hidden_cases_carry_two_thirds_of_a_check_by_default():
    three_public_two_hidden = [_case(False, 1.0, i) for i in range(3)] + \
        [_case(True, 0.0, i) for i in range(2)]
    check = CheckResult("01", "f", 6.0, three_public_two_hidden)
    assert check.score == 2.0  # equal shares gave 3.6
    check.cases = [_case(False, 0.0, i) for i in range(3)] + [_case(True, 1.0, 0),
                                                               _case(True, 0.0, 1)]
    assert check.score == 2.0  # one of two hidden cases: half of the hidden two thirds
    check.cases = [_case(False, 1.0, i) for i in range(3)]  # public only (self-check)
    assert check.score == 6.0


def test_every_check_of_the_course_is_weighted_to_its_hidden_cases():
    for a in COURSE:
        for check in a.checks:
            assert check.public_share == pytest.approx(1 / 3), check.name


def _course(tmp_path: Path, checks_extra: str = "", toml_extra: str = "",
            share: str = "") -> Path:
    root = tmp_path / "course"
    (root / "01_one").mkdir(parents=True)
    (root / "course.toml").write_text(
        f'title = "t"\n{toml_extra}\n[[assignment]]\nfolder = "01_one"\nmodule = "one"\n'
        'title = "One"\npoints = 4\n')
    (root / "01_one" / "one.py").write_text("def f(x):\n    return x\n\ndef g(x):\n"
                                            "    return x\n")
    (root / "01_one" / "checks.py").write_text(
        "from grader.course.spec import Check, random_cases\n" + checks_extra + "\n"
        "CHECKS = (Check('f', 2, 'call', cases=random_cases(lambda rng: {'args': [1.0]})"
        f"{share}),\n"
        "          Check('g', 2, 'call', cases=random_cases(lambda rng: {'args': [1.0]})),)\n")
    return root


def test_a_course_declares_its_own_split_per_check_assignment_or_course(tmp_path):
    from grader.course.loader import load_course
    course = load_course(_course(tmp_path / "a", "PUBLIC_SHARE = 0.5",
                                 share=", public_share=0.25"))
    assert [c.public_share for c in course[0].checks] == [0.25, 0.5]
    course = load_course(_course(tmp_path / "b", toml_extra="public_share = 0.0"))
    assert [c.public_share for c in course[0].checks] == [0.0, 0.0]


@pytest.mark.parametrize("where", ["check", "assignment", "course"])
@pytest.mark.parametrize("bad", ["1.5", "-0.1", "'half'"])
def test_a_share_outside_0_to_1_is_refused_when_the_course_loads(tmp_path, where, bad):
    from grader.course.loader import CourseError, load_course
    root = _course(tmp_path, **{"check": {"share": f", public_share={bad}"},
                                "assignment": {"checks_extra": f"PUBLIC_SHARE = {bad}"},
                                "course": {"toml_extra": f"public_share = {bad}"}}[where])
    with pytest.raises(CourseError, match="must be a number from 0 to 1"):
        load_course(root)


def test_the_class_summary_flags_public_passes_with_hidden_failures():
    from grader.instructor.summary import html_page, public_only_passes, terminal

    def payload(student, public, hidden, tests=("01/f", "01/g")):
        cases = [{"id": "p", "hidden": False, "status": public},
                 {"id": "h", "hidden": True, "status": hidden}]
        return {"score": 1, "extra_data": {"student": student}, "tests": [
            {"name": n, "score": 1, "max_score": 3, "extra_data": {"cases": cases}}
            for n in tests]}
    payloads = [payload("looker", "passed", "error"), payload("honest", "passed", "passed"),
                payload("stuck", "wrong", "wrong"), payload("ungraded", "passed",
                                                            "grader_error")]
    assert public_only_passes(payloads) == [("looker", ["01/f", "01/g"])]
    assert "looker: 2 test(s): 01/f, 01/g" in terminal(payloads)
    assert "looker" in html_page(payloads) and "honest" not in html_page(payloads)
    one_slip = payload("slip", "passed", "wrong", tests=("01/f",))
    one_slip["tests"].append({"name": "01/g", "score": 3, "max_score": 3, "extra_data": {
        "cases": [{"id": "h", "hidden": True, "status": "passed"}]}})
    assert public_only_passes([one_slip]) == []  # one check of two: an honest edge case


def _leaks(text: str, hidden_tags: list[str]) -> list[str]:
    return [t for t in hidden_tags if t in text]


def test_hidden_inputs_never_reach_a_report_through_the_students_own_words(grade, tmp_path):
    """A student who raised ``ValueError(f"{X[:8]}")`` read the hidden case's inputs in the
    report. A hidden case now shows the verdict, a known exception type and the student's
    own line; public cases keep their messages, and printed output comes from the forks of
    public cases only (hidden cases run in forks of their own)."""
    from grader.course.cases import build_cases
    from grader.report.html import render
    from grader.report.student import gradescope, terminal
    from conftest import reference_source
    a = assignment(A01)
    source = reference_source(A01) + "\n" + (HOSTILE / "leak_hidden.py").read_text()
    student = tmp_path / "student" / A01
    student.mkdir(parents=True)
    (student / "gradient_descent.py").write_text(source)
    result = grade(tmp_path / "student", A01)
    shown = {"terminal": terminal(result, verbose=True),
             "results.json": json.dumps(gradescope(result)),
             "report.html": render(result, pictures="none")}
    import numpy as np

    def tags(check, hidden):
        out = []
        for case in build_cases(a, a.check(check), "test-secret"):
            if case.hidden == hidden:
                X = np.ravel(case.inputs["args"][1])
                out += [json.dumps([round(float(v), 6) for v in X[:4]]),
                        f"LEAK_{abs(int(float(X[0]) * 1e6))}",
                        f"({int(abs(float(X[0])) * 1000) + 7},)"]
        return out
    hidden = tags("predict", True) + tags("mse_loss", True) + tags("mse_grad", True)
    for where, text in shown.items():
        assert not _leaks(text, hidden), (where, _leaks(text, hidden))
    assert "PRINTED" in shown["terminal"]  # what public cases printed is still shown
    by_case = {(ch.name, c.id): c for ch in result.checks() for c in ch.cases}
    hidden_error = by_case[("predict", "hidden-1")].message
    assert hidden_error.startswith("`predict` raised ValueError (its message is not shown")
    line = source.splitlines().index('    raise ValueError(_tag(X))') + 1
    assert f"gradient_descent.py, line {line}" in hidden_error
    assert "raise ValueError(_tag(X))" in hidden_error  # the student's own line, read here
    assert "an exception of its own type" in by_case[("mse_loss", "hidden-1")].message
    assert by_case[("mse_grad", "hidden-1")].message.startswith(
        "the returned value: has the wrong shape")
    # public cases still show everything
    public = tags("predict", False)
    assert _leaks(by_case[("predict", "random-1")].message, public)
    assert "LEAK_" in by_case[("mse_loss", "random-1")].message
    assert "the shape does not match: got" in by_case[("mse_grad", "random-1")].message
    alone = grade(tmp_path / "student", A01, include_hidden=False)
    assert "PRINTED" in terminal(alone)  # no hidden case ran: the output is shown


def _cli(*args, env_secret: str | None = None, cwd=ROOT, timeout=600):
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}
    if env_secret is not None:
        env["GRADER_SECRET"] = env_secret
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_a_gradescope_bundle_without_a_secret_is_refused_in_one_line(tmp_path):
    """It was built silently, its hidden cases following the development secret, which
    ships in grader/course/cases.py: anyone could compute them."""
    if (ROOT / ".grader-secret").exists():
        pytest.skip("this checkout has a .grader-secret")
    built = _cli("gradescope", "--out", str(tmp_path / "dist"))
    assert built.returncode == 2
    assert built.stderr.count("\n") == 1 and "python -m grader secret" in built.stderr
    assert not (tmp_path / "dist" / "autograder.zip").exists()
    short = tmp_path / "short"
    short.write_text("s3cret\n")
    for bad in (str(short), str(tmp_path / "absent")):
        refused = _cli("gradescope", "--out", str(tmp_path / "dist"), "--secret-file", bad)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    refused = _cli("batch", str(tmp_path), "--secret-file", str(short))
    assert refused.returncode == 2 and "at least 16" in refused.stderr


def test_the_secret_command_writes_a_private_secret_and_keeps_an_old_one(tmp_path):
    path = tmp_path / ".grader-secret"
    made = _cli("secret", "--out", str(path))
    assert made.returncode == 0, made.stderr
    secret = path.read_text().strip()
    assert len(secret) == 64 and int(secret, 16) and path.stat().st_mode & 0o777 == 0o600
    again = _cli("secret", "--out", str(path))
    assert again.returncode == 2 and path.read_text().strip() == secret
    assert _cli("secret", "--out", str(path), "--force").returncode == 0
    assert path.read_text().strip() != secret


def test_a_bundle_grades_with_the_secret_it_was_built_with(tmp_path):
    """With GRADER_SECRET set, the bundle once still graded with the development secret;
    now it grades with its own, whatever the container's environment says, and a bundle
    without one refuses to grade."""
    import os
    import subprocess
    import sys
    import zipfile
    from grader.course.cases import secret_id
    secret = "a-real-secret-for-this-test-0123456789"
    built = _cli("gradescope", "--out", str(tmp_path / "dist"), env_secret=secret)
    assert built.returncode == 0, built.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "dist" / "autograder.zip") as z:
        z.extractall(root / "source")
    assert (root / "source" / ".grader-secret").read_text().strip() == secret
    (root / "submission").mkdir()
    shutil.copy(ROOT / "submissions" / "demo" / A01 / "gradient_descent.py", root / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable,
           "GRADER_SECRET": "another-secret-in-the-container-environment"}
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    proc = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["extra_data"]["secret_id"] == secret_id(secret)
    (root / "results" / "results.json").unlink()
    (root / "source" / ".grader-secret").unlink()
    proc = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "no hidden-case secret" in proc.stderr
    assert not (root / "results" / "results.json").exists()
