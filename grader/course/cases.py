"""Seeds and concrete cases: public ones from fixed seeds, hidden ones from the secret."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import numpy as np

from grader.course.spec import Assignment, Case, Check

SECRET_ENV = "GRADER_SECRET"
SECRET_FILE = ".grader-secret"
DEV_SECRET = "development-secret-not-for-real-grading"
MIN_SECRET_CHARS = 16
MAKE_SECRET = "python -m grader secret"
"""The command that writes a new secret to ``.grader-secret`` (what an error tells you)."""


class SecretError(ValueError):
    """A secret that was asked for cannot be used (unreadable, empty, too short)."""


def new_secret() -> str:
    """A fresh secret: 32 random bytes, as hex."""
    return secrets.token_hex(32)


def _checked(secret: str, where: str) -> str:
    secret = secret.strip()
    if secret == DEV_SECRET:
        raise SecretError(f"{where} holds the development secret, which ships with the grader; "
                          f"make a real one with `{MAKE_SECRET}`")
    if len(secret) < MIN_SECRET_CHARS:
        raise SecretError(f"{where} holds {len(secret)} characters; a secret needs at least "
                          f"{MIN_SECRET_CHARS} (make one with `{MAKE_SECRET}`)")
    return secret


def load_secret(path: str | os.PathLike | None = None, root: Path | None = None) -> tuple[str, bool]:
    """The hidden-case secret and whether it is a real one.

    Looked up in order: an explicit file, ``$GRADER_SECRET``, ``<root>/.grader-secret``.
    Without any, a fixed development secret is used and hidden cases are predictable. One
    that is given but unusable (missing, unreadable, empty, too short) is a ``SecretError``:
    never silently replaced by the development secret.
    """
    if path is not None:
        try:
            return _checked(Path(path).read_text(), str(path)), True
        except OSError as exc:
            raise SecretError(f"cannot read the secret file {path}: "
                              f"{exc.strerror or exc}") from None
    if os.environ.get(SECRET_ENV, "").strip():
        return _checked(os.environ[SECRET_ENV], f"${SECRET_ENV}"), True
    candidate = (root or Path.cwd()) / SECRET_FILE
    if candidate.is_file():
        try:
            return _checked(candidate.read_text(), str(candidate)), True
        except OSError as exc:
            raise SecretError(f"cannot read {candidate}: {exc.strerror or exc}") from None
    return DEV_SECRET, False


def case_seed(*parts: str) -> int:
    """A stable 31-bit seed from strings (stable across runs, machines and Python versions)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def secret_id(secret: str) -> str:
    """A short fingerprint of the secret, safe to record in results."""
    return hashlib.sha256(("id:" + secret).encode()).hexdigest()[:12]


def hidden_seed(secret: str, *parts: str) -> int:
    """A hidden case's 31-bit seed: an HMAC keyed by the secret, so that without the secret
    no one can compute it (nor the inputs drawn from it) from the course's shipped files."""
    digest = hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def build_cases(assignment: Assignment, check: Check, secret: str,
                include_hidden: bool = True) -> list[Case]:
    cases = []
    for spec in check.cases:
        if spec.hidden and not include_hidden:
            continue
        parts = (assignment.folder, check.name, spec.id)
        seed = hidden_seed(secret, *parts) if spec.hidden else case_seed("public", *parts)
        inputs = spec.make(np.random.default_rng(seed))
        cases.append(Case(spec.id, spec.hidden, seed, inputs))
    return cases


def needs_torch(course) -> bool:
    """Whether any check of ``course`` hands the student a tensor or a torch object (a
    probe other than the NumPy ones, a ``tensor`` or ``rng("torch")`` marker in a public
    case): a NumPy-only course never imports torch (2 s of a cold start)."""
    def tensors(value) -> bool:
        if isinstance(value, dict):
            return ("__tensor__" in value or value.get("__rng__") == "torch"
                    or any(tensors(v) for v in value.values()))
        return isinstance(value, (list, tuple)) and any(tensors(v) for v in value)
    for a in course:
        for c in a.checks:
            if c.probe_name not in ("call", "descent"):
                return True
            try:
                if any(tensors(case.inputs) for case in
                       build_cases(a, c, secret="", include_hidden=False)):
                    return True
            except Exception:  # a broken case maker: grading says so, as a course error
                continue
    return False
