"""Expected values kept on disk between runs, so that grading one student starts from them.

With them, the outputs the diagnoser compared failures with (the catalogue's mistakes and the
reference on varied inputs, ``diagnose``): they are reference outputs too.

Computing every expected value means importing torch in the grader and running the reference
on every case (seconds). They depend only on the course's files, the engine's, the secret (the
hidden cases), the device and the versions of NumPy and torch: all of these make the key. A
file is checked, not trusted: it must carry that key and an HMAC over its content made with
the secret, so a file from another course, secret, version or machine, or one edited by hand,
is ignored (and recomputed), never believed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from grader.course.fingerprint import __version__

ENGINE = Path(__file__).resolve().parents[1]
FORMAT = 2
KEEP = 4
"""Stores kept per folder (the newest): other courses, secrets or devices graded there."""


def _versions() -> str:
    found = []
    for package in ("numpy", "torch"):
        try:
            found.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package}=none")
    return ";".join(found) + f";python={sys.version_info[:2]}"


def _tree_digest(root: Path, h, suffixes: tuple[str, ...] = ()) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc" and \
                (not suffixes or path.suffix in suffixes):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")


def store_key(course_root: Path, secret: str, device: str) -> str:
    """What expected values depend on, as one digest."""
    h = hashlib.sha256()
    h.update(f"format={FORMAT};grader={__version__};{_versions()};device={device}\0".encode())
    h.update(hashlib.sha256(("secret:" + secret).encode()).digest())
    _tree_digest(Path(course_root), h)  # every file: a course may load data files
    _tree_digest(ENGINE, h, (".py",))  # probes and the wire format shape every value
    return h.hexdigest()


class ExpectedStore:
    """``<folder>/expected-<key>.json``: every expected value of one course, secret and device."""

    def __init__(self, folder: Path, course_root: Path, secret: str, device: str):
        self.key = store_key(course_root, secret, device)
        self.path = Path(folder) / f"expected-{self.key[:24]}.json"
        self._mac_key = hashlib.sha256(("store:" + secret + self.key).encode()).digest()
        self.course_root = Path(course_root)
        self.loaded = 0

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._mac_key, body, hashlib.sha256).hexdigest()

    def load_into(self, expected, diagnoser=None) -> int:
        """Give ``expected`` (and ``diagnoser``) what the file holds; the number of values
        (0: none, or not believed)."""
        try:
            raw = json.loads(self.path.read_text())
            body = raw["body"].encode()
            if raw.get("key") != self.key or not hmac.compare_digest(raw.get("mac", ""),
                                                                     self._mac(body)):
                return 0
            content = json.loads(body)
            rows = [tuple(r) for r in content["expected"]]
            diagnoses = content.get("diagnoses", [])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return 0
        expected.preload(rows, self.course_root)
        if diagnoser is not None:
            diagnoser.preload(diagnoses, self.course_root)
        self.loaded = len(rows) + len(diagnoses)
        return self.loaded

    def save_from(self, expected, diagnoser=None) -> bool:
        """Write what ``expected`` (and ``diagnoser``) computed, when it holds more than was
        loaded; False when the folder cannot be written (grading goes on without it)."""
        rows = expected.export()
        diagnoses = diagnoser.export() if diagnoser is not None else []
        if len(rows) + len(diagnoses) <= self.loaded:
            return False
        body = json.dumps({"expected": [[*r[:5], r[5].decode() if isinstance(r[5], bytes)
                                         else r[5], r[6]] for r in rows],
                           "diagnoses": diagnoses})
        text = json.dumps({"key": self.key, "mac": self._mac(body.encode()), "body": body})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".expected-")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, self.path)
        except OSError:
            return False
        kept = sorted(self.path.parent.glob("expected-*.json"),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:  # older course states (and other courses) beyond a few
            old.unlink(missing_ok=True)
        self.loaded = len(rows) + len(diagnoses)
        return True
