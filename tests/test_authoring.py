"""The second worked example of docs/authoring.md is a real course: it validates, its
reference earns full marks, its generated stubs nothing, and the comparisons its checks ask
for (an exact Python float, a dict compared key by key) tell a wrong student what is wrong.
The engine knows nothing of it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SECRET
from grader.course.loader import load_course, strip_markers
from grader.grade import Session
from grader.course.stubs import write_assignments

EXAMPLE = ROOT / "docs" / "examples" / "metrics-course"
FOLDER, MODULE = "01_metrics", "metrics"


def _grade(pool, course, folder: Path):
    session = Session(pool, course.assignments, device="cpu", secret=SECRET, max_timeout=10.0,
                      repair=False)
    return {c.name: c for c in session.grade(folder).checks()}


def _student(root: Path, source: str) -> Path:
    (root / FOLDER).mkdir(parents=True)
    (root / FOLDER / f"{MODULE}.py").write_text(source)
    return root


def test_the_example_course_validates_with_the_documented_command(tmp_path):
    env = {**os.environ, "GRADER_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "grader", "validate", "--course", str(EXAMPLE)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is valid (2 checks" in proc.stdout and "1 catalogued mistakes" in proc.stdout


def test_the_example_reference_earns_everything_and_its_stubs_nothing(tmp_path, pool):
    course = load_course(EXAMPLE)
    reference = (EXAMPLE / FOLDER / f"{MODULE}.py").read_text()
    right = _grade(pool, course, _student(tmp_path / "right", strip_markers(reference)))
    assert {n: c.score for n, c in right.items()} == {"top1_accuracy": 4, "fit_regression": 6}
    write_assignments(course, tmp_path / "stubs")
    stubs = _grade(pool, course, tmp_path / "stubs")
    assert {n: c.score for n, c in stubs.items()} == {"top1_accuracy": 0, "fit_regression": 0}
    assert {c.status for ch in stubs.values() for c in ch.cases} == {"error"}


def test_a_wrong_type_and_a_wrong_dict_are_told_apart(tmp_path, pool):
    course = load_course(EXAMPLE)
    source = strip_markers((EXAMPLE / FOLDER / f"{MODULE}.py").read_text())
    wrong = source.replace(".float().mean().item()", ".float().mean()").replace(
        '"steps": n_steps}', '"steps": float(n_steps)}')
    checks = _grade(pool, course, _student(tmp_path / "wrong", wrong))
    first = checks["top1_accuracy"].cases[0]
    assert checks["top1_accuracy"].score == 0
    assert "expected a Python float, got a torch tensor of shape ()" in first.message, \
        first.message
    loop = checks["fit_regression"]
    assert loop.score == 0
    assert "the returned value['steps']: expected a Python int, got a float" in \
        loop.cases[0].message, loop.cases[0].message
    keys = source.replace('"final_loss": final', '"final": final')
    loop = _grade(pool, course, _student(tmp_path / "keys", keys))["fit_regression"]
    assert loop.score == 0
    assert "the keys do not match: missing key(s) 'final_loss'; unexpected key(s) 'final'" in \
        loop.cases[0].message, loop.cases[0].message


def test_the_engine_knows_nothing_of_the_example():
    names = ("metrics-course", "top1_accuracy", "fit_regression", "01_metrics")
    found = [f"{p.relative_to(ROOT)}: {n}" for p in (ROOT / "grader").rglob("*.py")
             for n in names if n in p.read_text()]
    assert not found, found


DROPOUT_TOML = '''title = "Dropout by hand"
points = 4

[[assignment]]
folder = "01_dropout"
module = "dropout"
title = "Inverted dropout"
points = 4
'''
DROPOUT_CHECKS = '''from grader.course.probes import rng, tensor
from grader.course.spec import Check, random_cases


def _case(rng_):
    x = rng_.normal(size=(int(rng_.integers(4, 9)), 5)) + 3.0
    return {"args": [tensor(x), 0.5, rng("torch", int(rng_.integers(1, 2**31)))]}


CHECKS = (Check("dropout", 4, "call", kind="value", cases=random_cases(_case)),)
'''
DROPOUT = '''import torch


def dropout(x, p, generator):
    """Inverted dropout: zero each entry with probability ``p``, drawn as
    ``torch.rand(x.shape, generator=generator) < p``, and scale the rest by 1/(1-p)."""
    ### BEGIN SOLUTION
    drop = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) < p
    return torch.where(drop, torch.zeros_like(x), x / (1 - p))
    ### END SOLUTION
'''


def test_a_torch_generator_marker_reaches_the_student_seeded(tmp_path, pool):
    """rng("torch", seed) hands the function a seeded torch.Generator: the reference, drawing
    from it, earns everything; a student drawing from the global RNG instead earns nothing."""
    root = tmp_path / "course"
    (root / "01_dropout").mkdir(parents=True)
    (root / "course.toml").write_text(DROPOUT_TOML)
    (root / "01_dropout" / "checks.py").write_text(DROPOUT_CHECKS)
    (root / "01_dropout" / "dropout.py").write_text(DROPOUT)
    course = load_course(root)
    right = strip_markers(DROPOUT)
    for name, source in (("right", right),
                         ("global", right.replace("generator=generator, ", ""))):
        (tmp_path / name / "01_dropout").mkdir(parents=True)
        (tmp_path / name / "01_dropout" / "dropout.py").write_text(source)
    session = Session(pool, course.assignments, device="cpu", secret=SECRET, max_timeout=10.0,
                      repair=False)
    good = next(session.grade(tmp_path / "right").checks())
    assert good.score == 4, [c.message for c in good.cases]
    bad = next(session.grade(tmp_path / "global").checks())
    assert bad.score == 0 and all(c.status != "error" for c in bad.cases), \
        [c.message for c in bad.cases]


def test_an_unknown_rng_kind_is_one_line():
    from grader.course.probes import rng
    try:
        rng("pytorch", 1)
    except ValueError as e:
        assert str(e) == "rng kind 'pytorch' is not one of generator, randomstate, torch"
    else:
        raise AssertionError("rng accepted an unknown kind")


def test_the_student_readme_is_titled_with_the_course(tmp_path):
    from grader.instructor.release import build_release
    course = load_course(EXAMPLE)
    write_assignments(course, tmp_path / "stubs")
    build_release(tmp_path / "student", course, tmp_path / "stubs")
    readme = (tmp_path / "student" / "README.md").read_text()
    assert readme.splitlines()[0] == "# Training metrics in PyTorch", readme[:200]
    assert "PyTorch course folder" not in readme


# A two-assignment course written from docs/authoring.md alone (issue 26, "Measure"): engine
# probes (`call`, `module_structure`, a torch.Generator marker) and course probes (an
# optimizer subclassing torch.optim.Optimizer, a training loop with early stopping returning
# a dict, with per-quantity tolerances and shares).
BLOCKS = ROOT / "docs" / "examples" / "blocks-course"
BLOCKS_POINTS = {"conv1d": 4, "dropout": 3, "LayerNorm": 3, "Momentum": 4,
                 "train_early_stopping": 6}


def test_the_blocks_course_validates(tmp_path):
    env = {**os.environ, "GRADER_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "grader", "validate", "--course", str(BLOCKS),
                           "--workers", "1", "--device", "cpu"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is valid (5 checks" in proc.stdout and "4 catalogued mistakes" in proc.stdout, \
        proc.stdout


def test_the_blocks_reference_earns_everything_and_its_stubs_nothing(tmp_path):
    from grader.worker.pool import WorkerPool
    course = load_course(BLOCKS)
    for a in course.assignments:
        reference = (BLOCKS / a.folder / f"{a.module}.py").read_text()
        (tmp_path / "right" / a.folder).mkdir(parents=True)
        (tmp_path / "right" / a.folder / f"{a.module}.py").write_text(strip_markers(reference))
    write_assignments(course, tmp_path / "stubs")
    with WorkerPool(size=1) as pool:
        right = _grade(pool, course, tmp_path / "right")
        stubs = _grade(pool, course, tmp_path / "stubs")
    assert {n: c.score for n, c in right.items()} == BLOCKS_POINTS, \
        {n: [x.message for x in c.cases] for n, c in right.items()}
    assert {n: c.score for n, c in stubs.items()} == dict.fromkeys(BLOCKS_POINTS, 0)
    assert {c.status for ch in stubs.values() for c in ch.cases} == {"error"}


def test_another_course_is_never_assigned_or_released_over_this_repositorys_stubs(tmp_path):
    """`assign --course DIR` once wrote DIR's stubs into assignments/ (beside this course's),
    and `release --course DIR` shipped this course's assignments with DIR's grader."""
    env = {**os.environ, "GRADER_CACHE": str(tmp_path / "cache")}
    for args, option in ((("assign",), "--out"), (("release", str(tmp_path / "dist")),
                                                   "--assignments")):
        proc = subprocess.run([sys.executable, "-m", "grader", *args, "--course", str(BLOCKS)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert f"needs {option} DIR" in proc.stderr, proc.stderr
    assert not (ROOT / "assignments" / "01_layers").exists()
    assert not (tmp_path / "dist").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "grader", "release", str(tmp_path / "dist"),
                           "--course", str(BLOCKS), "--assignments", str(empty)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "has no stubs for 01_layers, 02_training" in proc.stderr, \
        proc.stderr


def test_a_catalogued_cause_is_told_only_on_the_cases_it_reproduces(tmp_path):
    """A loop that never restores its best epoch *and* returns that epoch as a float: the
    catalogued "not restored" mistake once explained all four cases ("hint (all 4 cases)"),
    its witness compared without the check's exact-type rule (the float then matched), even
    where restoring changes nothing. The mistake alone is told exactly where it shows."""
    from grader.worker.pool import WorkerPool
    course = load_course(BLOCKS)
    a = course.assignment("02_training")
    check = a.check("train_early_stopping")
    source = strip_markers((BLOCKS / a.folder / f"{a.module}.py").read_text())
    alone = source.replace("    model.load_state_dict(best_state)\n", "")
    both = alone.replace('"best_epoch": best_epoch,', '"best_epoch": float(best_epoch),')
    assert alone != source and both.count("float(best_epoch)") == 1
    graded = {}
    with WorkerPool(size=1) as pool:
        session = Session(pool, (a,), device="cpu", secret=SECRET, max_timeout=10.0,
                          repair=False)
        for name, text in (("alone", alone), ("both", both)):
            (tmp_path / name / a.folder).mkdir(parents=True)
            (tmp_path / name / a.folder / f"{a.module}.py").write_text(text)
            graded[name] = next(c for c in session.grade(tmp_path / name).checks()
                                if c.name == check.name)
        cases = {c.id: c for c in session.cases(a, check)}
        shows = {}
        for cid, case in cases.items():  # where not restoring changes what is returned
            out = session.expected.get(a, check, case, "cpu")["result"]
            shows[cid] = int(out["items"][2]["value"]) != out["items"][0]["shape"][0] - 1
    assert 0 < sum(shows.values()) < len(shows), shows  # both kinds of case
    told = {c.id for c in graded["alone"].cases if "load the parameters" in c.hint}
    assert told == {cid for cid, s in shows.items() if s}
    assert all(c.status != "passed" for c in graded["both"].cases)  # the float costs each
    assert not [c.id for c in graded["both"].cases if "load the parameters" in c.hint]
