"""What crosses from the driver to a Dask worker and back, with no shared filesystem.

A student's folder goes as ``{relative path: (bytes, mtime)}`` (mtimes matter: of a ``.py`` and
an ``.ipynb`` the newer is graded), under a size cap; the course goes once per worker as a
gzipped tar. A result comes back as the ``StudentResult`` dataclass the worker's trusted grader
built; the one field that points at course objects (a picture's check) travels as its name.
"""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path, PurePosixPath

from ...fingerprint import IGNORED_PARTS
from ...results import StudentResult

MAX_STUDENT_BYTES = 16 << 20
"""The most one student's folder may weigh on its way to a worker."""


class SubmissionTooLarge(ValueError):
    """A student's folder is over ``MAX_STUDENT_BYTES``."""


Files = dict[str, tuple[bytes, float]]


def pack_student(folder: Path, cap: int = MAX_STUDENT_BYTES) -> Files:
    files, total = {}, 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(folder)
        if IGNORED_PARTS & set(rel.parts):
            continue
        total += path.stat().st_size
        if total > cap:
            raise SubmissionTooLarge(f"{folder.name}'s folder is over {cap >> 20} MiB, the most "
                                     "a student may send to a cluster worker; grade this "
                                     "student without --cluster, or remove what is not code")
        files[rel.as_posix()] = (path.read_bytes(), path.stat().st_mtime)
    return files


def unpack_student(files: Files, target: Path) -> None:
    """Write the files under ``target``; a path that would leave it is refused."""
    for rel, (data, mtime) in files.items():
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise ValueError(f"refused path {rel!r}")
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (mtime, mtime))


def pack_course(root: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(root, arcname="course", filter=lambda info: None if IGNORED_PARTS &
                set(PurePosixPath(info.name).parts) else info)
    return buf.getvalue()


def unpack_course(data: bytes, target: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    return target / "course"


def detach(result: StudentResult) -> StudentResult:
    """Picture evidence names its check instead of holding it (course objects stay home)."""
    for check in result.checks():
        for case in check.cases:
            if case.evidence and not isinstance(case.evidence.get("check"), str):
                case.evidence = {**case.evidence, "check": case.evidence["check"].name}
    return result


def attach(result: StudentResult, course) -> StudentResult:
    """The driver's own check objects back into picture evidence."""
    for a in result.assignments:
        checks = {c.name: c for c in course.assignment(a.folder).checks}
        for check in a.checks:
            for case in check.cases:
                if case.evidence and isinstance(case.evidence.get("check"), str):
                    case.evidence = {**case.evidence, "check": checks[case.evidence["check"]]}
    return result
