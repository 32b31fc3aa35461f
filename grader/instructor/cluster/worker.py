"""The Dask worker's side: warm, confined fork servers started once, and the grading task.

``GraderPlugin`` is registered by the driver; on every worker it unpacks the course, starts the
same warm fork servers as the local pool and computes the expected values, in a background
thread so the worker keeps answering its scheduler meanwhile. ``grade_student`` is the task:
it writes one student's files to a scratch folder, grades them, as the driver collected them,
through the one ``Session`` (so the one judge), and returns the ``StudentResult`` with its
results.json and report.html made (``batch.finish``): the driver only writes them. The Dask worker process never imports
student code; that runs only in confined forks of the fork servers, as on one machine.
"""
from __future__ import annotations

import gc
import hashlib
import shutil
import tempfile
import threading
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from grader.instructor.batch import finish
from grader.instructor.cluster.payload import Files, detach, unpack_course, unpack_student

PLUGIN = "grader"
WARM_TIMEOUT = 600.0
REPAIRS = "grader-repairs"
"""Where on the scheduler a batch's workers share their repair searches (its metadata)."""


class SharedRepairs(dict):
    """A worker's repair searches (``Session.repairs_found``), shared with the other workers
    of its batch through the scheduler's metadata (``Client.set_metadata``): a wrong
    definition that many students share is searched once on the cluster, as on one machine,
    not once per worker. Plain data only (a fix's offset and lines, or None where no small
    edit passes); the scheduler is trusted as it is with the plugin. Where the scheduler does
    not answer, the worker searches itself: sharing saves time, it never decides a grade."""

    def __init__(self, batch: str):
        super().__init__()
        self.batch = batch

    def _where(self, key) -> list[str]:
        return [REPAIRS, self.batch, hashlib.sha256(repr(key).encode()).hexdigest()]

    def __contains__(self, key) -> bool:
        if dict.__contains__(self, key):
            return True
        try:
            from distributed import get_client
            shared = get_client().get_metadata(self._where(key), default=None)
        except Exception:  # no scheduler to ask (or not in a task): search here
            return False
        if not isinstance(shared, dict) or "fix" not in shared:
            return False
        try:
            dict.__setitem__(self, key, _relative(shared["fix"]))
        except (TypeError, ValueError):
            return False
        return True

    def __setitem__(self, key, value) -> None:
        dict.__setitem__(self, key, value)
        try:
            from distributed import get_client
            get_client().set_metadata(self._where(key), {"fix": _plain(value)})
        except Exception:  # the others search themselves
            pass


def _plain(found) -> list | None:
    if found is None:
        return None
    return [found.offset, found.before, found.after, [list(a) for a in found.also]]


def _relative(plain):
    from grader.judge.diagnose.repair import Relative
    if plain is None:
        return None
    offset, before, after, also = plain
    return Relative(int(offset), str(before), str(after),
                    tuple((int(o), str(b), str(a)) for o, b, a in also))


class GraderPlugin(WorkerPlugin):
    """Everything a worker needs to grade, shipped once: the course (bytes), the secret, the
    device, which assignments, and the limits."""

    idempotent = False

    def __init__(self, course: bytes, folders: list[str], secret: str, device: str,
                 include_hidden: bool, confine: bool, max_timeout: float | None = None,
                 forks: int = 1, expected: list[tuple] = (), version: str = "",
                 pictures: str = "failing", diagnoses: list = (), batch: str = ""):
        self.course, self.folders, self.secret = course, folders, secret
        self.version, self.pictures = version, pictures
        """What the driver records (its grader version) and which pictures its pages get:
        each student's results.json and report.html are made here, not by the driver."""
        self.expected = list(expected)
        """The driver's expected values (``Expected.export``): computed once for the class,
        not once per worker; whatever is missing the worker computes itself."""
        self.diagnoses = list(diagnoses)
        """The driver's diagnoser outputs (``Diagnoser.export``: the catalogue's mistakes and
        the reference on varied inputs, from its store); what a worker computes beyond them
        goes back to the driver with each student (``Finished.diagnoses``)."""
        self._sent = 0
        self._sent_lock = threading.Lock()
        self.batch = batch
        """This batch's name on the scheduler (``SharedRepairs``): one batch's workers share
        their repair searches, never another batch's."""
        self.device, self.include_hidden, self.confine = device, include_hidden, confine
        self.max_timeout, self.forks = max_timeout, forks
        self.session = None
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def __getstate__(self):  # what travels: the settings, never a session or a thread
        state = dict(self.__dict__)
        state.update(session=None, error=None, ready=None, _sent_lock=None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.ready = threading.Event()
        self._sent_lock = threading.Lock()

    def setup(self, worker) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="grader-dask-"))
        # As on one machine (a batch's pool runs one grading thread more than it has fork
        # servers), one fork server fewer than the worker's threads: while a thread judges,
        # draws or searches for a repair, its server grades another thread's student.
        threads = int(getattr(worker, "nthreads", 0) or self.forks)
        self.forks = max(1, threads - 1)
        threading.Thread(target=self._warm, name="grader-warm", daemon=True).start()

    def _warm(self) -> None:
        try:
            from grader.course.loader import load_course
            from grader.grade import Session
            from grader.judge.expected import Expected
            from grader.worker.pool import WorkerPool
            root = unpack_course(self.course, self.scratch)
            course = load_course(root)
            chosen = tuple(course.assignment(f) for f in self.folders)
            expected = Expected()
            expected.preload(self.expected, root)
            session = Session(WorkerPool(size=self.forks), chosen, device=self.device,
                              secret=self.secret, include_hidden=self.include_hidden,
                              confine=self.confine, one_fork_per_student=True,
                              max_timeout=self.max_timeout, expected=expected)
            if self.batch:
                session.repairs_found = SharedRepairs(self.batch)
            session.diagnoser.preload(self.diagnoses, root)
            self._sent = session.diagnoser.computed()  # the driver has these already
            self.diagnoses = []
            session.warm_expected()
            session.pool.wait_ready()
            gc.freeze()  # torch's and the expected values' objects: never traversed again
            self.session = session
        except BaseException as exc:  # reported by every task on this worker
            self.error = exc
        finally:
            self.ready.set()

    def teardown(self, worker) -> None:
        if self.session is not None:
            self.session.pool.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def grade(self, name: str, files: Files, decided: dict | None = None):
        if not self.ready.wait(WARM_TIMEOUT):
            raise RuntimeError("the grader on this worker did not finish starting")
        if self.error is not None:
            raise RuntimeError(f"the grader could not start on this worker: "
                               f"{type(self.error).__name__}: {self.error}")
        folder = Path(tempfile.mkdtemp(prefix="student-", dir=self.scratch)) / name
        try:
            submission = unpack_student(files, folder, name, decided)
            if decided is None:  # not collected by a batch: collected here
                return detach(self.session.grade(folder, name))
            made = finish_here(self.session.grade(submission), self.version, self.pictures)
            with self._sent_lock:  # one thread's student carries what every thread computed
                made.diagnoses = self.session.diagnoser.export(self._sent)
                self._sent += len(made.diagnoses)
            return made
        finally:
            shutil.rmtree(folder.parent, ignore_errors=True)


def finish_here(result, version: str, pictures: str):
    """``batch.finish`` on the worker: results.json and the page (its pictures drawn from
    the checks), then the result detached from the course for its way back."""
    made = finish(result, version, pictures)
    detach(made.result)
    return made


def grade_student(name: str, files: Files, decided: dict | None = None):
    """The task: one student, graded on whichever worker runs it."""
    return get_worker().plugins[PLUGIN].grade(name, files, decided)
