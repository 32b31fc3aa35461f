"""The student's child: forked by the forker ahead of need, set up, then given one request,
confined, and made to run the student's code (``student.run``). Its ``Spare`` handle is what
the fork server supervising it holds; the inputs it inherited decoded (held by the forker
before the fork) travel by key.
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass

from grader.worker import sandbox, wire
from grader.worker.student import HELD_INPUTS, import_course_probes, run as run_student


@dataclass
class Spare:
    """A child forked ahead of need: set up, unconfined yet, waiting for its request.

    Forking a process that imported torch costs ~12 ms and its exit ~15 ms more; the fork
    server pays both between jobs (while the grader judges the last student), not on the
    way from a request to its first call."""

    pid: int
    scratch: str
    request_fd: int
    channel_fd: int
    output_fd: int
    holds: frozenset = frozenset()
    """Keys of the inputs it inherited decoded (held before it was forked)."""

    def finish(self) -> None:
        """Stop and reap the child (unless already reaped), remove its scratch folder."""
        self.kill()
        _stop(self.pid)
        self.pid = 0
        shutil.rmtree(self.scratch, ignore_errors=True)

    def kill(self) -> "Spare":
        """SIGKILL the child and close its pipes now; reap it later (``reaped``): its exit
        takes milliseconds that the next request need not wait for."""
        _close(self.request_fd, self.channel_fd, self.output_fd)
        self.request_fd = self.channel_fd = self.output_fd = -1
        if self.pid > 0:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self

    def reaped(self) -> bool:
        """Whether the child is reaped (reaping it now if it has exited), its scratch folder
        then removed."""
        if self.pid > 0:
            try:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                done = self.pid
            if not done:
                return False
            self.pid = 0
        shutil.rmtree(self.scratch, ignore_errors=True)
        return True


def _close(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            os.close(fd)


def _close_all_but(keep: set[int]) -> None:
    """Close every file descriptor of this process but ``keep``."""
    kept = sorted(keep)
    for low, high in zip([-1] + kept, kept + [1 << 16]):
        if low + 1 < high:  # closerange(n, n) closes every fd from n on (3.11)
            os.closerange(low + 1, high)


def _stop(pid: int) -> None:
    """SIGKILL and reap a child of ours (nothing for 0: reaped already)."""
    if pid > 0:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def prefork(scratch_root: str, fork=None) -> Spare:
    """Fork a child ahead of need: by ``os.fork``, or by ``fork`` (the forker's clone, whose
    child's parent is this process's parent: the one it then dies with)."""
    scratch = tempfile.mkdtemp(prefix="scratch-", dir=scratch_root)
    r_req, w_req = os.pipe()
    r_chan, w_chan = os.pipe()
    r_out, w_out = os.pipe()
    parent = os.getpid() if fork is None else os.getppid()
    pid = (fork or os.fork)()
    if pid == 0:
        sandbox.die_with_parent(parent)
        for fd in (w_req, r_chan, r_out):
            os.close(fd)
        _child(scratch, r_req, w_chan, w_out)
    for fd in (r_req, w_chan, w_out):
        os.close(fd)
    return Spare(pid, scratch, w_req, r_chan, r_out, frozenset(HELD_INPUTS))


_HELD_JSON: dict = {}
"""The held inputs as they came (JSON), for a spare forked before they arrived."""


def _calls(request: dict):
    return (call for module in request["modules"] for call in module["calls"])


def hold_inputs(public: dict, decoded: bool) -> None:
    """Keep public cases' inputs by key (``Notice.hold``): decoded in the forker (every child
    forked from now on inherits them), as JSON in the fork server (which completes requests
    with them, ``inputs_for``); later requests name them by key (the same cases serve every
    student). Nothing else a request carries is ever here."""
    held = HELD_INPUTS if decoded else _HELD_JSON
    for key, inputs in public.items():
        if key not in held:
            held[key] = wire.from_jsonable(inputs) if decoded else inputs


def inputs_for(request: dict, spare: Spare) -> dict:
    """The request as the spare needs it: inputs it inherited go by key, others in full."""
    sent = {call["key"]: call["inputs"] for call in _calls(request) if "inputs" in call}
    for call in _calls(request):
        if call["key"] in spare.holds and not call.get("hidden"):  # a hidden call's travel
            call.pop("inputs", None)  # in full, later (even where a public case's are alike)
        elif "inputs" not in call:  # sent once in this request, or held before it
            call["inputs"] = sent[call["key"]] if call["key"] in sent else \
                _HELD_JSON[call["key"]]
    return request


def _child(scratch: str, requests: int, channel: int, output: int) -> None:
    """In the fork: set up, wait for the request, confine, run the student's code. Never
    returns."""
    code = 0
    try:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        _close_all_but({0, 1, 2, requests, channel})
        os.chdir(scratch)
        os.environ.clear()
        os.environ.update({"HOME": scratch, "TMPDIR": scratch, "MPLCONFIGDIR": scratch,
                           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
                           "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"})
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        sys.path[:] = [p for p in sys.path if "site-packages" in p
                       or p.startswith(sys.base_prefix)]
        if "torch" in sys.modules:  # NumPy-only self-checks never import it
            sys.modules["torch"].set_num_threads(1)
        stream = os.fdopen(requests, "rb")
        request = wire.read_frame(stream)  # arrays decoded (and validated) here
        import_course_probes(request)  # held already, unless the course is new here
        cuda = request["device"].startswith("cuda")
        sandbox.apply_rlimits(sandbox.Limits(**request.get("limits", {})), cap_memory=not cuda)
        if request.get("confine", True):
            # A notebook's kernel binds Unix sockets, then forbids every socket (kernel.py).
            sandbox.confine(request["student_dir"], scratch, cuda, cuda or "kernel" in request,
                            sandbox.Limits(**request.get("limits", {})))
        # The hidden calls' inputs come later, on the same pipe (see messages.phase).
        run_student(request, channel, lambda: wire.read_frame(stream).get("inputs"))
        sys.stdout.flush()
        sys.stderr.flush()
        # The fork server need not wait for the exit; the child's CPU time (a fork starts at
        # zero) is for benchmarks only, never for a verdict.
        wire.write_frame(channel, {"event": "done", "cpu": time.process_time()})
    except BaseException:  # the fork server reports the exit status
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(code)
