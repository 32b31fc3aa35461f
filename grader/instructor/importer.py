"""Importing an LMS export: a Canvas or Gradescope submissions zip into ``submissions/``.

Files are matched to the contract by name (``<module>.py`` or ``.ipynb`` belongs to the
assignment whose module it is, whatever folder or prefix the LMS put around it). Only base names are
used, so an entry like ``../../etc/x`` cannot write outside the target.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..spec import Assignment

MAX_UNPACKED = 200 << 20
CANVAS = re.compile(r"^(?P<student>[^_/]+?)(?:_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
GRADESCOPE_DIR = re.compile(r"^submission_(?P<sid>\d+)$")


@dataclass
class ImportReport:
    placed: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    students: set[str] = field(default_factory=set)
    canvas_ids: dict[str, str] = field(default_factory=dict)
    """Student folder -> Canvas user id (from Canvas's file names), for grade export."""


def contract_target(filename: str, course: tuple[Assignment, ...]) -> str | None:
    """``<folder>/<module>.py`` for ``<module>-2.py`` (a resubmission), else None."""
    path = PurePosixPath(filename)
    stem = re.sub(r"-\d+$", "", path.stem)  # Canvas marks resubmissions as name-1.py
    for a in course:
        if stem == a.module and path.suffix in (".py", ".ipynb"):
            return f"{a.folder}/{a.module}{path.suffix}"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip()).strip("._") or "student"


def _gradescope_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """submission id -> a student name, from submission_metadata.yml (no YAML library needed)."""
    meta = next((n for n in archive.namelist() if n.endswith("submission_metadata.yml")), None)
    if meta is None:
        return {}
    names, current = {}, None
    for line in archive.read(meta).decode("utf-8", "replace").splitlines():
        m = re.match(r"^submission_(\d+):", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^\s*-?\s*:(email|name|sid):\s*(.+)$", line)
        if current and m and current not in names:
            value = m.group(2).strip().strip("'\"")
            names[current] = value.split("@")[0] if m.group(1) == "email" else value
    return names


def import_zip(zip_path: Path, target: Path, course: tuple[Assignment, ...]) -> ImportReport:
    report = ImportReport()
    with zipfile.ZipFile(zip_path) as archive:
        if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED:
            raise ValueError(f"{zip_path.name} unpacks to more than {MAX_UNPACKED >> 20} MiB")
        gs_names = _gradescope_names(archive)
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            base = parts[-1]
            student, filename, uid = None, base, None
            gs = next((GRADESCOPE_DIR.match(p) for p in parts[:-1] if GRADESCOPE_DIR.match(p)), None)
            if gs:
                student = gs_names.get(gs.group("sid"), f"submission_{gs.group('sid')}")
            else:
                m = CANVAS.match(base)
                if m:
                    student, filename, uid = m.group("student"), m.group("file"), m.group("uid")
            if student is None or base.endswith("submission_metadata.yml"):
                if not base.endswith("submission_metadata.yml"):
                    report.unmatched.append(info.filename)
                continue
            student = _slug(student)
            if uid:
                report.canvas_ids[student] = uid
            rel = contract_target(filename, course)
            if rel is None:
                report.unmatched.append(info.filename)
                continue
            dest = target / student / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(archive.read(info))
            report.placed.append(f"{student}/{rel}")
            report.students.add(student)
    return report
