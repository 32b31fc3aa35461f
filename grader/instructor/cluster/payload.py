"""What crosses from the driver to a Dask worker and back, with no shared filesystem.

A student's folder goes as ``{relative path: (bytes, mtime)}``, read from the copy the batch
collected (``submission.collect``: no link followed), under a size cap, with what the driver
decided when it collected it (which file of each assignment is graded, what was left out): the
worker grades exactly that and decides nothing again. The course goes once per worker as a
gzipped tar. A result comes back as the ``StudentResult`` dataclass the worker's trusted grader
built; the one field that points at course objects (a picture's check) travels as its name.
"""
from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath

from grader.course.fingerprint import IGNORED_PARTS
from grader.judge.results import StudentResult
from grader.worker.submission import Snapshot, Submission, read_folder, write_snapshot

MAX_STUDENT_BYTES = 16 << 20
"""The most one student's folder may weigh on its way to a worker."""


class SubmissionTooLarge(ValueError):
    """A student's folder is over ``MAX_STUDENT_BYTES``."""


Files = dict[str, tuple[bytes, float]]


def pack_student(folder: Path, cap: int = MAX_STUDENT_BYTES) -> Files:
    """The folder's files, read by ``submission.read_folder`` (never following a link)."""
    snapshot = read_folder(folder, cap)
    if any(why.startswith("past the") for why in snapshot.left_out.values()):
        raise SubmissionTooLarge(f"{folder.name}'s folder is over {cap >> 20} MiB, the most "
                                 "a student may send to a cluster worker; grade this "
                                 "student without --cluster, or remove what is not code")
    return snapshot.files


def decisions(submission: Submission) -> dict:
    """What the driver decided when it collected the student (plain data, for the task)."""
    return {"left_out": dict(submission.left_out),
            "chosen": {f: list(c) for f, c in submission.chosen.items()}}


def unpack_student(files: Files, target: Path, name: str = "",
                   decided: dict | None = None) -> Submission:
    """Write the files under ``target`` (a path that would leave it is refused): the
    submission as the driver collected it, with the driver's decisions."""
    write_snapshot(Snapshot(files), target)
    decided = decided or {"left_out": {}, "chosen": {}}
    return Submission(name or target.name, target, dict(decided["left_out"]),
                      {f: tuple(c) for f, c in decided["chosen"].items()})


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
