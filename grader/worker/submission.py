"""A student's folder, read and never followed; which of its files is graded.

``read_folder`` is the only way the grader reads a submission. It walks the folder by file
descriptor: every entry is ``lstat``-ed, every directory and file opened relative to its
parent with ``O_NOFOLLOW`` and checked again with ``fstat``, and bytes are copied. So a
symbolic link (to the reference, to the secret) is never followed, and a hard link whose
other names are outside the submission, a device, a FIFO or a socket is left out too, with
a note naming it that reaches the student's report and ``results.json``.

``collect`` writes what was read into a private folder that the student's code is graded
from (nothing else writes there), and decides at that moment, before any student code runs,
which file of each assignment is graded (``choose``): nothing another student's process does
later (re-dating a classmate's notebook, changing its mode) can change the decision.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.course.fingerprint import IGNORED_PARTS
from grader.course.spec import Assignment

MAX_SUBMISSION_BYTES = 64 << 20
"""The most a student's folder may hold; files past it are left out (code files first)."""
MAX_ENTRIES = 5000
"""The most files and folders read from one submission; the rest are left out."""
MAX_DEPTH = 32
PAST_NAMED = 20
"""How many of the entries past MAX_ENTRIES or MAX_DEPTH are named one by one; the rest are
counted in one line (20,000 files once made 15,000 lines and a 3.5 MB results.json)."""
_PAST = f"past the {MAX_ENTRIES} files or {MAX_DEPTH} folders deep a submission may hold"
MAX_PATH_BYTES = 1024
"""The longest path read inside a submission (its names may each take 255 bytes): the private
copy, under a longer folder, stays far within the system's 4096."""
WORKED_IN = 60.0
"""Seconds by which a notebook must be newer than the .py to count as the one worked in
(a fresh checkout or unzip writes both within a second or two)."""
NEVER_FOLLOWED = "a submission is read, never followed"

# POSIX flags (Windows has none of them: a student's self-check there never reads by these).
_CLOEXEC, _NOFOLLOW = getattr(os, "O_CLOEXEC", 0), getattr(os, "O_NOFOLLOW", 0)
_READ = os.O_RDONLY | _CLOEXEC | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | \
    getattr(os, "O_NOCTTY", 0)
_DIR = os.O_RDONLY | _CLOEXEC | _NOFOLLOW | getattr(os, "O_DIRECTORY", 0)


@dataclass(frozen=True)
class Snapshot:
    """What was read of a folder: ``files`` (relative POSIX path -> bytes and the
    modification time as read) and ``left_out`` (relative path -> why)."""

    files: dict[str, tuple[bytes, float]]
    left_out: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """The content hash of ``fingerprint.tree_hash``, of what was read."""
        h = hashlib.sha256()
        for rel in sorted(self.files):
            h.update(str(PurePosixPath(rel)).encode() + b"\0")
            h.update(hashlib.sha256(self.files[rel][0]).digest())
        return h.hexdigest()


def left_out_note(rel: str, why: str) -> str:
    return f"left out of the submission: {rel} ({why}; {NEVER_FOLLOWED})"


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _read_fd(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


@dataclass
class _Walk:
    cap: int
    found: dict = field(default_factory=dict)
    left_out: dict = field(default_factory=dict)
    entries: int = 0
    total: int = 0
    past: int = 0


def read_folder(folder: Path, cap: int = MAX_SUBMISSION_BYTES) -> Snapshot:
    """Every regular file under ``folder`` (``__pycache__``, ``.git`` and notebook
    checkpoints skipped), never following a link; what is not read is named in
    ``left_out``. ``folder`` itself is the instructor's to name (it may be a link)."""
    walk = _Walk(cap)
    root = os.open(folder, os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY)
    try:
        _walk(root, "", 0, walk)
    finally:
        os.close(root)
    if walk.past > PAST_NAMED:
        walk.left_out[f"{walk.past - PAST_NAMED} more entries"] = f"{_PAST}, not named one by one"
    # A hard link is the file itself under another name: one whose other names are not all
    # inside the submission may be anything (the secret, the reference, a classmate's file).
    names: dict[tuple[int, int], int] = {}
    for st, _ in walk.found.values():
        names[(st.st_dev, st.st_ino)] = names.get((st.st_dev, st.st_ino), 0) + 1
    files = {}
    for rel, (st, data) in walk.found.items():
        if st.st_nlink > names[(st.st_dev, st.st_ino)]:
            walk.left_out[rel] = "a hard link to a file outside the submission"
        else:
            files[rel] = (data, st.st_mtime)
    return Snapshot(files, walk.left_out)


def not_text(name: str) -> bool:
    """Whether a name read from the disk is not UTF-8 text (Python keeps its stray bytes as
    lone surrogates, which no file, page or gradebook row can hold)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown_name(name: str) -> str:
    """A name read from the disk as text to show: stray bytes as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


class FolderUnreadable(Exception):
    """A student's folder that cannot be graded as it is: its name as shown, and why."""

    def __init__(self, name: str, why: str):
        super().__init__(f"{name}: {why}")
        self.name, self.why = name, why


def read_student(folder: Path) -> Snapshot:
    """:func:`read_folder` of one student's folder, or ``FolderUnreadable``: a name that is
    not UTF-8 text (it names the student in every page and the gradebook), or a folder that
    cannot be opened. What is inside is never a reason: it is left out and named."""
    if not_text(folder.name):
        raise FolderUnreadable(shown_name(folder.name),
                               "the folder's name is not UTF-8 text: rename it")
    try:
        return read_folder(folder)
    except OSError as exc:
        raise FolderUnreadable(folder.name, "the folder could not be read "
                                            f"({exc.strerror or exc})") from None


def _walk(dir_fd: int, prefix: str, depth: int, walk: _Walk) -> None:
    with os.scandir(dir_fd) as it:
        names = sorted(e.name for e in it)
    for name in names:
        rel = f"{prefix}{name}"
        if name in IGNORED_PARTS:
            continue
        walk.entries += 1
        if walk.entries > MAX_ENTRIES or depth > MAX_DEPTH:
            walk.past += 1
            if walk.past <= PAST_NAMED:
                walk.left_out[prefix + shown_name(name)] = _PAST
            continue
        if not_text(name):  # never a module's name; as text it would stop the batch
            walk.left_out[prefix + shown_name(name)] = "its name is not UTF-8 text"
            continue
        if len(rel.encode()) > MAX_PATH_BYTES:  # its copy could not be written
            walk.left_out[rel] = f"its path is longer than {MAX_PATH_BYTES} bytes"
            continue
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                sub = os.open(name, _DIR, dir_fd=dir_fd)
                try:
                    _walk(sub, rel + "/", depth + 1, walk)
                finally:
                    os.close(sub)
                continue
            if not stat.S_ISREG(st.st_mode):
                walk.left_out[rel] = _kind(st.st_mode)
                continue
            if walk.total + st.st_size > walk.cap:
                walk.left_out[rel] = f"past the {walk.cap >> 20} MiB a submission may hold"
                continue
            fd = os.open(name, _READ, dir_fd=dir_fd)
            try:
                opened = os.fstat(fd)
                if not stat.S_ISREG(opened.st_mode) or \
                        (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
                    walk.left_out[rel] = "replaced while it was read"
                    continue
                data = _read_fd(fd, walk.cap - walk.total)
                if walk.total + len(data) > walk.cap:
                    walk.left_out[rel] = f"past the {walk.cap >> 20} MiB a submission may hold"
                    continue
                walk.total += len(data)
                walk.found[rel] = (opened, data)
            finally:
                os.close(fd)
        except OSError as exc:
            walk.left_out[rel] = "a symbolic link" if exc.errno == errno.ELOOP else \
                f"unreadable: {exc.strerror or exc}"


def write_snapshot(snapshot: Snapshot, target: Path) -> None:
    """The files under ``target`` (created, private), with their recorded times."""
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for rel, (data, mtime) in snapshot.files.items():
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise ValueError(f"refused path {rel!r}")
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.utime(path, (mtime, mtime))


# --------------------------------------------------------------------------- the graded file
@dataclass(frozen=True)
class Located:
    path: Path | None
    note: str = ""
    rule: str = ""
    """How the file was chosen: ``only`` (one of the two), ``stub`` (the other is the
    untouched starter), ``dates`` (both worked on: the later one), ``missing``."""


def _lines(code: str) -> list[str]:
    return [ln.rstrip() for ln in code.replace("\r\n", "\n").split("\n") if ln.strip()]


_STUBS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]] | None] = {}


def _stub_code(assignment: Assignment) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The starter ``.py`` and the starter notebook's code, as lines: what ``make
    assignments`` hands out (None where this copy of the grader cannot tell)."""
    try:
        key = (str(assignment.reference_path), assignment.folder)
    except Exception:
        return None
    if key not in _STUBS:
        try:
            from grader.course.stubs import make_stub, notebook_text
            stub = make_stub(assignment.reference_path.read_text())
            _STUBS[key] = (tuple(_lines(stub)),
                           tuple(_lines(notebook_code(notebook_text(assignment, stub)))))
        except Exception:  # no course tools here (a student copy), or an unusual course
            _STUBS[key] = None
    return _STUBS[key]


def untouched(data: bytes, notebook: bool, assignment: Assignment) -> bool:
    """The file's code is the starter's as handed out (blank lines and trailing spaces
    aside; a notebook's outputs and metadata aside)."""
    stubs = _stub_code(assignment)
    if stubs is None:
        return False
    text = data.decode("utf-8-sig", "replace")
    return tuple(_lines(notebook_code(text) if notebook else text)) == stubs[notebook]


def choose(snapshot: Snapshot, assignment: Assignment) -> tuple[str | None, str, str]:
    """``(relative path or None, note, rule)``: the file of ``assignment`` to grade.

    With only one of ``<module>.py`` and ``<module>.ipynb``, that one. With both: the one
    the student worked in. A file whose code is still the starter's was not worked in, so
    the other is graded; when both (or neither) changed, the notebook if it was modified at
    least a minute after the ``.py``, else the ``.py``. The times are those read when the
    submission was collected, before any student code ran."""
    py = f"{assignment.folder}/{assignment.module}.py"
    nb = f"{assignment.folder}/{assignment.module}.ipynb"
    files = snapshot.files
    if py in files and nb in files:
        py_stub = untouched(files[py][0], False, assignment)
        nb_stub = untouched(files[nb][0], True, assignment)
        name = {py: PurePosixPath(py).name, nb: PurePosixPath(nb).name}
        if py_stub != nb_stub:
            chosen, other = (nb, py) if py_stub else (py, nb)
            return chosen, (f"both {name[py]} and {name[nb]} were found; {name[other]} is "
                            f"the starter file unchanged, so {name[chosen]} was graded"), "stub"
        newer = files[nb][1] - files[py][1] > WORKED_IN
        chosen, other = (nb, py) if newer else (py, nb)
        return chosen, (f"both {name[py]} and {name[nb]} were found; {name[chosen]}, "
                        f"modified last, was graded ({name[other]} was not)"), "dates"
    for rel in (py, nb):
        if rel in files:
            return rel, "", "only"
    note = f"no submission: expected {py} (or {PurePosixPath(nb).name})"
    gone = [f"{rel} is {snapshot.left_out[rel]}" for rel in (py, nb) if rel in snapshot.left_out]
    if gone:
        note += f"; {'; '.join(gone)} and was left out ({NEVER_FOLLOWED})"
    return None, note, "missing"


# --------------------------------------------------------------------------- collected
@dataclass
class Submission:
    """A student's folder as collected: a private copy (``root``), what was left out, and
    the file of each assignment graded, decided when it was collected."""

    name: str
    root: Path
    left_out: dict[str, str]
    """Relative path -> why it was not read."""
    chosen: dict[str, tuple[str | None, str, str]]
    """Assignment folder -> ``choose``'s answer."""
    digest: str = ""
    """The content hash of what was read (a batch skips students graded on the same)."""
    _owned: Path | None = None

    def locate(self, assignment: Assignment) -> Located:
        rel, note, rule = self.chosen[assignment.folder]
        under = assignment.folder + "/"
        notes = [note] + [left_out_note(r, why) for r, why in sorted(self.left_out.items())
                          if r.startswith(under) and f"{r} is {why}" not in note]
        return Located(self.root / rel if rel else None, "\n".join(n for n in notes if n), rule)

    def other_notes(self, course) -> list[str]:
        """Left-out files in no assignment's folder."""
        folders = tuple(a.folder + "/" for a in course)
        return [left_out_note(rel, why) for rel, why in sorted(self.left_out.items())
                if not rel.startswith(folders)]

    def record(self) -> dict:
        """What ``results.json`` keeps: the file graded per assignment and why, and what
        was left out."""
        return {"graded": {f: {"file": rel, "rule": rule, "why": note}
                           for f, (rel, note, rule) in self.chosen.items()},
                "left_out": [{"path": rel, "why": why}
                             for rel, why in sorted(self.left_out.items())]}

    def close(self) -> None:
        if self._owned is not None:
            shutil.rmtree(self._owned, ignore_errors=True)
            self._owned = None

    def __enter__(self) -> "Submission":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


RAM_FOLDER = Path("/dev/shm")
RAM_HEADROOM = 1 << 30
"""Free space a RAM folder keeps after a copy, or the copy goes to disk instead."""


def ram_folder(size: int) -> Path | None:
    """``RAM_FOLDER`` where it is writable and keeps ``RAM_HEADROOM`` free after ``size``
    more bytes; None (the temporary folder on disk) otherwise."""
    try:
        st = os.statvfs(RAM_FOLDER)
        if os.access(RAM_FOLDER, os.W_OK) and st.f_bavail * st.f_frsize > size + RAM_HEADROOM:
            return RAM_FOLDER
    except (OSError, AttributeError):  # no such folder; no statvfs at all (Windows)
        pass
    return None


class Copies:
    """Where collected copies go: a RAM folder (``/dev/shm``) while it has room to spare,
    else the temporary folder. Writing and removing a class's copies there costs a tenth of
    a disk's (300 students of 6 files: 0.25 s against 7 s on this machine's disk)."""

    def __init__(self):
        self.folders: dict[bool, Path] = {}

    def folder(self, size: int) -> Path:
        ram = ram_folder(size) is not None
        if ram not in self.folders:
            self.folders[ram] = Path(tempfile.mkdtemp(prefix="grader-copies-",
                                                      dir=RAM_FOLDER if ram else None))
        return self.folders[ram]

    def remove(self) -> None:
        for folder in self.folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        self.folders.clear()


def collect(student_dir: Path, course, name: str | None = None, into: Path | None = None,
            snapshot: Snapshot | None = None) -> Submission:
    """Read ``student_dir`` (or take ``snapshot``, already read), copy it into a fresh private
    folder (under ``into`` if given, else a temporary one, in RAM where there is room), and
    decide each assignment's graded file now. ``close`` removes the copy."""
    name = name or Path(student_dir).name
    snapshot = snapshot if snapshot is not None else read_folder(Path(student_dir))
    if into is None:
        copies = Copies()
        into = copies.folder(sum(len(d) for d, _ in snapshot.files.values()))
        holder = into  # removed whole by ``close``
    else:
        holder = Path(tempfile.mkdtemp(prefix="submission-", dir=into))
    holder = holder.resolve()
    root = holder / (re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip(".") or "student")
    try:
        write_snapshot(snapshot, root)
    except BaseException:
        shutil.rmtree(holder, ignore_errors=True)
        raise
    chosen = {a.folder: choose(snapshot, a) for a in course}
    return Submission(name, root, dict(snapshot.left_out), chosen, snapshot.digest(), holder)


# --------------------------------------------------------------------------- source text
def notebook_code(text: str) -> str:
    """The code cells of a notebook, in order (magics and shell lines dropped)."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError, RecursionError):
        return ""
    if not isinstance(cells, list):  # {"cells": 5}: no code (it once stopped the batch)
        return ""
    out = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(map(str, src)) if isinstance(src, list) else str(src)
        out.append("\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))))
    return "\n\n".join(out)


def source_text(data: bytes, notebook: bool) -> str:
    text = data.decode("utf-8-sig", errors="replace")  # an editor's byte-order mark: not code
    return notebook_code(text) if notebook else text


def source_code(path: Path) -> str:
    """A file's code as text: a ``.py`` file, or a notebook's code cells; read without
    following a link (an empty text if ``path`` is one). Read, never run."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        data = _read_fd(fd, MAX_SUBMISSION_BYTES)
    finally:
        os.close(fd)
    return source_text(data, path.suffix == ".ipynb")
