"""Importing an LMS export: a Canvas or Gradescope submissions zip into ``submissions/``.

Files are matched to the contract by name (``<module>.py`` or ``.ipynb`` belongs to the
assignment whose module it is, whatever folder or prefix the LMS put around it). Only base names are
used, so an entry like ``../../etc/x`` cannot write outside the target.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.course.spec import Assignment

MAX_UNPACKED = 200 << 20
CANVAS = re.compile(r"^(?P<student>[^_/]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_"
                    r"(?P<file>.+)$")
"""Canvas's names: ``<sortable name>[_LATE]_<user id>_<attachment id>_<file name>``. The
submission time is not in the zip (its entries carry the time the zip was made): ``LATE`` is
what Canvas says of it, against Canvas's own due date."""
GRADESCOPE_DIR = re.compile(r"^submission_(?P<sid>\d+)$")


@dataclass
class ImportReport:
    placed: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    students: set[str] = field(default_factory=set)
    canvas_ids: dict[str, str] = field(default_factory=dict)
    """Student folder -> Canvas user id (from Canvas's file names), for grade export."""
    renamed: list[str] = field(default_factory=list)
    """One line per name shared by several students: the distinct folders they got."""
    left_out: list[str] = field(default_factory=list)
    """Entries that are not plain files (links, devices, FIFOs): never written."""
    replaced: list[str] = field(default_factory=list)
    """One student's several files for the same contract file: which one was kept."""
    submitted: dict[str, dict] = field(default_factory=dict)
    """Student folder -> assignment folder -> {at (epoch or None), source, late}: what the
    LMS says of when it was submitted (Gradescope's ``:created_at:``, Canvas's ``LATE``)."""
    canvas_files: dict[str, dict] = field(default_factory=dict)
    """Student folder -> {name, uid, attachment}: what Canvas's "Re-Upload Submissions"
    needs to attach feedback to their submission."""


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    name: str
    """The student's name as the LMS wrote it (slugged into a folder)."""
    lms: str
    """``canvas`` or ``gradescope``."""
    lms_id: str
    """Who the student is for the LMS: Canvas's user id, Gradescope's submission id."""
    filename: str
    late: bool = False
    """Canvas named it ``_LATE``."""
    attachment: str = ""
    """Canvas's attachment id of the file."""
    at: float | None = None
    """Gradescope's ``:created_at:`` of the submission (epoch seconds)."""


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


def _entries(archive: zipfile.ZipFile, report: ImportReport) -> list[_Entry]:
    """The archive's files with the student each belongs to; what is neither listed."""
    gs_names = _gradescope_names(archive)
    from grader.instructor.semester import gradescope_times
    meta = next((n for n in archive.namelist() if n.endswith("submission_metadata.yml")), None)
    gs_times = gradescope_times(archive.read(meta).decode("utf-8", "replace")) if meta else {}
    out = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        parts = PurePosixPath(info.filename).parts
        base = parts[-1]
        if base.endswith("submission_metadata.yml"):
            continue
        mode = info.external_attr >> 16
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # a link, device or FIFO: never made
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            report.left_out.append(f"{info.filename} ({kind})")
            continue
        gs = next((GRADESCOPE_DIR.match(p) for p in parts[:-1] if GRADESCOPE_DIR.match(p)), None)
        if gs:
            sid = gs.group("sid")
            out.append(_Entry(info, gs_names.get(sid, f"submission_{sid}"), "gradescope", sid,
                              base, at=gs_times.get(sid)))
            continue
        m = CANVAS.match(base)
        if m:
            out.append(_Entry(info, m.group("student"), "canvas", m.group("uid"),
                              m.group("file"), late=bool(m.group("late")),
                              attachment=m.group("sid")))
        else:
            report.unmatched.append(info.filename)
    return out


def _folders(entries: list[_Entry], known: dict[str, str], report: ImportReport
             ) -> dict[tuple[str, str], str]:
    """(LMS, id) -> student folder. Two students whose names make the same folder are never
    merged: each gets the folder with its LMS id appended (``smithjohn_2001``), except one
    an earlier import already placed in the plain folder (``known``: folder -> Canvas id)."""
    by_slug: dict[str, list[tuple[str, str]]] = {}
    for e in entries:
        ids = by_slug.setdefault(_slug(e.name), [])
        if (e.lms, e.lms_id) not in ids:
            ids.append((e.lms, e.lms_id))
    folders, used = {}, {}
    earlier = {uid: folder for folder, uid in known.items()}
    for slug, ids in by_slug.items():
        owner = known.get(slug)  # the Canvas id an earlier import placed in the plain folder

        def plain(lms: str, lms_id: str) -> bool:
            return owner == lms_id if owner is not None and lms == "canvas" else len(ids) == 1
        for lms, lms_id in ids:
            folder = slug if plain(lms, lms_id) else f"{slug}_{lms_id}"
            if lms == "canvas" and earlier.get(lms_id) in (slug, f"{slug}_{lms_id}"):
                folder = earlier[lms_id]  # where an earlier import placed this student
            while folder in used and used[folder] != (lms, lms_id):
                folder = f"{folder}_{lms_id}"
            used[folder] = (lms, lms_id)
            folders[(lms, lms_id)] = folder
        if any(folders[i] != slug for i in ids):
            why = f"{len(ids)} students share this name" if len(ids) > 1 else \
                f"an earlier import placed another student (Canvas id {owner}) in {slug}"
            report.renamed.append(f"{slug}: {why}; placed as "
                                  f"{', '.join(folders[i] for i in ids)} (the LMS id appended)")
    return folders


def _write(dest: Path, target: Path, data: bytes) -> None:
    """Written beside, then renamed over: a link already at ``dest`` is replaced, never
    followed; a folder that leads outside ``target`` is refused."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.parent.resolve().is_relative_to(target.resolve()):
        raise ValueError(f"{dest.parent} leads outside {target}")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def import_zip(zip_path: Path, target: Path, course: tuple[Assignment, ...],
               known: dict[str, str] | None = None) -> ImportReport:
    """Place the archive's contract files under ``target/<student>/``; ``known``: the
    Canvas ids earlier imports recorded by folder (``canvas.read_ids``)."""
    report = ImportReport()
    with zipfile.ZipFile(zip_path) as archive:
        if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED:
            raise ValueError(f"{zip_path.name} unpacks to more than {MAX_UNPACKED >> 20} MiB")
        entries = _entries(archive, report)
        folders = _folders(entries, known or {}, report)
        written: dict[str, str] = {}
        for e in entries:
            student = folders[(e.lms, e.lms_id)]
            if e.lms == "canvas":
                report.canvas_ids[student] = e.lms_id
            rel = contract_target(e.filename, course)
            if rel is None:
                report.unmatched.append(e.info.filename)
                continue
            place = f"{student}/{rel}"
            if place in written:
                report.replaced.append(f"{place}: {e.info.filename} was kept over "
                                       f"{written[place]} (later in the archive)")
            _write(target / student / rel, target, archive.read(e.info))
            written[place] = e.info.filename
            if place not in report.placed:
                report.placed.append(place)
            report.students.add(student)
            folder = rel.split("/")[0]
            if e.lms == "canvas":
                report.submitted.setdefault(student, {})[folder] = {
                    "at": None, "late": e.late,
                    "source": "Canvas's LATE marker (the zip carries no submission time)"
                    if e.late else "Canvas: not marked LATE (the zip carries no time)"}
                report.canvas_files.setdefault(student, {
                    "name": e.name, "uid": e.lms_id, "attachment": e.attachment})
            elif e.at is not None:
                report.submitted.setdefault(student, {})[folder] = {
                    "at": e.at, "late": False,
                    "source": "Gradescope's :created_at: (submission_metadata.yml)"}
    return report
