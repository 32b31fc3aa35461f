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


# ------------------------------------------------------------------ a fix in the notebook check
SWAPPED = ("p = p - lr * mse_grad(p, X, y)", "p = p - lr * mse_grad(p, y, X)")
NOTEBOOK_CHECK = (
    "import sys\n"
    "from grader import check\n"
    "print('FROM FILE', check('gradient_descent'))\n"  # not in the namespace: the student's .py
    "sys.path.insert(0, '01_gradient_descent')\n"
    "from gradient_descent import gradient_descent\n"  # a notebook importing from the .py
    "print('IMPORTED', check('gradient_descent'))\n"
    "import numpy as np\n"
    "def gradient_descent(params0, X, y, lr, n_steps):\n"  # defined in a cell: no file holds it
    "    return np.zeros((n_steps, 2))\n"
    "print('IN A CELL', check('gradient_descent'))\n"
    "print('RIGHT', check('predict', {'predict': lambda p, X: p[0] + p[1] * X}))\n")


def _notebook_check(bundle, tmp_path, show=None):
    """``grader.check`` as a notebook calls it, in the student's copy, over a gradient descent
    that passes its arguments to the gradient in the wrong order."""
    work = tmp_path / "work"
    (work / "01_gradient_descent").mkdir(parents=True)
    source = reference_source("01_gradient_descent").replace(*SWAPPED)
    (work / "01_gradient_descent" / "gradient_descent.py").write_text(source)
    toml = bundle / "grader" / "_course" / "course.toml"
    original = toml.read_text()
    if show:
        toml.write_text(original + f'\n[feedback]\nrepair_selfcheck = "{show}"\n')
    try:
        proc = subprocess.run([sys.executable, "-c", NOTEBOOK_CHECK], cwd=work, text=True,
                              capture_output=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(bundle)})
    finally:
        toml.write_text(original)
    assert proc.returncode == 0, proc.stderr
    line = next(i + 1 for i, ln in enumerate(source.splitlines()) if SWAPPED[1] in ln)
    parts = proc.stdout.split("IMPORTED")
    return parts[0], parts[1].split("IN A CELL")[0], proc.stdout.split("IN A CELL")[1], line


def test_the_notebook_check_shows_the_line_a_fix_changes_as_the_cli_does(bundle, tmp_path):
    """The same search as ``python -m grader check`` (the course's ``repair_selfcheck``: the
    line only by default), on the public cases, for a definition read from the student's
    ``.py``; none for one made in a notebook cell, none where every case passes."""
    from_file, imported, in_cell, line = _notebook_check(bundle, tmp_path)
    said = (f"note: line {line}: `{SWAPPED[1]}` — a small change of this line makes "
            "`gradient_descent` pass every public case")
    assert said in from_file and said in imported, from_file + imported
    # the candidates ran in this process: the notebook's import still gets the student's code
    assert "0/3 public cases pass" in imported
    assert "→" not in from_file + imported and "passes every case" not in from_file
    assert "0/3 public cases pass" in in_cell and "small change" not in in_cell
    assert "note:" not in in_cell.split("RIGHT")[1]


def test_the_notebook_check_shows_the_fix_where_the_course_says_so(bundle, tmp_path):
    from_file, _, _, line = _notebook_check(bundle, tmp_path, "fix")
    assert (f"note: line {line}: `{SWAPPED[1]}` → `{SWAPPED[0]}` — with this change "
            "`gradient_descent` passes every public case") in from_file, from_file
    from_file, _, _, _ = _notebook_check(bundle, tmp_path / "b", "nothing")
    assert "small change" not in from_file and "passes every" not in from_file


def test_the_notebook_check_of_the_instructors_checkout_shows_the_line(tmp_path, monkeypatch):
    """Without a public table (the instructor's checkout), the same check and fix line, its
    candidates run in a confined worker."""
    from grader.selfcheck import check
    work = tmp_path / "assignments" / "01_gradient_descent"
    work.mkdir(parents=True)
    source = reference_source("01_gradient_descent").replace(*SWAPPED)
    (work / "gradient_descent.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    report = check("gradient_descent", course=COURSE)
    line = next(i + 1 for i, ln in enumerate(source.splitlines()) if SWAPPED[1] in ln)
    assert not report.passed
    assert any(n.startswith(f"line {line}: `{SWAPPED[1]}` — a small change")
               for n in report.notes), report.notes
    assert f"note: line {line}" in str(report) and f"note: line {line}" in report._repr_html_()
