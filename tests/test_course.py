"""The course is data (issue 13): an instructor's course folder, graded by an engine that
knows no exercise; a bad course is one clear error; one judge for every path.

The tests here build their own courses in temporary folders; only the grep and the
one-judge test look at the shipped course.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import COURSE, ROOT, SUBMISSIONS
from grader.course.loader import CourseError, load_course

TOML = """\
title = "A tiny course"
points = 10

[[assignment]]
folder = "01_vectors"
module = "vectors"
title = "Vectors by hand"
points = 10
"""

REFERENCE = '''\
"""Vectors by hand."""
import numpy as np


def norm2(v):
    """The squared Euclidean norm of ``v`` as a float."""
    ### BEGIN SOLUTION
    return float(np.dot(v, v))
    ### END SOLUTION


def normalize_(v):
    """Scale ``v`` in place to unit length; return None."""
    ### BEGIN SOLUTION
    v /= np.sqrt(np.dot(v, v))
    ### END SOLUTION
'''

CHECKS = '''\
"""Checks of 01_vectors."""
from grader.course.spec import Check, random_cases

from .probes import in_place


def _vector(rng):
    return {"args": [rng.normal(0.0, 2.0, int(rng.integers(3, 9)))]}


CHECKS = (
    Check("norm2", 4, "call", kind="value", cases=random_cases(_vector)),
    Check("normalize_", 6, in_place, kind="value", cases=random_cases(_vector)),
)
'''

# A probe only this course needs: the exercise modifies its argument, which the engine's
# ``call`` probe counts as a mistake.
PROBES = '''\
"""Probes only 01_vectors needs."""
from grader.course.probes import describe, materialize, probe
from grader.course.spec import Report


@probe(reports={"after": Report("the vector after the call"),
                "returned": Report("what it returns")})
def in_place(module, name, inputs, device):
    (v,) = materialize(inputs["args"], device)
    returned = getattr(module, name)(v)
    return {"after": describe(v), "returned": describe(returned)}
'''

MISTAKES = '''\
from grader.course.spec import Mistake

MISTAKES = (
    Mistake("01_vectors", "norm2", "square root taken",
            "you took the square root: the squared norm has none",
            replace=(("return float(np.dot(v, v))", "return float(np.sqrt(np.dot(v, v)))"),)),
)
'''

STUDENT_RIGHT = '''\
def norm2(v):
    total = 0.0
    for x in v:
        total += x * x
    return total


def normalize_(v):
    length = sum(x * x for x in v) ** 0.5
    for i in range(len(v)):
        v[i] = v[i] / length
'''

STUDENT_WRONG = '''\
import math


def norm2(v):
    return math.sqrt(sum(x * x for x in v))


def normalize_(v):
    return v / math.sqrt(sum(x * x for x in v))   # a copy: the argument is left as it was
'''


def write_course(root: Path, **overrides) -> Path:
    files = {"course.toml": TOML, "01_vectors/vectors.py": REFERENCE,
             "01_vectors/checks.py": CHECKS, "01_vectors/probes.py": PROBES,
             "01_vectors/mistakes.py": MISTAKES, "01_vectors/lesson.md": "## intro\n# Vectors\n",
             "01_vectors/README.md": "# Vectors\nWrite `norm2` and `normalize_`.\n"}
    files.update(overrides)
    for rel, text in files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def cli(*args, cwd=ROOT, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def student(root: Path, source: str) -> Path:
    (root / "01_vectors").mkdir(parents=True)
    (root / "01_vectors" / "vectors.py").write_text(source)
    return root


def test_a_new_course_is_assigned_graded_checked_and_released_with_no_engine_change(tmp_path):
    course = write_course(tmp_path / "course")
    assign = cli("assign", "--course", str(course), "--out", str(tmp_path / "assignments"))
    assert assign.returncode == 0, assign.stderr
    stub = (tmp_path / "assignments" / "01_vectors" / "vectors.py").read_text()
    assert "raise NotImplementedError" in stub and "np.dot(v, v)" not in stub
    assert (tmp_path / "assignments" / "01_vectors" / "README.md").is_file()
    assert (tmp_path / "assignments" / "01_vectors" / "vectors.ipynb").is_file()

    right = student(tmp_path / "subs" / "ada", STUDENT_RIGHT)
    wrong = student(tmp_path / "subs" / "bob", STUDENT_WRONG)
    for who, want in ((right, 10), (wrong, 0)):
        graded = cli("grade", str(who), "--course", str(course), "--device", "cpu",
                     "--results", str(tmp_path / "results"))
        assert graded.returncode == 0, graded.stderr
        assert f"Total: {want:g}/10" in graded.stdout, graded.stdout
    report = (tmp_path / "results" / "bob" / "results.json").read_text()
    assert "you took the square root" in report  # the course's own catalogue
    assert "the vector after the call" in report  # the course probe's declared label
    # a mistake this course's catalogue does not know: the engine's generic diagnoses name it
    averaged = student(tmp_path / "subs" / "cy", STUDENT_RIGHT.replace(
        "    return total\n", "    return total / len(v)\n"))
    graded = cli("grade", str(averaged), "--course", str(course), "--device", "cpu",
                 "--results", str(tmp_path / "results"))
    assert "Total: 6/10" in graded.stdout, graded.stdout
    assert "divided by N" in graded.stdout, graded.stdout

    checked = cli("check", "norm2", "--course", str(course), "--dir", str(tmp_path / "subs" /
                                                                          "bob"))
    assert checked.returncode == 0, checked.stderr
    assert "0/3 public cases" not in checked.stdout  # terminal self-check: a report per check
    assert "norm2" in checked.stdout and "you took the square root" in checked.stdout

    release = cli("release", str(tmp_path / "dist"), "--course", str(course),
                  "--assignments", str(tmp_path / "assignments"))
    assert release.returncode == 0, release.stderr
    shipped = {p.relative_to(tmp_path / "dist").as_posix() for p in (tmp_path / "dist").rglob("*")
               if p.is_file()}
    shipped_course = "grader/_course/"
    assert {shipped_course + n for n in ("course.toml", "01_vectors/checks.py",
                                         "01_vectors/probes.py", "public_expected.json")} <= shipped
    assert not any(n.endswith(("vectors.py", "mistakes.py", "lesson.md")) and
                   n.startswith(shipped_course) for n in shipped)
    assert not any(n.startswith("grader/instructor") for n in shipped)
    (tmp_path / "dist" / "assignments" / "01_vectors" / "vectors.py").write_text(STUDENT_RIGHT)
    in_bundle = cli("check", "--device", "cpu", cwd=tmp_path / "dist")
    assert in_bundle.returncode == 0, in_bundle.stderr
    assert "Total: 10/10" in in_bundle.stdout, in_bundle.stdout


def test_the_engine_names_no_exercise_of_the_shipped_course():
    names = {c.name for a in COURSE for c in a.checks} | {a.folder for a in COURSE}
    assert len(names) > 30
    found = []
    for path in (ROOT / "grader").rglob("*.py"):
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {n}" for n in names
                  if re.search(rf"\b{re.escape(n)}\b", text)]
    assert not found, found


BAD_COURSES = {
    "a contract name twice": (
        {"course.toml": TOML.replace("points = 10\n", "points = 20\n", 1)
         + TOML.split("\n\n", 1)[1].replace("01_vectors", "02_copy"),
         "02_copy/vectors.py": REFERENCE,
         "02_copy/checks.py": 'from grader.course.spec import Check, random_cases\n\n'
                              'CHECKS = (Check("norm2", 10, "call", cases=random_cases(\n'
                              '    lambda rng: {"args": [rng.normal(0, 1, 3)]})),)\n'},
        r"02_copy/checks\.py: the contract name 'norm2' is already checked in 01_vectors"),
    "points that do not add up": (
        {"01_vectors/checks.py": CHECKS.replace('"norm2", 4', '"norm2", 5')},
        r"01_vectors/checks\.py: 01_vectors: checks give 11(\.0)? points, not 10"),
    "an unknown probe": (
        {"01_vectors/checks.py": CHECKS.replace('"norm2", 4, "call"', '"norm2", 4, "cal"')},
        r"01_vectors/checks\.py: check 'norm2': unknown probe 'cal'"),
    "an unknown kind": (
        {"01_vectors/checks.py": CHECKS.replace('kind="value", cases=random_cases(_vector)),\n'
                                                '    Check("normalize_"',
                                                'kind="valu", cases=random_cases(_vector)),\n'
                                                '    Check("normalize_"')},
        r"01_vectors/checks\.py: cannot be imported: ValueError: norm2: unknown kind 'valu'"),
    "a catalogue entry that does not apply": (
        {"01_vectors/mistakes.py": MISTAKES.replace("return float(np.dot(v, v))\"",
                                                    "return np.dot(v, v)\"")},
        r"01_vectors/mistakes\.py: mistake 'square root taken' \(norm2\): the text to replace "
        r"is not in the reference"),
    "a checked name the reference lacks": (
        {"01_vectors/vectors.py": REFERENCE.replace("def norm2(", "def norm_2(")},
        r"01_vectors/vectors\.py: defines no `norm2`"),
    "no checks file": ({"01_vectors/checks.py": None}, r"no 01_vectors/checks\.py"),
}


@pytest.mark.parametrize("case", sorted(BAD_COURSES))
def test_a_bad_course_is_one_error_naming_the_file_and_the_entry(case, tmp_path):
    overrides, pattern = BAD_COURSES[case]
    course = write_course(tmp_path / "course", **overrides)
    with pytest.raises(CourseError, match=pattern):
        load_course(course)
    proc = cli("check", "--course", str(course), "--dir", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: the course is not valid: ")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_one_judge_self_check_and_public_grading_agree_case_by_case(grade):
    """The held-out style fixtures (the demo, Python loops), judged by `check` in the
    student's process and by `grade --public-only` in a worker: same verdicts, messages and
    hints, case by case."""
    from grader import selfcheck
    from grader.worker.student import load_module
    folders = [SUBMISSIONS / "loops", ROOT / "submissions" / "demo"]
    compared = 0
    for folder in folders:
        graded = grade(folder, include_hidden=False)
        for a in graded.assignments:
            if a.source is None or not a.source.endswith(".py"):
                continue
            module = load_module(str(folder / a.source), f"_judge_{a.module}")
            for check in a.checks:
                report = selfcheck.check(check.name, dict(vars(module)))
                assert [c.id for c in report.cases] == [c.id for c in check.cases]
                for mine, theirs in zip(report.cases, check.cases):
                    assert mine.passed == (theirs.status == "passed"), (check.name, mine.id)
                    assert theirs.message in mine.message, (check.name, mine.id)
                    if theirs.hint:
                        assert theirs.hint in mine.message, (check.name, mine.id)
                    compared += 1
    assert compared >= 80
