"""Grader side of the workers: a pool of warm fork servers and the retry-after-death rule."""
from __future__ import annotations

import abc
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.worker import wire
from grader.course.spec import Probe
from grader.worker import messages

ZYGOTE_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                   "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "SYSTEMROOT")


class WorkerStartError(RuntimeError):
    """A fork server could not start: the grader's fault, never the student's."""

    def __init__(self, message: str, killed: bool = False):
        super().__init__(message)
        self.killed = killed
        """Killed by a signal from outside (an OOM killer, an operator) while starting."""


class NoWorkers(WorkerStartError):
    """Not one fork server of the pool could start: nothing can be graded."""


class Stopped(RuntimeError):
    """The pool was stopped (a batch told to end): no request runs any more."""


MACHINERY_ERRORS = (EOFError, OSError, wire.WireError, WorkerStartError)
"""What the grader's own machinery raises when a fork server dies or talks nonsense."""
ATTEMPTS = 3
"""A request the machinery failed is tried again, each time in a fresh fork server."""
START_ATTEMPTS = 2
"""A fork server that fails to start by itself is tried once more."""
START_KILLS = 10
"""A fork server killed while starting (by a signal from outside) is started again, up to
this many times."""


@dataclass
class Call:
    """One probe of one contract name on one case (plain data only)."""

    probe: "str | Probe"
    """The engine's probe by name, or a course's Probe (sent as its name and module)."""
    name: str
    inputs: dict
    seed: int
    timeout: float

    encoded_inputs: wire.Raw | None = None
    """The inputs already encoded (shared by every student of a batch)."""
    shared: bool = False
    """A course case's inputs, the same for every student: a fork server's forker may keep
    them decoded for every later fork (``Zygote.run``). Inputs made from a student's outputs
    (the own-loop rule's points) are never shared: a later student's fork would inherit
    them."""
    hidden: bool = False
    """A hidden case's call: it runs after every public call of its fork, whose printed
    output and messages the student sees, and its inputs reach the fork only then, once what
    it printed is cut (``messages.phase``); no fork server keeps its inputs (every fork
    inherits what its server keeps)."""

    def to_dict(self) -> dict:
        if self.encoded_inputs is None:
            self.encoded_inputs = wire.Raw(self.inputs)
        probe = self.probe if isinstance(self.probe, Probe) else None
        return {"probe": probe.name if probe else self.probe,
                "probe_module": probe.module if probe else "", "name": self.name,
                "inputs": self.encoded_inputs, "key": self.encoded_inputs.key,
                "seed": self.seed, "timeout": self.timeout, "hidden": self.hidden,
                "shared": self.shared and not self.hidden}


@dataclass
class ModuleCalls:
    """One student module and the calls to make on it."""

    module_path: str
    module_name: str
    calls: list[Call]


@dataclass
class Job:
    """Modules of one student run in one fork (more forks only after a crash or timeout)."""

    modules: list[ModuleCalls]
    student_dir: str
    device: str = "cpu"
    confine: bool = True
    limits: dict = field(default_factory=dict)
    cell_seconds: float = 30.0
    """A notebook cell's time limit."""
    import_seconds: float = 120.0
    """An import's time limit: for a notebook, running all its cells."""
    course_root: str = ""
    """The course whose probes the calls use ('' for the engine's probes only)."""
    probe_modules: list[str] = field(default_factory=list)
    """The course's probe modules, imported in the worker before it is confined."""
    stop_on_timeout: bool = False
    """After the first call that runs past its limit, every call left is skipped (a repair
    search's candidates: a student's code can tell it is being repaired and wait out each
    candidate's limit, which costs no CPU and would cost the batch minutes)."""


@dataclass
class ModuleOutcome:
    import_error: dict | None
    results: list[dict]
    notes: list[str] = field(default_factory=list)
    """What happened while the module or notebook ran (a notebook's failing cells)."""


@dataclass
class JobOutcome:
    """What came back: per module its import error (if any) and one result per call."""

    modules: list[ModuleOutcome]
    output: str
    """What the student's code printed before any hidden input reached its fork (what it
    printed after may show those inputs: it is counted, never kept)."""
    output_dropped: int
    forks: int
    cpu: float = 0.0
    """CPU seconds its forks used (the student's code, its imports, the probes around it):
    a benchmark's measure of the student's own work, never part of a verdict."""


@dataclass(frozen=True)
class Warm:
    """What a fork server imports before it forks (every child inherits it): torch (with
    what optimizers import lazily, seconds) and the notebook machinery. What it leaves out,
    a child that needs it imports itself (slower, never wrong)."""

    torch: bool = True
    notebooks: bool = True

    def argv(self) -> list[str]:
        return [f"--warm={'torch' if self.torch else ''},{'notebooks' if self.notebooks else ''}"]

    @staticmethod
    def parse(args: list[str]) -> "Warm":
        for a in args:
            if a.startswith("--warm="):
                parts = a.split("=", 1)[1].split(",")
                return Warm("torch" in parts, "notebooks" in parts)
        return Warm()


def _zygote_command(*args: str) -> tuple[list[str], dict]:
    """The command line and environment of ``python -m grader.worker.zygote``."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k in ZYGOTE_ENV_KEEP}
    env["PYTHONPATH"] = str(root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # One thread per worker: several workers share the cores, and BLAS pools that spin
    # while waiting would fight each other.
    env.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                 "MKL_NUM_THREADS")})
    return [sys.executable, "-m", "grader.worker.zygote", *args], env


def _start_failure(proc: "subprocess.Popen | Forked", exc: BaseException,
                   what: str) -> WorkerStartError:
    """Why ``proc`` did not start (asked before it is stopped: its exit status, where known,
    tells a kill from outside from a failure of its own)."""
    code = proc.poll() if isinstance(proc, subprocess.Popen) else None
    why = (f"killed by signal {-code}" if code is not None and code < 0 else
           f"exit status {code}" if code is not None else
           "it ended before it was ready" if isinstance(exc, EOFError) else
           str(exc) or type(exc).__name__)
    return WorkerStartError(f"{what} did not start ({why})",
                            killed=code is not None and code < 0)


class Template:
    """The process a pool's fork servers are forked from (``python -m grader.worker.zygote
    --template``): torch is imported once for them all, and its pages are shared."""

    def __init__(self, warm: Warm):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd, env = _zygote_command("--template", *warm.argv())
        self.proc = subprocess.Popen(cmd, stdin=theirs.fileno(), stdout=subprocess.DEVNULL,
                                     env=env, cwd="/", start_new_session=True)
        theirs.close()
        self.sock = ours
        self._lock = threading.Lock()
        try:
            ready = json.loads(self.sock.recv(1 << 12) or b"null")
        except (OSError, ValueError) as exc:
            ready, error = None, exc
        else:
            error = EOFError()
        if not (isinstance(ready, dict) and ready.get("ready")):
            failure = _start_failure(self.proc, error, "the fork servers' template")
            self.kill()
            raise failure

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, scratch: str) -> "Forked":
        """A new fork server, its children's scratch folders under ``scratch``."""
        req_r, req_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            with self._lock:
                socket.send_fds(self.sock, [json.dumps({"scratch": scratch}).encode()],
                                [req_r, out_w])
                reply = json.loads(self.sock.recv(1 << 12) or b"null")
        except (OSError, ValueError) as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            os.close(req_r)
            os.close(out_w)
        if not (isinstance(reply, dict) and isinstance(reply.get("pid"), int)):
            os.close(req_w)
            os.close(out_r)
            why = reply.get("error") if isinstance(reply, dict) else None
            raise WorkerStartError("the fork servers' template could not start a server ("
                                   f"{why or 'it has ended'})")
        return Forked(reply["pid"], os.fdopen(req_w, "wb"), os.fdopen(out_r, "rb"))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.sock.close()


class Forked:
    """A fork server the template forked: not this process's child (the template reaps it),
    so it is watched through a pidfd, which cannot name a later process with the same pid;
    where the kernel has none (before Linux 5.3), through its pid. Its exit status is not
    known here."""

    ENDED = -1
    """What ``poll`` says once it has ended."""

    def __init__(self, pid: int, stdin, stdout):
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self._pidfd: int | None
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # ended already
            self._pidfd = -1
        except (AttributeError, OSError):  # no pidfd here: the pid it is
            self._pidfd = None

    def poll(self) -> int | None:
        if self._pidfd is None:
            try:
                os.kill(self.pid, 0)  # the template reaps at once: no zombie answers
            except ProcessLookupError:
                return self.ENDED
            except PermissionError:
                pass
            return None
        if self._pidfd < 0 or select.select([self._pidfd], [], [], 0)[0]:
            return self.ENDED
        return None

    def kill(self) -> None:
        try:
            if self._pidfd is None:
                os.kill(self.pid, signal.SIGKILL)
            elif self._pidfd >= 0:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait(self, timeout: float = 5.0) -> int | None:
        if self._pidfd is None:
            deadline = time.monotonic() + timeout
            while self.poll() is None:
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.005)
        elif self._pidfd >= 0 and not select.select([self._pidfd], [], [], timeout)[0]:
            return None
        for f in (self.stdin, self.stdout):
            try:
                f.close()
            except OSError:
                pass
        if self._pidfd is not None and self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        return self.ENDED


class Zygote:
    """One warm fork server process (``python -m grader.worker.zygote``), started here or
    forked by a pool's template."""

    def __init__(self, warm: "Warm | None" = None, template: Template | None = None):
        self.holds: set[str] = set()
        """Keys of the inputs this server has been sent (and keeps)."""
        self.dead = False
        """It died or talked nonsense: replaced before its next request."""
        self.scratch = tempfile.mkdtemp(prefix="grader-scratch-")
        """Its children's scratch folders live here; removed by the grader when it ends."""
        if template is not None:
            try:
                self.proc: "subprocess.Popen | Forked" = template.fork(self.scratch)
            except WorkerStartError:
                shutil.rmtree(self.scratch, ignore_errors=True)
                raise
        else:
            cmd, env = _zygote_command(self.scratch, *(warm or Warm()).argv())
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         env=env, cwd="/", start_new_session=True)
        try:
            hello = wire.read_frame(self.proc.stdout)
        except (EOFError, wire.WireError) as exc:
            failure = _start_failure(self.proc, exc, "the worker process")
            self.kill()
            raise failure from None
        if not (isinstance(hello, dict) and hello.get("ready")):
            self.kill()
            raise WorkerStartError(f"the worker process said {hello!r} instead of ready")
        self.forker = hello.get("forker")
        """The pid of the process its children are forked from (``forker``)."""

    def run(self, request: dict) -> dict:
        """Two frames: a notice (the public inputs to keep, whether a notebook comes, the
        course's probes: course data only), which the server passes on to its forker, then
        the request, which only the server reads (``zygote.serve``): a student's folder and
        the hidden cases' inputs never enter the memory later forks inherit."""
        hold = {}
        for module in request["modules"]:
            for call in module["calls"]:
                if not call.get("shared"):  # never a hidden call's (``Call.to_dict``)
                    continue  # sent in full every time: kept by no forker
                if call["key"] in self.holds:  # it keeps them decoded: by key only
                    del call["inputs"]
                else:
                    self.holds.add(call["key"])
                    hold[call["key"]] = call["inputs"]
        notice = {"hold": hold, "course": request.get("course") or {},
                  "notebook": any(m["module_path"].endswith(".ipynb")
                                  for m in request["modules"])}
        wire.write_frame(self.proc.stdin, notice)  # already-encoded inputs pass through as is
        wire.write_frame(self.proc.stdin, request)
        return read_outcome(wire.read_payload(self.proc.stdout))

    def kill(self) -> None:
        """Stop the fork server and every process it started, at once."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


def read_outcome(payload: bytes) -> dict:
    """A fork server's outcome, each result's output decoded from its part. An output that is
    not plain data (a child writes its own results, so student code can forge one) fails
    that call, as the student's doing; a head that cannot be read is the machinery's
    (WireError)."""
    outcome, parts = wire.split_parts(payload)
    if isinstance(outcome, dict) and "failed" in outcome:  # no outcome: the machinery's
        raise wire.WireError(str(outcome["failed"]))
    for module in outcome["modules"]:
        results = module["results"]
        for i, r in enumerate(results):
            if not (isinstance(r, dict) and "part" in r):
                continue
            k = r.pop("part")
            try:
                r["output"] = messages.probe_output(wire.loads(parts[k]))
                if r["output"] is None:
                    raise wire.WireError("it is not shaped as a probe's output")
            except (wire.WireError, IndexError, TypeError) as exc:
                results[i] = {"status": "error", "error": messages.ErrorReport(
                    kind="error", type="UnreadableResult", frames=[], origin="",
                    message=f"the worker sent back a result that is not plain data ({exc})")}
    return outcome


class Runner(abc.ABC):
    """Runs jobs through ``_request`` (one fork per request) and re-runs what a crash left."""

    size = 1

    @abc.abstractmethod
    def _request(self, request: dict) -> dict:
        """Run one request in a fresh confined fork and return its outcome."""

    def run(self, job: Job) -> JobOutcome:
        """Run every call; after a crash or timeout, a fresh fork runs the calls left."""
        results = [[None] * len(m.calls) for m in job.modules]
        import_errors: list[dict | None] = [None] * len(job.modules)
        notes: list[list[str]] = [[] for _ in job.modules]
        output, dropped, forks, cpu = [], 0, 0, 0.0
        pending = {mi: list(range(len(m.calls))) for mi, m in enumerate(job.modules)}
        timed_out: set[tuple[int, str]] = set()
        while self._skip_timed_out(job, pending, results, timed_out):
            # A notebook's kernel needs Unix sockets until it has bound its own: it gets a
            # fork to itself, after the modules.
            order = [mi for mi in pending if pending[mi]]
            modules_first = [mi for mi in order
                             if not job.modules[mi].module_path.endswith(".ipynb")]
            order = modules_first or order[:1]
            # Every call left goes: its public calls run first, its hidden ones after
            # (messages.phase).
            sent = {mi: pending[mi] for mi in order}
            out, failure = self._attempt(job, order, sent)
            forks += 1
            if out is None:  # the machinery failed every try: not the student's doing
                for mi in order:
                    for i in sent[mi]:
                        results[mi][i] = {"status": "grader_error", "reason": failure}
                    pending[mi] = []
                continue
            output.append(out["output"])  # printed before any hidden input was there
            dropped += out["output_dropped"]
            cpu += float(out.get("cpu") or 0.0)
            progressed = False
            for local_m, mi in enumerate(order):
                got = out["modules"][local_m]
                notes[mi] = notes[mi] or got.get("notes") or []
                if got["imported"] is False or (got["imported"] is None and
                                                 out["running"] == [local_m, None]):
                    error = got.get("import_error") or {
                        "kind": "died", "type": "WorkerDied", "frames": [],
                        "message": f"the worker {out['exit']} while importing the module"}
                    import_errors[mi] = error
                    for i in pending[mi]:
                        results[mi][i] = {"status": "error", "error": error}
                    pending[mi] = []
                    progressed = True
                    continue
                finished = []
                for local, i in enumerate(sent[mi]):
                    r = got["results"][local]
                    if r is None and out["running"] == [local_m, local]:
                        r = {"status": "died", "exit": out["exit"], "killed": out.get("killed")}
                    if r is not None:
                        results[mi][i] = r
                        finished.append(i)
                        if r["status"] == "timeout":
                            timed_out.add((mi, job.modules[mi].calls[i].name))
                pending[mi] = [i for i in pending[mi] if i not in finished]
                progressed |= bool(finished)
            if not progressed:  # the child died outside any call: do not loop
                for mi in order:
                    for i in sent[mi]:
                        results[mi][i] = {"status": "died", "exit": out["exit"],
                                          "killed": out.get("killed")}
                    pending[mi] = []
        return JobOutcome([ModuleOutcome(import_errors[mi], results[mi], notes[mi])
                           for mi in range(len(job.modules))], "".join(output), dropped, forks,
                          cpu)

    def _attempt(self, job: Job, order: list[int],
                 pending: dict[int, list[int]]) -> tuple[dict | None, str]:
        """One request, tried again in a fresh fork server if the machinery fails; returns
        the outcome, or None and what went wrong each time."""
        failures = []
        for _ in range(ATTEMPTS):
            request = {"student_dir": job.student_dir, "device": job.device,
                       "course": {"root": job.course_root, "probes": job.probe_modules},
                       "confine": job.confine, "limits": job.limits,
                       "cell_seconds": job.cell_seconds, "import_timeout": job.import_seconds,
                       "modules": [{"module_path": job.modules[mi].module_path,
                                    "module_name": job.modules[mi].module_name,
                                    "calls": [job.modules[mi].calls[i].to_dict()
                                              for i in pending[mi]]} for mi in order]}
            try:
                out = self._request(request)
            except (NoWorkers, Stopped):
                raise
            except MACHINERY_ERRORS as exc:
                failures.append(f"{type(exc).__name__}: {exc}".rstrip(": "))
                continue
            if not out.get("lost"):
                return out, ""
            failures.append(f"the worker {out['exit']} before running any student code")
        return None, "; then ".join(failures)

    @staticmethod
    def _skip_timed_out(job: Job, pending: dict[int, list[int]], results: list,
                        timed_out: set[tuple[int, str]]) -> bool:
        """After a time-out, the other cases of that name are not run, in this fork or a
        later one (the hidden cases' included): an endless loop rarely depends on its inputs,
        and each would cost the whole limit again. With ``job.stop_on_timeout`` no call is
        run after the first time-out. Whether any call is left to run."""
        for mi, calls in pending.items():
            skip = [i for i in calls if (job.stop_on_timeout and timed_out)
                    or (mi, job.modules[mi].calls[i].name) in timed_out]
            for i in skip:
                results[mi][i] = {"status": "skipped", "reason": "timeout",
                                  "limit": job.modules[mi].calls[i].timeout}
            pending[mi] = [i for i in calls if i not in skip]
        return any(pending.values())

class WorkerPool(Runner):
    """``size`` warm fork servers shared by threads; each job takes one while it runs.

    The servers boot in the background (importing torch takes seconds), so the grader can
    compute expected values meanwhile; the first job simply waits for a free server. Two or
    more are forked from one template, which imports torch once for them all.
    """

    def __init__(self, size: int = 1, warm: Warm | None = None):
        self.size = size
        self.warm = warm or Warm()
        self._stopped = False
        self._template: Template | None = None
        self._template_lock = threading.Lock()
        self._shared = True
        """Servers are forked from a template (False where one cannot be started)."""
        self._idle: queue.Queue[Zygote] = queue.Queue()
        self._all: list[Zygote] = []
        self._errors: list[Exception] = []
        self._starters = [threading.Thread(target=self._start_one, daemon=True)
                          for _ in range(size)]
        for t in self._starters:
            t.start()

    def _start_one(self) -> None:
        # Killed from outside says nothing about the next start; a server that fails by
        # itself twice will fail again.
        tries = {True: START_KILLS, False: START_ATTEMPTS}
        while True:
            try:
                z = self._new_server()
            except Exception as exc:
                killed = isinstance(exc, WorkerStartError) and exc.killed
                tries[killed] -= 1
                if tries[killed] > 0:
                    continue
                self._errors.append(exc)
                if len(self._errors) == len(self._starters):
                    self._idle.put(None)  # wake a waiting job so it can report the failure
                return
            self._all.append(z)
            self._idle.put(z)
            return

    def _new_server(self) -> Zygote:
        """A fresh fork server: forked from the pool's template (started, or started again,
        when there is none alive), or started alone for a pool of one."""
        if self.size < 2 or not self._shared:
            return Zygote(self.warm)
        with self._template_lock:  # the first caller starts it; the others wait for it
            if self._stopped:
                raise Stopped("the pool was stopped")
            if self._template is None or not self._template.alive():
                if self._template is not None:
                    self._template.kill()
                    self._template = None
                try:
                    self._template = Template(self.warm)
                except OSError:  # no Unix socket to pass pipes over: each server alone
                    self._shared = False
                    return Zygote(self.warm)
            template = self._template
        return Zygote(self.warm, template)

    def wait_ready(self) -> None:
        for t in self._starters:
            t.join()
        if not self._all:
            raise self._errors[0] if self._errors else WorkerStartError("no worker started")

    def _request(self, request: dict) -> dict:
        if self._stopped:
            raise Stopped("the pool was stopped")
        z = self._idle.get()
        if self._stopped:
            self._idle.put(z)
            raise Stopped("the pool was stopped")
        if z is None:
            self._idle.put(None)
            raise NoWorkers(str(self._errors[0]))
        try:
            if z.dead:  # it died under an earlier request: this one gets a fresh server
                z = self._replace(z)
            return z.run(request)
        except (EOFError, OSError, wire.WireError):
            z.dead = True  # replaced when next taken, so a failed start costs no slot
            if self._stopped:
                raise Stopped("the pool was stopped") from None
            raise
        finally:
            self._idle.put(z)

    def _replace(self, old: Zygote) -> Zygote:
        """A fresh fork server in place of ``old`` (which is stopped); raises
        WorkerStartError and keeps ``old`` marked dead if the new one cannot start."""
        old.kill()
        new = self._new_server()
        self._all[self._all.index(old)] = new
        return new

    def stop(self) -> None:
        """End every fork server now, with the students' forks running in them; requests in
        flight and later ones raise Stopped."""
        self._stopped = True
        self._end()

    def close(self) -> None:
        """End the fork servers. Nothing is in flight and they hold nothing worth a clean
        exit (their scratch folders are the grader's to remove): they are killed rather than
        waited for (a process with torch loaded takes ~0.4 s to exit)."""
        self._end()

    def _end(self) -> None:
        """Kill every fork server (and the children they forked), then their template."""
        for t in self._starters:
            t.join()
        for z in list(self._all):
            z.kill()
        with self._template_lock:
            if self._template is not None:
                self._template.kill()
                self._template = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
