"""Gradescope: the autograder bundle, and what ``run_autograder`` does inside it."""
from __future__ import annotations

import json
import shutil
import traceback
import zipfile
from pathlib import Path, PurePosixPath

from grader.course.fingerprint import ROOT
from grader.instructor.importer import contract_target
from grader.report.student import write_atomic
from grader.worker.submission import Snapshot, left_out_note, read_folder, write_snapshot

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -r /autograder/source/requirements.lock
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source" && exec "$PY" -m grader gradescope-run --root "$ROOT"
"""


EXPECTED = "expected"
"""Where the bundle keeps the expected values it was built with (``expected_store``)."""


def bundle_secret(source: Path) -> str:
    """The secret a bundle was built with: its own ``.grader-secret``, and nothing else (not
    ``$GRADER_SECRET``: the expected values it carries were computed with this one). A bundle
    without a real secret never grades: its hidden cases would follow the development secret,
    which ships with the grader."""
    from grader.course.cases import MAKE_SECRET, SECRET_FILE, SecretError, load_secret
    path = source / SECRET_FILE
    if not path.is_file():
        raise SecretError(f"this bundle has no hidden-case secret ({path} is missing): rebuild "
                          f"it with `python -m grader gradescope` after `{MAKE_SECRET}`")
    return load_secret(path)[0]


def _expected(course, staged: Path, secret: str) -> Path:
    """Every expected value (CPU, the bundle's secret), and every output a failure would be
    compared with, computed here once, so that a run in Gradescope's container neither
    imports torch in the grader nor runs the reference; a container whose versions differ
    recomputes them (the store's key says so)."""
    from grader.judge.store import ExpectedStore
    from grader.grade import Session
    from grader.worker.pool import WorkerPool
    session = Session(WorkerPool(0), course, device="cpu", secret=secret)
    session.warm_expected()
    for a in session.course:  # and what a failure would be compared with
        for check in a.checks:
            for case in session.cases(a, check):
                session.diagnoser.warm(a, check, case, "cpu",
                                       session.expected.time_of(a, check, case, "cpu"))
    store = ExpectedStore(staged / EXPECTED, staged / "reference", secret, "cpu")
    store.save_from(session.expected, session.diagnoser)
    return store.path


def build(target: Path, course, secret: str) -> Path:
    """Write ``autograder.zip``: the two scripts, the grader, the course (as ``reference/``,
    where the grader finds it by default), the pinned deps, the expected values and the
    secret (``.grader-secret``) they were computed with, which the bundle grades with."""
    import tempfile
    target.mkdir(parents=True, exist_ok=True)
    zip_path = target / "autograder.zip"
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        shutil.copytree(course.root, staged / "reference",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        stored = _expected(course, staged, secret)
        _write_zip(zip_path, course, staged, stored, secret)
    return zip_path


def _write_zip(zip_path: Path, course, staged: Path, stored: Path, secret: str) -> None:
    from grader.course.cases import SECRET_FILE
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            z.writestr(info, text)
        z.write(ROOT / "requirements.lock", "requirements.lock")
        info = zipfile.ZipInfo(SECRET_FILE)
        info.external_attr = 0o600 << 16
        z.writestr(info, secret + "\n")
        for path in sorted((ROOT / "grader").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix == ".py":
                z.write(path, f"grader/{path.relative_to(ROOT / 'grader')}")
        for path in sorted((staged / "reference").rglob("*")):
            if path.is_file():
                z.write(path, f"reference/{path.relative_to(staged / 'reference')}")
        z.write(stored, f"{EXPECTED}/{stored.name}")


def run(root: Path, course, grade_folder) -> dict:
    """Place ``root/submission`` files by the contract, grade them, write the results file.

    ``grade_folder(path) -> dict`` grades a student folder and returns results.json's payload.
    Whatever happens, a results file is written (a fallback one when grading itself failed).
    """
    results = root / "results" / "results.json"
    student = root / "work" / "student"
    try:
        if student.exists():
            shutil.rmtree(student)
        # Read, never followed (``submission.read_folder``): a Git-based submission keeps its
        # links, and one to the reference or the secret must not be graded or shown.
        snapshot = read_folder(root / "submission")
        unmatched, placed = [], {}
        for rel_in, (data, mtime) in sorted(snapshot.files.items()):
            rel = contract_target(PurePosixPath(rel_in).name, course)
            if rel is None:
                unmatched.append(PurePosixPath(rel_in).name)
            else:
                placed[rel] = (data, mtime)
        write_snapshot(Snapshot(placed), student)
        payload = grade_folder(student)
        notes = [left_out_note(rel, why) for rel, why in sorted(snapshot.left_out.items())]
        if notes:
            payload["output"] += "\n" + "\n".join(notes)
            payload.setdefault("extra_data", {}).setdefault("submission", {})["left_out"] = \
                [{"path": rel, "why": why} for rel, why in sorted(snapshot.left_out.items())]
        if unmatched:
            payload["output"] += "\nFiles not used (no contract name matches them): " + \
                ", ".join(unmatched)
    except Exception:
        payload = {"score": 0, "tests": [], "output": "The autograder itself failed; this is not "
                   "your fault and your instructor has been told.\n" + traceback.format_exc(-3)}
    write_atomic(results, json.dumps(payload, indent=2))
    return payload
