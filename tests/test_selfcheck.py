"""Student self-check and the student release (issue 8; installed and portable: test_student_bundle.py)."""
import os
import subprocess
import sys

import pytest

from conftest import COURSE, ROOT, reference_source
from grader.instructor.release import build_release

# Hints of the mistake catalogue (never shipped), its own and the course's shared ones.
LEAK_MARKERS = ("the derivative of a square", "you never reset the gradients")


# Idioms every PyTorch program has: shipping one reveals nothing of a solution.
IDIOMS = {"with torch.no_grad():", "super().__init__()", "loss.backward()",
          "optimizer.step()", "optimizer.zero_grad()"}


def solution_lines() -> set[str]:
    """Every line of every reference solution between its markers (stripped), but for
    lines too short or too common to mean anything (``return path``, ``else:``, IDIOMS)."""
    from grader.course.loader import BEGIN, END
    lines = set()
    for a in COURSE:
        inside = False
        for line in a.reference_path.read_text().splitlines():
            text = line.strip()
            if text in (BEGIN, END):
                inside = text == BEGIN
            elif inside and len(text) >= 16 and not text.startswith("#") and \
                    text not in IDIOMS:
                lines.add(text)
    return lines


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("release") / "student"
    os.environ["GRADER_SECRET"] = "leak-me-if-you-can"
    try:
        build_release(target, COURSE, ROOT / "assignments")
    finally:
        del os.environ["GRADER_SECRET"]
    return target


def test_bundle_holds_no_reference_no_mistakes_and_no_secret(bundle):
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")}
    assert not any(n.startswith("reference") or "mistake" in n for n in names)
    assert not any(".grader-secret" in n for n in names)
    assert {"Makefile", "README.md", "pyproject.toml", "grader/_course/public_expected.json",
            "assignments/01_gradient_descent/gradient_descent.py"} <= names
    solutions = solution_lines()
    assert len(solutions) > 50
    for path in bundle.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert "leak-me-if-you-can" not in text, path
            for marker in LEAK_MARKERS:
                assert marker not in text, (path, marker)
            shipped = {line.strip() for line in text.splitlines()}
            if path.suffix == ".ipynb":  # a notebook's code is JSON strings
                import json
                shipped = {ln.strip() for cell in json.loads(text)["cells"]
                           for ln in "".join(cell["source"]).splitlines()}
            assert not (shipped & solutions), (path, sorted(shipped & solutions)[:5])
    public = (bundle / "grader" / "_course" / "public_expected.json").read_text()
    assert '"hidden-' not in public


def test_bundle_zip_is_written_beside_the_folder(bundle):
    assert (bundle.parent / "student.zip").is_file()


def check_in(bundle, *args):
    return subprocess.run([sys.executable, "-m", "grader", "check", "--device", "cpu", *args],
                          cwd=bundle, capture_output=True, text=True, timeout=300)


def test_check_reports_not_implemented_and_says_hidden_cases_count(bundle):
    proc = check_in(bundle, "01_gradient_descent")
    assert proc.returncode == 0, proc.stderr
    assert "is not implemented yet" in proc.stdout
    assert "hidden cases will also count" in proc.stdout.lower()


def test_check_names_the_difference_like_the_real_grading(bundle, tmp_path):
    work = tmp_path / "work" / "01_gradient_descent"
    work.mkdir(parents=True)
    (work / "gradient_descent.py").write_text(reference_source("01_gradient_descent").replace(
        "np.mean(2 * residual * -1)", "np.mean(residual * -1)"))
    proc = check_in(bundle, "mse_grad", "--dir", str(tmp_path / "work"))
    assert "Greatest absolute difference" in proc.stdout
    assert "mse_grad" in proc.stdout and "0/4 cases pass" in proc.stdout


def test_check_function_in_a_namespace_shows_text_and_html(bundle):
    script = (
        "from grader import check\n"
        "good = check('predict', {'predict': lambda p, X: p[0] + p[1] * X})\n"
        "bad = check('predict', {'predict': lambda p, X: p[1] + p[0] * X})\n"
        "print(good.passed, bad.passed)\nprint(good)\nprint(bad._repr_html_())\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=bundle, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("True False")
    assert "3/3 public cases pass" in proc.stdout and "✗" in proc.stdout
    assert "hidden cases with other data will also count" in proc.stdout


def test_a_numpy_only_check_does_not_need_torch():
    from grader.course.cases import needs_torch as _needs_torch
    assignment = COURSE.assignment
    assert not _needs_torch((assignment("01_gradient_descent"),))
    assert _needs_torch((assignment("02_autograd"),))
