"""The same students' notebooks graded by nbgrader and by this grader, side by side (issue 16).

A class of N students (default 12), each handing in two notebooks: 01_gradient_descent and
04_custom_function. Most are correct (the reference's code); some carry a mistake of
``tests/student_mistakes.py``; one loops forever in ``gradient_descent``.

- nbgrader: installed by this benchmark into its own environment (``bench/out/nbgrader-venv``:
  nbgrader, NumPy and torch==2.13.0; never by ``make grade``). One assignment ``ps`` of two
  notebooks: every definition in a solution cell, then eight autograder test cells (asserts on
  ``mse_grad`` twice, ``gradient_descent`` twice, ``LegendrePolynomial3`` forward and backward,
  ``fit_sine``'s shape and final loss) whose expected numbers come from the reference. It runs
  ``generate_assignment``, ``db student add`` and ``autograde`` as an instructor would, with
  nbgrader's default cell time limit (30 s).
- this grader: the same code as the lesson notebooks (``grader assign``'s format), graded with
  ``grade <student> --assignment 01_gradient_descent --assignment 04_custom_function`` and
  ``batch`` with the same two assignments, every case of their checks, hidden ones included.

One student (correct) and the class are timed in one run; the ratios are printed.
Usage: python bench/bench_nbgrader.py [--students 12] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
VENV = OUT / "nbgrader-venv"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.course.loader import load_course, strip_markers  # noqa: E402
from grader.course.stubs import _chunks, notebook_text  # noqa: E402
from student_mistakes import MISTAKES, rewrite  # noqa: E402

COURSE = load_course()
FOLDERS = ("01_gradient_descent", "04_custom_function")
LOOP = '''def gradient_descent(params0, X, y, lr, n_steps):
    while True:
        pass
'''

# Test cells: (notebook module, setup code, expression, points). The setup runs in the test
# cell itself; the expected value of the expression is computed here with the reference.
TESTS = {
    "gradient_descent": [
        ("_rng = np.random.default_rng(0)\n_X = _rng.uniform(0, 1, 50)\n"
         "_y = 2.3 + 1.2 * _X + 0.1 * _rng.normal(size=50)",
         "mse_grad(np.array([1.0, 1.5]), _X, _y)"),
        ("_rng = np.random.default_rng(1)\n_X = _rng.uniform(-2, 2, 80)\n"
         "_y = -0.5 + 3.0 * _X + _rng.normal(size=80)",
         "mse_grad(np.array([0.3, -1.0]), _X, _y)"),
        ("_rng = np.random.default_rng(0)\n_X = _rng.uniform(0, 1, 50)\n"
         "_y = 2.3 + 1.2 * _X + 0.1 * _rng.normal(size=50)",
         "np.array(gradient_descent(np.array([1.0, 1.5]), _X, _y, 0.2, 10).shape)"),
        ("_rng = np.random.default_rng(0)\n_X = _rng.uniform(0, 1, 50)\n"
         "_y = 2.3 + 1.2 * _X + 0.1 * _rng.normal(size=50)",
         "gradient_descent(np.array([1.0, 1.5]), _X, _y, 0.2, 10)[-1]"),
    ],
    "legendre": [
        ("_x = torch.linspace(-1, 1, 7, dtype=torch.float64)",
         "LegendrePolynomial3.apply(_x).numpy()"),
        ("_x = torch.linspace(-1, 1, 7, dtype=torch.float64, requires_grad=True)\n"
         "LegendrePolynomial3.apply(_x).sum().backward()", "_x.grad.numpy()"),
        ("_x = torch.linspace(-np.pi, np.pi, 2000, dtype=torch.float64)\n_y = torch.sin(_x)\n"
         "_p0 = torch.tensor([0.0, -1.0, 0.0, 0.3], dtype=torch.float64)",
         "np.array(fit_sine(_x, _y, _p0, 5e-6, 300).shape)"),
        ("_x = torch.linspace(-np.pi, np.pi, 2000, dtype=torch.float64)\n_y = torch.sin(_x)\n"
         "_p0 = torch.tensor([0.0, -1.0, 0.0, 0.3], dtype=torch.float64)\n"
         "_a, _b, _c, _d = fit_sine(_x, _y, _p0, 5e-6, 300)[-1].tolist()\n"
         "_P3 = lambda z: 0.5 * (5 * z ** 3 - 3 * z)",
         "np.array(float(((_a + _b * _P3(_c + _d * _x) - _y) ** 2).sum()))"),
    ],
}


def venv() -> Path:
    """nbgrader's own environment, made once (a few minutes, from the package registry)."""
    python = VENV / "bin" / "python"
    if not (VENV / ".installed").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "nbgrader", "numpy", "torch==2.13.0"],
                       check=True)
        (VENV / ".installed").touch()
    return python


def reference_source(folder: str) -> str:
    a = COURSE.assignment(folder)
    return strip_markers(a.reference_path.read_text())


def expected_values(folder: str) -> list:
    import numpy as np
    import torch
    a = COURSE.assignment(folder)
    ns = {"np": np, "torch": torch}
    exec(compile(reference_source(folder), str(a.reference_path), "exec"), ns)
    out = []
    for setup, expr in TESTS[a.module]:
        scope = dict(ns)
        exec(setup, scope)
        out.append(np.asarray(eval(expr, scope), dtype=np.float64).tolist())
    return out


def nbgrader_notebook(folder: str, source: str, expected: list | None, cell_ids: dict) -> dict:
    """The nbgrader version: the imports, one solution cell per definition, the tests."""
    import nbformat
    v4 = nbformat.v4
    header, chunks = _chunks(source)
    cells = [v4.new_code_cell(header)]
    meta = lambda grade_id, **kw: {"nbgrader": {"grade_id": grade_id, "schema_version": 3,
                                                "task": False, **kw}}
    for name, code in chunks.items():
        body = code if expected is None else ("### BEGIN SOLUTION\n" + code +
                                              "\n### END SOLUTION")
        cell = v4.new_code_cell(body)
        cell.metadata = meta(f"sol-{name}", solution=True, grade=False, locked=False)
        cells.append(cell)
    module = COURSE.assignment(folder).module
    for i, (setup, expr) in enumerate(TESTS[module]):
        want = "None" if expected is None else repr(expected[i])
        cell = v4.new_code_cell(f"{setup}\nassert np.allclose({expr}, np.array({want}), "
                                "rtol=1e-6, atol=1e-9)")
        cell.metadata = meta(f"test-{module}-{i}", solution=False, grade=True, locked=True,
                             points=1)
        cells.append(cell)
    for i, cell in enumerate(cells):
        cell.id = cell_ids.setdefault(i, f"c{folder[:2]}{i:02d}")
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    return nb


def class_sources(n: int) -> dict[str, dict[str, str]]:
    """Each student's module source per folder: correct, a table mistake, or a loop."""
    wrong = {f: [m for m in MISTAKES if m.folder == f] for f in FOLDERS}
    students = {}
    for i in range(n):
        sources = {}
        for f in FOLDERS:
            source = reference_source(f)
            if i % 3 == 1 and wrong[f]:
                source = rewrite(source, wrong[f][i % len(wrong[f])].code)
            if i == n - 1 and f == FOLDERS[0]:
                source = rewrite(source, LOOP)
            sources[f] = source
        students[f"s{i:02d}"] = sources
    return students


def timed(cmd: list[str], cwd: Path) -> float:
    # nbgrader runs `alembic` and its kernel from PATH: its environment's bin comes first.
    env = {**os.environ, "PATH": f"{VENV / 'bin'}:{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    import nbformat
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=12)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (printed)")
    args = ap.parse_args()
    python = venv()
    work = Path(tempfile.mkdtemp(prefix="nbgrader-bench-"))
    students = class_sources(args.students)
    # -- nbgrader's course
    course = work / "nbgrader"
    (course / "source" / "ps").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n"
        "c.ExecutePreprocessor.timeout = 30\n")
    ids: dict[str, dict] = {f: {} for f in FOLDERS}
    for f in FOLDERS:
        nb = nbgrader_notebook(f, reference_source(f), expected_values(f), ids[f])
        nbformat.write(nb, str(course / "source" / "ps" / f"{COURSE.assignment(f).module}.ipynb"))
    nbg = [str(python), "-m", "nbgrader"]
    timed(nbg + ["generate_assignment", "ps", "--force"], course)
    for name in students:
        timed(nbg + ["db", "student", "add", name], course)
    release = {f: nbformat.read(str(course / "release" / "ps" /
                                    f"{COURSE.assignment(f).module}.ipynb"), 4) for f in FOLDERS}
    # -- the same students, both ways
    ours = work / "ours"
    for name, sources in students.items():
        for f, source in sources.items():
            a = COURSE.assignment(f)
            target = ours / name / f / f"{a.module}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(notebook_text(a, source))
            nb = nbformat.from_dict(json.loads(json.dumps(release[f])))
            _, chunks = _chunks(source)
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
                if grade_id.startswith("sol-") and grade_id[4:] in chunks:
                    cell.source = chunks[grade_id[4:]]
            sub = course / "submitted" / name / "ps" / f"{a.module}.ipynb"
            sub.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(sub))
    only = sum((["--assignment", f] for f in FOLDERS), [])
    py = sys.executable
    first = next(iter(students))
    timed([py, "-m", "grader", "grade", str(ours / first), "--results", str(work / "r1")] + only,
          ROOT)  # fills the expected-value store, as an instructor's first run does
    one_ours = timed([py, "-m", "grader", "grade", str(ours / first), "--results",
                      str(work / "r1")] + only, ROOT)
    one_nbg = timed(nbg + ["autograde", "ps", "--student", first, "--force"], course)
    class_ours = timed([py, "-m", "grader", "batch", str(ours), "--results", str(work / "rb"),
                        "--force"] + only, ROOT)
    class_nbg = timed(nbg + ["autograde", "ps", "--force"], course)
    print(f"{args.students} students x 2 notebooks (01 and 04), one looping forever in 01")
    print(f"one student:  this grader {one_ours:6.1f} s   nbgrader {one_nbg:6.1f} s   "
          f"nbgrader / this = {one_nbg / one_ours:.1f}x")
    print(f"the class:    this grader {class_ours:6.1f} s   nbgrader {class_nbg:6.1f} s   "
          f"nbgrader / this = {class_nbg / class_ours:.1f}x")
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
