"""The gradebook: an SQLite file with students, submissions, runs and per-test scores.

History is kept: every grading of a submission adds a ``grades`` row; the latest one per
student is what exports use. Each student's grade is stored whole in one transaction (a batch
stores the students that finished together in one), so a crash or a kill in the middle of a
batch leaves every earlier student's grade intact.
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from grader.report.student import gradescope
from grader.judge.results import StudentResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS students (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY, student_id INTEGER NOT NULL REFERENCES students(id),
    content_hash TEXT NOT NULL, first_seen REAL NOT NULL,
    UNIQUE (student_id, content_hash));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started REAL NOT NULL, finished REAL, grader_version TEXT NOT NULL,
    secret_id TEXT NOT NULL, device TEXT NOT NULL, command TEXT);
CREATE TABLE IF NOT EXISTS grades (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
    submission_id INTEGER NOT NULL REFERENCES submissions(id), graded_at REAL NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, public_only INTEGER NOT NULL,
    seconds REAL, results_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tests (
    grade_id INTEGER NOT NULL REFERENCES grades(id), name TEXT NOT NULL, assignment TEXT NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, output TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wrong_outputs (
    grade_id INTEGER NOT NULL REFERENCES grades(id), test TEXT NOT NULL, case_id TEXT NOT NULL,
    hidden INTEGER NOT NULL, signature TEXT NOT NULL, diagnosis TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lms_ids (
    student TEXT PRIMARY KEY, canvas TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_plans (
    run_id INTEGER NOT NULL REFERENCES runs(id), student TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS grades_by_submission ON grades (submission_id);
CREATE INDEX IF NOT EXISTS tests_by_grade ON tests (grade_id);
CREATE INDEX IF NOT EXISTS run_plans_by_run ON run_plans (run_id);
"""


class Gradebook:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(grades)")}
        if "grader_errors" not in columns:  # a gradebook written by grader 0.2 or older
            with self.db:
                self.db.execute("ALTER TABLE grades ADD COLUMN grader_errors INTEGER "
                                "NOT NULL DEFAULT 0")
        if "folder" not in {row[1] for row in self.db.execute("PRAGMA table_info(runs)")}:
            with self.db:  # the class folder a batch graded (``plan``): older ones had none
                self.db.execute("ALTER TABLE runs ADD COLUMN folder TEXT NOT NULL DEFAULT ''")
        self._lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    def start_run(self, grader_version: str, secret_id: str, device: str, command: str,
                  folder: str = "") -> int:
        """A new run, of the class folder ``folder`` ('' where it has none: ``outstanding``
        passes over it)."""
        with self._lock, self.db:
            cur = self.db.execute("INSERT INTO runs (started, grader_version, secret_id, device, "
                                  "command, folder) VALUES (?, ?, ?, ?, ?, ?)",
                                  (time.time(), grader_version, secret_id, device, command,
                                   folder))
            return cur.lastrowid

    def plan(self, run_id: int, students: list[str]) -> None:
        """The students a run sets out to grade, recorded before the first is graded: a
        batch stopped half-way (a signal, a kill, a full disk) leaves the rest on record
        (``outstanding``)."""
        with self._lock, self.db:
            self.db.executemany("INSERT INTO run_plans (run_id, student) VALUES (?, ?)",
                                [(run_id, name) for name in students])

    def outstanding(self) -> list[tuple[dict, list[tuple[str, bool]]]]:
        """For each class folder, its newest run (``id``, ``folder``, ``started``,
        ``finished``) and the students it set out to grade that no grade of it or of a
        later run covers, each with whether an older grade of theirs is on record: what an
        export of the gradebook would show stale or leave out. A batch sets out to grade
        every student of its folder whose files changed or were never graded, so a folder's
        newest plan is what is owed there (a student removed from it is owed nothing); a
        batch of another folder into the same gradebook settles nothing of this one's."""
        runs = self.db.execute(
            "SELECT id, folder, started, finished FROM runs r WHERE folder != '' AND id = "
            "(SELECT MAX(id) FROM runs WHERE folder = r.folder) ORDER BY id").fetchall()
        graded = ("SELECT 1 FROM grades g JOIN submissions s ON g.submission_id = s.id JOIN "
                  "students st ON s.student_id = st.id WHERE st.name = p.student")
        owed = []
        for run_id, folder, started, finished in runs:
            left = self.db.execute(
                f"SELECT p.student, EXISTS ({graded}) FROM run_plans p WHERE p.run_id = ? AND "
                f"NOT EXISTS ({graded} AND g.run_id >= p.run_id) ORDER BY p.student",
                (run_id,)).fetchall()
            if left:
                owed.append(({"id": run_id, "folder": folder, "started": started,
                              "finished": finished}, [(n, bool(older)) for n, older in left]))
        return owed

    def finish_run(self, run_id: int) -> None:
        with self._lock, self.db:
            self.db.execute("UPDATE runs SET finished = ? WHERE id = ?", (time.time(), run_id))

    def already_graded(self, student: str, content_hash: str, grader_version: str,
                       secret_id: str, device: str, public_only: bool) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM grades g JOIN submissions s ON g.submission_id = s.id "
            "JOIN students st ON s.student_id = st.id JOIN runs r ON g.run_id = r.id "
            "WHERE st.name = ? AND s.content_hash = ? AND r.grader_version = ? "
            "AND r.secret_id = ? AND r.device = ? AND g.public_only = ? "
            "AND g.grader_errors = 0 LIMIT 1",
            (student, content_hash, grader_version, secret_id, device, int(public_only))).fetchone()
        return row is not None

    def record(self, run_id: int, result: StudentResult, content_hash: str,
               payload: dict | None = None, text: str | None = None) -> None:
        """One transaction per student: all of it is stored, or none of it. ``payload``: its
        results.json, when already made (``text``: the same as JSON)."""
        self.record_many(run_id, [(result, content_hash, payload, text)])

    def record_many(self, run_id: int, graded: list[tuple]) -> None:
        """``(result, content hash, payload or None, its JSON text or None)`` of several
        students in one transaction: all of them are stored, or none."""
        with self._lock, self.db:
            for result, content_hash, payload, text in graded:
                payload = payload or gradescope(result)
                self._insert(run_id, result, content_hash, payload,
                             text if text is not None else json.dumps(payload))

    def _insert(self, run_id: int, result: StudentResult, content_hash: str, payload: dict,
                text: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO students (name) VALUES (?)", (result.student,))
        (student_id,) = self.db.execute("SELECT id FROM students WHERE name = ?",
                                        (result.student,)).fetchone()
        self.db.execute("INSERT OR IGNORE INTO submissions (student_id, content_hash, "
                        "first_seen) VALUES (?, ?, ?)", (student_id, content_hash, time.time()))
        (submission_id,) = self.db.execute(
            "SELECT id FROM submissions WHERE student_id = ? AND content_hash = ?",
            (student_id, content_hash)).fetchone()
        cur = self.db.execute(
            "INSERT INTO grades (run_id, submission_id, graded_at, score, max_score, "
            "public_only, seconds, results_json, grader_errors) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, submission_id, time.time(), result.score, result.max_score,
             int(result.public_only), result.seconds, text, result.grader_errors))
        self.db.executemany(
            "INSERT INTO tests (grade_id, name, assignment, score, max_score, output) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(cur.lastrowid, t["name"], t["name"].split("/")[0], t["score"], t["max_score"],
              t["output"]) for t in payload["tests"]])
        self.db.executemany(
            "INSERT INTO wrong_outputs (grade_id, test, case_id, hidden, signature, "
            "diagnosis) VALUES (?, ?, ?, ?, ?, ?)",
            [(cur.lastrowid, check.test_name, c.id, int(c.hidden), c.signature, c.diagnosis)
             for check in result.checks() for c in check.cases if c.signature])

    def record_lms_ids(self, ids: dict[str, str]) -> None:
        """The Canvas user ids ``import`` recorded beside the graded folders, by student: an
        export finds them here, without being told the submissions folder again."""
        if ids:
            with self._lock, self.db:
                self.db.executemany("INSERT OR REPLACE INTO lms_ids (student, canvas) "
                                    "VALUES (?, ?)", sorted(ids.items()))

    def lms_ids(self) -> dict[str, str]:
        """Canvas user id by student, as the batches recorded them."""
        return dict(self.db.execute("SELECT student, canvas FROM lms_ids"))

    NEWEST = ("SELECT g2.id FROM grades g2 JOIN submissions s2 ON g2.submission_id = s2.id "
              "WHERE s2.student_id = st.id ORDER BY g2.graded_at DESC, g2.id DESC LIMIT 1")

    def latest(self) -> list[tuple[str, dict]]:
        """The newest grade of every student: (name, results.json payload), by name."""
        rows = self.db.execute(
            "SELECT st.name, g.results_json FROM grades g JOIN submissions s ON "
            "g.submission_id = s.id JOIN students st ON s.student_id = st.id "
            f"WHERE g.id = ({self.NEWEST}) ORDER BY st.name").fetchall()
        return [(name, json.loads(text)) for name, text in rows]

    def wrong_outputs(self) -> list[tuple[str, str, str, bool, str, str]]:
        """(student, test, case id, hidden, signature, diagnosis) of every wrong output in
        each student's newest grade: what behavioural similarity compares."""
        rows = self.db.execute(
            "SELECT st.name, w.test, w.case_id, w.hidden, w.signature, w.diagnosis "
            "FROM wrong_outputs w JOIN grades g ON w.grade_id = g.id JOIN submissions s ON "
            "g.submission_id = s.id JOIN students st ON s.student_id = st.id "
            f"WHERE g.id = ({self.NEWEST}) ORDER BY st.name, w.rowid").fetchall()
        return [(n, t, c, bool(h), sig, d) for n, t, c, h, sig, d in rows]

    def history(self, student: str) -> list[tuple[float, float, str]]:
        """(graded_at, score, content_hash) of every grading of one student, oldest first."""
        return self.db.execute(
            "SELECT g.graded_at, g.score, s.content_hash FROM grades g JOIN submissions s ON "
            "g.submission_id = s.id JOIN students st ON s.student_id = st.id WHERE st.name = ? "
            "ORDER BY g.graded_at, g.id", (student,)).fetchall()


class GradebookBusy(Exception):
    """Another batch holds the gradebook."""


class WriterLock:
    """One batch at a time writes a gradebook: an exclusive ``flock`` on ``<gradebook>.lock``.

    The kernel drops the lock when its holder dies, however it dies, so a killed batch never
    leaves a stale lock behind. Readers (export) need no lock: SQLite's WAL serves them."""

    def __init__(self, gradebook: Path, wait: bool = False):
        gradebook.parent.mkdir(parents=True, exist_ok=True)
        self.path = gradebook.with_name(gradebook.name + ".lock")
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(self.fd, 200, 0).decode(errors="replace").strip()
            os.close(self.fd)
            raise GradebookBusy(f"another batch is writing {gradebook} ({holder or 'pid ?'}); "
                                "wait for it to end, pass --wait, or use another --gradebook"
                                ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
