"""Batch grading: a whole class in parallel, resumable, each result saved as it finishes."""
from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ..cases import secret_id
from ..fingerprint import grader_version
from ..grade import Session
from .gradebook import Gradebook
from .progress import Progress
from ..html_report import render
from ..report import gradescope, write_atomic, write_results
from ..results import StudentResult
from ..signals import Interrupted, StopSignals
from ..submission import Copies, Submission, collect, read_folder


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


def discover(folder: Path) -> list[Path]:
    """Every student folder directly under ``folder`` (hidden and ``_``-prefixed ones skipped)."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] not in "._")


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

    def as_completed(self, futures):
        return as_completed(futures)

    def result(self, future) -> StudentResult:
        return future.result()

    def report(self, result: StudentResult, pictures: str = "failing") -> str:
        return render(result, pictures=pictures)

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
              runner=None, pictures: str = "failing") -> BatchOutcome:
    """Grade ``students`` (skipping unchanged ones), saving each result as it arrives.

    Every student's folder is collected first (``submission.collect``: read without following
    a link, into a private copy, the graded files decided), before any student's code runs:
    nothing one student's process does can change what a classmate is graded on.

    ``runner`` grades (default: a ``LocalRunner`` over the session's pool; a cluster's runner
    grades elsewhere): whatever grades, this process alone writes results and the gradebook."""
    started = time.perf_counter()
    outcome = BatchOutcome()
    version, sid = grader_version(session.course[0].course_root), secret_id(session.secret)
    public_only = not session.include_hidden
    copies = Copies()
    try:
        todo = []
        for path in students:
            snapshot = read_folder(path)
            content = snapshot.digest()
            if not force and gradebook.already_graded(path.name, content, version, sid,
                                                      session.device, public_only):
                outcome.skipped.append(path.name)
            else:
                size = sum(len(data) for data, _ in snapshot.files.values())
                todo.append((collect(path, session.course, path.name, copies.folder(size),
                                     snapshot), content))
        return _run(session, todo, gradebook, results_root, outcome, started, progress,
                    command, parallel, signals, runner, pictures, version, sid)
    finally:
        copies.remove()


def _run(session, todo, gradebook, results_root, outcome, started, progress, command,
         parallel, signals, runner, pictures, version, sid) -> BatchOutcome:
    progress = progress or Progress(len(todo))
    runner = runner or LocalRunner(session, parallel)
    signals = signals or StopSignals()
    run_id = gradebook.start_run(version, sid, session.device, command)
    done: set[str] = set()
    futures = {}
    try:
        if todo:
            runner.prepare()
        futures = {runner.submit(path): (path, content) for path, content in todo}
        for fut in runner.as_completed(list(futures)):
            path, content = futures[fut]
            with signals.save():
                try:
                    result = runner.result(fut)
                except RunnerLost:
                    raise
                except Exception as exc:  # a grader failure: reported, never charged
                    outcome.failed.append((path.name, f"{type(exc).__name__}: {exc}"))
                else:
                    result.grader_version = version
                    payload = gradescope(result)
                    written = write_results(result, results_root, payload)
                    write_atomic(written.parent / "report.html", runner.report(result, pictures))
                    gradebook.record(run_id, result, content, payload)
                    outcome.graded.append(result)
                done.add(path.name)
            progress.update()
    except (Interrupted, KeyboardInterrupt, OSError, RunnerLost) as exc:
        if isinstance(exc, RunnerLost):
            outcome.lost = str(exc)
        elif isinstance(exc, OSError):  # a full disk, a folder made read-only: stop, keep all
            outcome.save_error = f"could not save the results of {path.name}: {exc}"
        else:
            outcome.interrupted = signals.received or "SIGINT"
        runner.stop(list(futures))
        outcome.left = sorted(p.name for p, _ in todo if p.name not in done)
    finally:
        runner.close()
        progress.close()
        gradebook.finish_run(run_id)
    outcome.seconds = time.perf_counter() - started
    return outcome
