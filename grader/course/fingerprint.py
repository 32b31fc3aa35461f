"""Content hashes: of a student's submission, and of the grader itself (its version)."""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path


__version__ = "0.2.0"
"""The grader's release (``grader.__version__``); a grade also records the hashes below."""
ROOT = Path(__file__).resolve().parents[2]
IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".git"}


def tree_hash(folder: Path, suffixes: tuple[str, ...] | None = None) -> str:
    """SHA-256 of every file's relative path and bytes, in sorted order."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if IGNORED_PARTS & set(rel.parts) or (suffixes and path.suffix not in suffixes):
            continue
        h.update(str(rel).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@functools.cache
def grader_version(course_root: Path | None = None) -> str:
    """``__version__`` plus a hash of the engine and of the course (its checks, probes,
    references and catalogue): a change to either grades unchanged submissions again."""
    from grader.course.loader import default_root
    code = hashlib.sha256()
    for part in (ROOT / "grader", Path(course_root or default_root())):
        if part.is_dir():
            code.update(tree_hash(part, (".py", ".toml")).encode())
    return f"{__version__}+{code.hexdigest()[:10]}"


def engine_version() -> str:
    """``__version__`` plus a hash of the engine alone (read now, not remembered): what every
    node of a cluster must run alike, whatever course it grades."""
    return f"{__version__}+{tree_hash(ROOT / 'grader', ('.py',))[:10]}"
