"""Batch grading: a whole class in parallel, resumable, each result saved as it finishes."""
from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .cases import secret_id
from .fingerprint import grader_version, tree_hash
from .grade import Session
from .gradebook import Gradebook
from .progress import Progress
from .html_report import render
from .report import write_atomic, write_results
from .results import StudentResult


@dataclass
class BatchOutcome:
    graded: list[StudentResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """Students the grader itself failed on (never a student's fault); re-run to retry."""
    seconds: float = 0.0


def discover(folder: Path) -> list[Path]:
    """Every student folder directly under ``folder`` (hidden and ``_``-prefixed ones skipped)."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] not in "._")


def run_batch(session: Session, students: list[Path], gradebook: Gradebook, results_root: Path,
              force: bool = False, progress: Progress | None = None, command: str = "",
              parallel: int = 2) -> BatchOutcome:
    started = time.perf_counter()
    outcome = BatchOutcome()
    version, sid = grader_version(), secret_id(session.secret)
    public_only = not session.include_hidden
    todo = []
    for path in students:
        content = tree_hash(path)
        if not force and gradebook.already_graded(path.name, content, version, sid,
                                                  session.device, public_only):
            outcome.skipped.append(path.name)
        else:
            todo.append((path, content))
    progress = progress or Progress(len(todo))
    if todo:
        session.warm_expected()  # once for the class; also gives every case its adaptive limit
        gc.freeze()  # torch's and the expected values' objects: never traversed by GC again
    run_id = gradebook.start_run(version, sid, session.device, command)
    with ThreadPoolExecutor(max_workers=parallel) as ex:
        futures = {ex.submit(session.grade, path, path.name): (path, content)
                   for path, content in todo}
        for fut in as_completed(futures):
            path, content = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # a grader failure: reported, never charged, retried later
                outcome.failed.append((path.name, f"{type(exc).__name__}: {exc}"))
            else:
                result.grader_version = version
                path = write_results(result, results_root)
                write_atomic(path.parent / "report.html", render(result, pictures="failing"))
                gradebook.record(run_id, result, content)
                outcome.graded.append(result)
            progress.update()
    progress.close()
    gradebook.finish_run(run_id)
    outcome.seconds = time.perf_counter() - started
    return outcome
