"""Seeds and concrete cases: public ones from fixed seeds, hidden ones from the secret."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .spec import Assignment, Case, Check

SECRET_ENV = "GRADER_SECRET"
SECRET_FILE = ".grader-secret"
DEV_SECRET = "development-secret-not-for-real-grading"


def load_secret(path: str | os.PathLike | None = None, root: Path | None = None) -> tuple[str, bool]:
    """The hidden-case secret and whether it is a real one.

    Looked up in order: an explicit file, ``$GRADER_SECRET``, ``<root>/.grader-secret``.
    Without any, a fixed development secret is used and hidden cases are predictable.
    """
    if path is not None:
        return Path(path).read_text().strip(), True
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV], True
    candidate = (root or Path.cwd()) / SECRET_FILE
    if candidate.is_file():
        return candidate.read_text().strip(), True
    return DEV_SECRET, False


def case_seed(*parts: str) -> int:
    """A stable 31-bit seed from strings (stable across runs, machines and Python versions)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def secret_id(secret: str) -> str:
    """A short fingerprint of the secret, safe to record in results."""
    return hashlib.sha256(("id:" + secret).encode()).hexdigest()[:12]


def build_cases(assignment: Assignment, check: Check, secret: str,
                include_hidden: bool = True) -> list[Case]:
    cases = []
    for spec in check.cases:
        if spec.hidden and not include_hidden:
            continue
        key = secret if spec.hidden else "public"
        seed = case_seed(key, assignment.folder, check.name, spec.id)
        inputs = spec.make(np.random.default_rng(seed))
        cases.append(Case(spec.id, spec.hidden, seed, inputs))
    return cases
