"""Shared fixtures: one pool of warm workers for the whole suite, and submission builders."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.course.loader import strip_markers
from grader.course.loader import load_course
from grader.grade import Session
from grader.judge.expected import Expected
from grader.worker.pool import WorkerPool

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
SECRET = "test-secret"
COURSE = load_course()
"""The shipped course (``reference/``); course tests use it, engine tests build their own."""
assignment = COURSE.assignment


@pytest.fixture(scope="session")
def pool():
    with WorkerPool(size=2) as p:
        yield p


@pytest.fixture(scope="session")
def expected():
    return Expected()


@pytest.fixture(scope="session")
def grade(pool, expected):
    """grade(student_dir, *folders, include_hidden=True, max_timeout=5) -> StudentResult."""
    def run(student_dir, *folders, include_hidden=True, max_timeout=5.0, secret=SECRET,
            device="cpu", repair=False):
        # The repair search (tests/test_repair.py) is left out unless asked for: these
        # tests judge verdicts and hints, and a search costs up to seconds per failing name.
        course = tuple(assignment(f) for f in folders) if folders else COURSE
        session = Session(pool, course, device=device, secret=secret,
                          include_hidden=include_hidden, max_timeout=max_timeout,
                          expected=expected, repair=repair)
        return session.grade(Path(student_dir))
    return run


def reference_source(folder: str) -> str:
    a = assignment(folder)
    return strip_markers((ROOT / "reference" / folder / f"{a.module}.py").read_text())


def write_submission(root: Path, folder: str, source: str) -> Path:
    a = assignment(folder)
    path = root / folder / f"{a.module}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return root


def mutate(source: str, replacements: list[tuple[str, str]]) -> str:
    """The reference with textual replacements; each must apply (or the test is stale)."""
    for old, new in replacements:
        assert old in source, f"mutation no longer applies: {old!r}"
        source = source.replace(old, new)
    return source


@pytest.fixture
def student(tmp_path):
    """student(folder, source) -> a student folder holding that one module."""
    def make(folder: str, source: str, name: str = "student") -> Path:
        return write_submission(tmp_path / name, folder, source)
    return make


@pytest.fixture
def fixture_student(tmp_path):
    """A copy of a submission under tests/submissions (copied: grading must not touch it)."""
    def make(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(SUBMISSIONS / name, target)
        return target
    return make


def scores(result) -> dict[str, float]:
    return {c.name: c.score for c in result.checks()}


def broken(result) -> set[str]:
    """Contract names that lost points."""
    return {c.name for c in result.checks() if c.score < c.max_score - 1e-9}


def messages(result, name: str) -> str:
    check = next(c for c in result.checks() if c.name == name)
    return "\n".join(c.message for c in check.cases)
