"""The naive baseline: one fresh Python per student and assignment, grading in-process.

This is what a hand-rolled Gradescope script does: import torch, import the student's module
and the reference, run every case, compare. No confinement, no reuse. Used by
bench_batch.py for comparison only.
Usage: python bench/naive_grade.py STUDENT_DIR FOLDER
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course.cases import DEV_SECRET, build_cases  # noqa: E402
from grader.judge.compare import compare_outputs  # noqa: E402
from grader.course.loader import load_course  # noqa: E402

assignment = load_course().assignment
from grader.course.probes import run_probe  # noqa: E402
from grader.judge.expected import Expected  # noqa: E402
from grader.worker.student import load_module  # noqa: E402

student, folder = Path(sys.argv[1]), sys.argv[2]
a = assignment(folder)
expected = Expected()
score = 0.0
try:
    module = load_module(str(student / folder / f"{a.module}.py"), a.module)
except BaseException:
    module = None
for check in a.checks:
    cases = build_cases(a, check, DEV_SECRET)
    passed = 0
    for case in cases:
        try:
            actual = run_probe(module, check.probe, check.name, case.inputs, "cpu", case.seed)
            passed += compare_outputs(actual, expected.get(a, check, case, "cpu"),
                                      check.kind).passed
        except BaseException:
            pass
    score += check.points * passed / len(cases)
print(f"{student.name} {folder} {score:g}")
