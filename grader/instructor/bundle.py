"""Gradescope: the autograder bundle, and what ``run_autograder`` does inside it."""
from __future__ import annotations

import json
import shutil
import traceback
import zipfile
from pathlib import Path

from ..fingerprint import ROOT
from .importer import contract_target
from ..report import write_atomic

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


def _expected(course, staged: Path) -> Path:
    """Every expected value (CPU, the bundle's secret), and every output a failure would be
    compared with, computed here once, so that a run in Gradescope's container neither
    imports torch in the grader nor runs the reference; a container whose versions differ
    recomputes them (the store's key says so)."""
    from ..cases import load_secret
    from ..expected_store import ExpectedStore
    from ..grade import Session
    from ..worker.pool import WorkerPool
    secret, _ = load_secret(None, ROOT)
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


def build(target: Path, course) -> Path:
    """Write ``autograder.zip``: the two scripts, the grader, the course (as ``reference/``,
    where the grader finds it by default), the pinned deps, and the expected values."""
    import tempfile
    target.mkdir(parents=True, exist_ok=True)
    zip_path = target / "autograder.zip"
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        shutil.copytree(course.root, staged / "reference",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        stored = _expected(course, staged)
        _write_zip(zip_path, course, staged, stored)
    return zip_path


def _write_zip(zip_path: Path, course, staged: Path, stored: Path) -> None:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            z.writestr(info, text)
        z.write(ROOT / "requirements.lock", "requirements.lock")
        secret = ROOT / ".grader-secret"
        if secret.is_file():
            z.write(secret, ".grader-secret")
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
        unmatched = []
        for path in sorted((root / "submission").rglob("*")):
            if not path.is_file():
                continue
            rel = contract_target(path.name, course)
            if rel is None:
                unmatched.append(path.name)
                continue
            dest = student / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)
        student.mkdir(parents=True, exist_ok=True)
        payload = grade_folder(student)
        if unmatched:
            payload["output"] += "\nFiles not used (no contract name matches them): " + \
                ", ".join(unmatched)
    except Exception:
        payload = {"score": 0, "tests": [], "output": "The autograder itself failed; this is not "
                   "your fault and your instructor has been told.\n" + traceback.format_exc(-3)}
    write_atomic(results, json.dumps(payload, indent=2))
    return payload
