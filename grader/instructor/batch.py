"""Batch grading: a whole class in parallel, resumable, each result saved as it finishes."""
from __future__ import annotations

import gc
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.cases import secret_id
from grader.course.fingerprint import grader_version
from grader.grade import Session
from grader.instructor.durable import sync, write_atomic
from grader.instructor.gradebook import Gradebook
from grader.instructor.progress import Progress
from grader.report.html import render
from grader.report.student import gradescope
from grader.judge.results import StudentResult
from grader.signals import Interrupted, StopSignals
from grader.worker.submission import (Copies, FolderUnreadable, Submission, collect,
                                       read_student)


@dataclass
class BatchOutcome:
    graded: list[StudentResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """Students the grader itself failed on (never a student's fault); re-run to retry."""
    seconds: float = 0.0
    interrupted: str = ""
    """The signal that stopped the batch (SIGTERM, SIGINT), empty when it ran to the end."""
    save_error: str = ""
    """Why results could not be written (the batch stopped there; earlier ones are kept)."""
    lost: str = ""
    """Why the grading machinery went away (a cluster's scheduler), empty if it did not."""
    left: list[str] = field(default_factory=list)
    """Students not graded because the batch was stopped: a re-run grades them."""
    unread: list[tuple[str, str]] = field(default_factory=list)
    """Student folders that could not be collected (name as shown, why): not graded, the
    rest of the class goes on; the instructor fixes the folder and runs the batch again."""


@dataclass
class Finished:
    """A graded student with what is saved of them, made where they were graded (a cluster's
    worker), so the driver only writes: ``results.json``'s payload and text, ``report.html``."""
    result: StudentResult
    payload: dict
    text: str
    page: str
    diagnoses: list = field(default_factory=list)
    """The outputs its worker's diagnoser computed since that worker last sent some
    (``Diagnoser.export``): the driver keeps them with its expected values, so the next
    batch ships them to every worker instead of each computing them again."""


def finish(result: StudentResult, version: str, pictures: str = "failing") -> Finished:
    """What a batch saves of a student: the grader version it records first (the payload
    names it), then results.json and the page with its pictures (drawn from the result's
    evidence, which must still hold its check)."""
    import json
    result.grader_version = version
    payload = gradescope(result)
    return Finished(result, payload, json.dumps(payload), render(result, pictures=pictures))


GROUP = 64
"""The most students saved together: their files made durable by one sync of the results'
filesystem and their grades recorded by one gradebook transaction, instead of two fsyncs and
a transaction each (what bounded a cluster's driver to ~25 students a second). Students are
saved as soon as they are taken: a group is whatever finished meanwhile, one when few do."""


def discover(folder: Path) -> list[Path]:
    """Every student folder directly under ``folder`` (hidden and ``_``-prefixed ones skipped)."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] not in "._")


POLL_SECONDS = 0.2
"""How often a batch waiting for its students looks whether it was told to stop (a signal
is recorded, not raised, while it waits: ``StopSignals.deferred``)."""


class LocalRunner:
    """Grades on this machine: the session's warm fork servers, ``parallel`` students at once."""

    def __init__(self, session: Session, parallel: int = 2):
        self.session = session
        self.ex = ThreadPoolExecutor(max_workers=parallel)

    def prepare(self) -> None:
        self.session.warm_expected()  # once for the class; gives every case its adaptive limit
        gc.freeze()  # torch's and the expected values' objects: never traversed by GC again

    def submit(self, submission: Submission):
        return self.ex.submit(self.session.grade, submission)

    def as_completed(self, futures, stop=None):
        """Lists of finished students: every one finished by then (at least one). Ends early
        once ``stop()`` is true (polled every ``POLL_SECONDS``)."""
        pending = set(futures)
        while pending and not (stop and stop()):
            done, pending = wait(pending, timeout=POLL_SECONDS if stop else None,
                                 return_when=FIRST_COMPLETED)
            if done:
                yield list(done)

    def result(self, future) -> StudentResult:
        return future.result()

    def stop(self, futures) -> None:
        for fut in futures:
            fut.cancel()
        self.session.pool.stop()  # in-flight students end now; their forks are killed

    def close(self) -> None:
        self.ex.shutdown(wait=True, cancel_futures=True)


class RunnerLost(Exception):
    """The machinery that grades went away (a cluster's scheduler): stop, keep what is saved."""


def run_batch(session: Session, students: list[Path], gradebook: Gradebook, results_root: Path,
              force: bool = False, progress: Progress | None = None, command: str = "",
              parallel: int = 2, signals: StopSignals | None = None,
              runner=None, pictures: str = "failing", lms: dict | None = None
              ) -> BatchOutcome:
    """Grade ``students`` (skipping unchanged ones), saving each result as it arrives.

    Every student's folder is collected first (``submission.collect``: read without following
    a link, into a private copy, the graded files decided), before any student's code runs:
    nothing one student's process does can change what a classmate is graded on.

    ``runner`` grades (default: a ``LocalRunner`` over the session's pool; a cluster's runner
    grades elsewhere): whatever grades, this process alone writes results and the gradebook.
    ``lms``: what ``import`` recorded (``semester.lms_record``): each graded file's submission
    time is kept from it, else from the file's modification time as read."""
    from grader.instructor import semester
    started = time.perf_counter()
    outcome = BatchOutcome()
    version, sid = grader_version(session.course[0].course_root), secret_id(session.secret)
    public_only = not session.include_hidden
    copies = Copies()
    try:
        todo = []
        for path in students:
            try:
                snapshot = read_student(path)
            except FolderUnreadable as exc:
                outcome.unread.append((exc.name, exc.why))
                continue
            content = snapshot.digest()
            if not force and gradebook.already_graded(path.name, content, version, sid,
                                                      session.device, public_only):
                outcome.skipped.append(path.name)
                continue
            size = sum(len(data) for data, _ in snapshot.files.values())
            try:  # whatever one folder holds, the class goes on (the instructor is told)
                collected = collect(path, session.course, path.name, copies.folder(size),
                                    snapshot)
            except Exception as exc:
                outcome.unread.append((path.name, "the folder could not be collected "
                                       f"({type(exc).__name__}: {str(exc)[:200]})"))
                continue
            semester.record_times(gradebook, path.name, content, semester.collected_times(
                path.name, collected, snapshot, lms or {}))
            todo.append((collected, content))
        parents = {p.parent for p in students}
        folder = str(parents.pop().resolve()) if len(parents) == 1 else ""  # ``outstanding``
        return _run(session, todo, gradebook, results_root, outcome, started, progress,
                    command, parallel, signals, runner, pictures, version, sid, folder)
    finally:
        copies.remove()


def _run(session, todo, gradebook, results_root, outcome, started, progress, command,
         parallel, signals, runner, pictures, version, sid, folder="") -> BatchOutcome:
    progress = progress or Progress(len(todo))
    runner = runner or LocalRunner(session, parallel)
    signals = signals or StopSignals()
    run_id = gradebook.start_run(version, sid, session.device, command, folder)
    from grader.instructor.semester import stamp_run
    stamp_run(gradebook, run_id, session.course[0].course_root)
    gradebook.plan(run_id, [p.name for p, _ in todo])
    done: set[str] = set()
    futures = {}
    try:
        if todo:
            runner.prepare()
        with signals.deferred():  # the library code below is never cut by a signal
            futures = {runner.submit(path): (path, content) for path, content in todo}
            for ready in runner.as_completed(list(futures), stop=lambda: bool(signals.received)):
                for start in range(0, len(ready), GROUP):
                    group = [(futures[f], f) for f in ready[start:start + GROUP]]
                    with signals.save():
                        _save(group, runner, gradebook, run_id, results_root, outcome, version,
                              pictures, done, progress)
        signals.check()
    except (Interrupted, KeyboardInterrupt, OSError, RunnerLost) as exc:
        if isinstance(exc, RunnerLost):
            outcome.lost = str(exc)
        elif isinstance(exc, OSError):  # a full disk, a folder made read-only: stop, keep all
            outcome.save_error = f"could not save the results of {exc.student}: {exc.error}" \
                if isinstance(exc, SaveError) else str(exc)
        else:
            outcome.interrupted = signals.received or "SIGINT"
        with signals.deferred():  # stopping and closing below wait on threads' locks too
            runner.stop(list(futures))
        outcome.left = sorted(p.name for p, _ in todo if p.name not in done)
    finally:
        with signals.deferred():
            runner.close()
            progress.close()
            gradebook.finish_run(run_id)
    outcome.seconds = time.perf_counter() - started
    return outcome


class SaveError(OSError):
    """A student's results could not be written (those saved before them are kept)."""

    def __init__(self, student: str, error: OSError):
        super().__init__(error.errno, str(error))
        self.student, self.error = student, error


def _save(group, runner, gradebook, run_id, results_root, outcome, version, pictures, done,
          progress) -> None:
    """One group of finished students: their files, one sync, one gradebook transaction. A
    file that cannot be written stops the batch after the students written before it are
    made durable and recorded."""
    written, graded = [], []
    try:
        for (submission, content), fut in group:
            try:
                got = runner.result(fut)
                made = got if isinstance(got, Finished) else finish(got, version, pictures)
            except RunnerLost:
                raise
            except Exception as exc:  # a grader failure: reported, never charged
                outcome.failed.append((submission.name, f"{type(exc).__name__}: {exc}"))
                done.add(submission.name)
                progress.update()
                continue
            folder = results_root / submission.name
            try:
                write_atomic(folder / "results.json", made.text)
                write_atomic(folder / "report.html", made.page)
            except OSError as exc:
                raise SaveError(submission.name, exc) from None
            written.append((made, content))
            graded.append(submission.name)
    finally:
        if written:
            sync(results_root)
            gradebook.record_many(run_id, [(m.result, c, m.payload, m.text) for m, c in written])
            outcome.graded.extend(m.result for m, _ in written)
            for name in graded:
                done.add(name)
                progress.update()
