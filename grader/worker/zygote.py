"""The warm fork server: imports NumPy and torch once, then forks a confined child per job.

Run as ``python -m grader.worker.zygote``. It reads one job at a time from stdin and answers
with one outcome on stdout (length-prefixed JSON). It never computes anything itself: no
torch operation runs here (a forked child of a process that ran a multi-threaded op can
deadlock), CUDA is never initialised here (a CUDA context does not survive fork), and it
never holds an expected value or the hidden-case secret.
"""
from __future__ import annotations

import gc
import json
import os
import select
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy  # noqa: F401  (imported once, shared by every fork)

from grader.worker import wire
from grader.worker import messages, provisioner, sandbox
from grader.worker.student import (HELD_INPUTS, import_course_probes, run as run_student,
                                   too_large)

def warm_up(torch_too: bool = True, notebooks: bool = True) -> None:
    """Import, once and before any fork, what student code will need: torch (with the
    modules optimizers import lazily — ``torch._dynamo``'s first import touches caches
    outside the sandbox), and nbformat with IPython's shell for notebooks."""
    if torch_too:
        import torch  # noqa: F401
        import torch._dynamo  # noqa: F401
        import torch.nn.functional  # noqa: F401
        import torch.optim  # noqa: F401
        import torch.utils.data  # noqa: F401
    if notebooks:
        from grader.worker.kernel import preload
        preload()


PARENT_PID = 0
"""The process that started this fork server: the grader, or the template the grader
started (0 where a grader forks for itself). Once it is gone, so is the server."""
PARENT_POLL = 0.5
"""How often a supervising fork server checks that its grader is still there."""

SIGNAL_NAMES = {getattr(signal, n): n for n in dir(signal) if n.startswith("SIG") and "_" not in n}


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
        _close(self.request_fd, self.channel_fd, self.output_fd)
        self.request_fd = self.channel_fd = self.output_fd = -1
        _stop(self.pid)
        self.pid = 0
        shutil.rmtree(self.scratch, ignore_errors=True)


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


def prefork(scratch_root: str) -> Spare:
    scratch = tempfile.mkdtemp(prefix="scratch-", dir=scratch_root)
    r_req, w_req = os.pipe()
    r_chan, w_chan = os.pipe()
    r_out, w_out = os.pipe()
    parent = os.getpid()
    pid = os.fork()
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


def hold_inputs(request: dict) -> None:
    """Keep, decoded, the inputs a request carries: every child forked from now on inherits
    them, and later requests name them by key (the same cases serve every student)."""
    for call in _calls(request):
        if call.get("hidden"):  # every later fork would hold them: public ones too
            continue
        if "inputs" in call and call["key"] not in HELD_INPUTS:
            _HELD_JSON[call["key"]] = call["inputs"]
            HELD_INPUTS[call["key"]] = wire.from_jsonable(call["inputs"])


def inputs_for(request: dict, spare: Spare) -> dict:
    """The request as the spare needs it: inputs it inherited go by key, others in full."""
    sent = {call["key"]: call["inputs"] for call in _calls(request) if "inputs" in call}
    for call in _calls(request):
        if call["key"] in spare.holds:
            call.pop("inputs", None)
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
        # The supervisor need not wait for the exit; the child's CPU time (a fork starts at
        # zero) is for benchmarks only, never for a verdict.
        wire.write_frame(channel, {"event": "done", "cpu": time.process_time()})
    except BaseException:  # the supervisor reports the exit status
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(code)


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return f"was killed by signal {sig} ({SIGNAL_NAMES.get(sig, '?')})"
    return f"exited with status {os.WEXITSTATUS(status)}"


def run_job(request: dict, scratch_root: str,
            spare: Spare | None = None) -> tuple[dict, Spare]:
    """Hand one request to a forked child, supervise its time and output, collect its
    events. Returns the outcome and the finished child, whose ``finish()`` the caller calls
    once the outcome is on its way. The outcome's ``"parts"`` are the outputs as the child
    encoded them (an ok result names its part by index): :func:`wire.join_parts` sends
    them on undecoded."""
    limits = sandbox.Limits(**request.get("limits", {}))
    spare = spare or prefork(scratch_root)
    pid, scratch = spare.pid, spare.scratch
    modules = request["modules"]
    if any(m["module_path"].endswith(".ipynb") for m in modules):
        request["kernel"] = provisioner.kernel_request(
            scratch, confine=request.get("confine", True), device=request["device"])
    # The hidden calls' inputs stay here until the public calls are done (messages.phase).
    hidden = {call["key"]: call.pop("inputs", None) for m in modules for call in m["calls"]
              if call.get("hidden")}
    started = time.monotonic()
    try:
        wire.write_payload(spare.request_fd, wire.dumps(request))
    except OSError:  # the spare died while waiting: its exit status says how
        pass
    if not hidden:
        os.close(spare.request_fd)
        spare.request_fd = -1
    r_chan, r_out = spare.channel_fd, spare.output_fd
    outcome = {"modules": [{"imported": None, "import_error": None,
                            "results": [None] * len(m["calls"])} for m in modules],
               "output": "", "output_dropped": 0, "exit": None, "killed": None, "parts": []}
    import_timeout = request.get("import_timeout", 120.0)
    # Only the events' heads are read here: outputs stay the text they came in (parts), and
    # only the grader decodes (and validates) them.
    reader = wire.FrameReader(limit=limits.result_bytes + HEAD_BYTES, decode=_event)
    parts_bytes = 0  # what the results sent so far weigh: at most limits.results_bytes
    kept = bytearray()
    cut = False  # once hidden inputs are sent, nothing printed is kept

    def keep(data: bytes) -> None:
        room = 0 if cut else limits.output_bytes - len(kept)
        kept.extend(data[:max(room, 0)])
        outcome["output_dropped"] += max(len(data) - max(room, 0), 0)
    deadline = started + import_timeout
    current = None  # [module, call] running now; call None while importing
    sel = selectors.DefaultSelector()
    sel.register(r_chan, selectors.EVENT_READ, "chan")
    sel.register(r_out, selectors.EVENT_READ, "out")
    open_streams = 2
    done = False
    heard = False  # any event at all: before the first, no student code has run
    try:
        while open_streams and not done:
            timeout = deadline - time.monotonic()
            if PARENT_PID and os.getppid() != PARENT_PID:  # the grader is gone: so are we
                os.kill(pid, signal.SIGKILL)
                raise SystemExit(1)
            if timeout <= 0:
                os.kill(pid, signal.SIGKILL)
                outcome["killed"] = "timeout"
                if current is not None and current[1] is not None:
                    mi, i = current
                    outcome["modules"][mi]["results"][i] = {
                        "status": "timeout", "limit": modules[mi]["calls"][i]["timeout"]}
                elif current is not None:
                    outcome["modules"][current[0]]["imported"] = False
                    outcome["modules"][current[0]]["import_error"] = {
                        "kind": "timeout", "type": "TimeoutError", "frames": [],
                        "message": f"importing the module took longer than {import_timeout:g} s"}
                break
            for key, _ in sel.select(min(timeout, PARENT_POLL)):
                if done:  # "done" came earlier in this round: the output is drained already
                    break
                try:
                    data = os.read(key.fd, 1 << 16)
                except BlockingIOError:  # nothing left after all: not an end of stream
                    continue
                if not data:
                    sel.unregister(key.fd)
                    open_streams -= 1
                    continue
                if key.data == "out":
                    keep(data)
                    continue
                try:
                    events = reader.feed(data)
                except wire.FrameTooLarge as exc:  # the child refuses to send one: forged
                    os.kill(pid, signal.SIGKILL)
                    outcome["killed"] = f"sent a message of {exc.size / 2**20:.1f} MiB"
                    if current is not None and current[1] is not None:  # the call's doing
                        _charge(outcome, current, too_large(
                            "a message of this call is", exc.size, limits.result_bytes))
                        current = None  # the calls left run in a fresh fork
                    open_streams = 0
                    break
                except wire.WireError as exc:
                    os.kill(pid, signal.SIGKILL)
                    outcome["killed"] = f"sent an unreadable message ({exc})"
                    open_streams = 0
                    break
                heard = heard or bool(events)
                for ev, parts in events:
                    # "done" counts between calls only (student code could forge one).
                    if isinstance(ev, dict) and ev.get("event") == "done" and current is None:
                        done = True
                        outcome["cpu"] = messages.number(ev.get("cpu")) or 0.0
                        _drain(r_out, keep)  # what it printed before saying so
                        break
                    if isinstance(ev, dict) and ev.get("event") == "public_done" and \
                            not cut and _public_done(outcome, modules, current):
                        _drain(r_out, keep)  # what it printed before saying so
                        cut = True
                        current, deadline = _next_call(modules, outcome, 0, 0, True,
                                                       time.monotonic())
                        if not _send_within(spare.request_fd,
                                            wire.framed(wire.dumps({"inputs": hidden})),
                                            deadline):
                            os.kill(pid, signal.SIGKILL)  # it would not read them in time
                        _close(spare.request_fd)
                        spare.request_fd = -1
                        continue
                    if isinstance(ev, dict) and ev.get("event") == "kernel_ready":
                        deadline = _run_notebook(request, outcome, current, pid, deadline,
                                                 r_out, keep)
                        continue
                    sent = len(outcome["parts"])
                    try:
                        current, deadline = _apply_event(ev, parts, outcome, modules,
                                                         current, deadline, import_timeout,
                                                         cut)
                    except Exception as exc:  # never the grader's code: a forged event
                        os.kill(pid, signal.SIGKILL)
                        outcome["killed"] = f"sent a message that could not be read ({exc})"
                        open_streams = 0
                        break
                    if len(outcome["parts"]) > sent:
                        parts_bytes += len(outcome["parts"][-1])
                        if parts_bytes > limits.results_bytes:  # stop here; the rest anew
                            os.kill(pid, signal.SIGKILL)
                            outcome["parts"].pop()
                            _charge(outcome, [ev["module"], ev["index"]], too_large(
                                "with this result, the results of one run come to",
                                parts_bytes, limits.results_bytes))
                            outcome["killed"] = "its results grew too large"
                            current, open_streams = None, 0
                            break
    finally:
        sel.close()
        if not done:  # it died, was killed or went silent: its exit status is the story
            os.close(r_chan)
            os.close(r_out)
            spare.channel_fd = spare.output_fd = -1
            status, outcome["cpu"] = _reap(pid, deadline)
            outcome["exit"] = _describe_exit(status)
            spare.pid = 0  # reaped: the number may belong to another process soon
    if done:
        outcome["exit"] = "finished"
    elif not heard:  # it died before running any student code: the grader's loss
        outcome["lost"] = True
    outcome["running"] = current
    outcome["output"] = kept.decode("utf-8", errors="replace")
    return outcome, spare


def outcome_payload(outcome: dict) -> bytes:
    """:func:`run_job`'s outcome as the message the grader reads: the head, and the outputs
    (its ``"parts"``) as the child encoded them."""
    parts = outcome.pop("parts")
    return wire.join_parts(outcome, parts)


HEAD_BYTES = 1 << 20
"""The most an event's head (everything but a result's output) may weigh: a head is parsed
into Python objects, which weigh tens of times its text (the output stays undecoded)."""


def _event(payload: bytes):
    """One event of the child: its head parsed, its parts (a result's output) kept as sent.
    A head larger than HEAD_BYTES is refused before it is parsed (only a forgery has one)."""
    if payload.find(b"\n", 0, HEAD_BYTES + 1) < 0 and len(payload) > HEAD_BYTES:
        raise wire.WireError(f"an event's head is over {HEAD_BYTES >> 20} MiB")
    return wire.split_parts(payload, json.loads)


def _charge(outcome: dict, at: list, error: dict) -> None:
    """Record ``error`` as the result of call ``at`` ([module, index])."""
    outcome["modules"][at[0]]["results"][at[1]] = {"status": "error", "error": error}


DRAIN_BYTES = 4 << 20
"""The most read at once from a child's output once it has said it is done with a phase
(what its pipe held then; a thread of its own may go on writing, which is not waited for)."""


def _drain(fd: int, keep) -> None:
    os.set_blocking(fd, False)
    read = 0
    try:
        while read < DRAIN_BYTES and (data := os.read(fd, 1 << 16)):
            keep(data)
            read += len(data)
    except BlockingIOError:
        pass


def _run_notebook(request: dict, outcome: dict, current, pid: int, deadline: float,
                  output_fd: int, keep) -> float:
    """The worker became a kernel: run the notebook's cells in it with nbclient, here.

    Only a notebook being imported may ask (once); the cells may take what is left of the
    import time. Returns the new deadline of the worker's next step."""
    if (current is None or current[1] is not None or "kernel" not in request
            or request["kernel"].get("used")):
        return deadline
    request["kernel"]["used"] = True
    mi = current[0]
    slot = outcome["modules"][mi]
    run = provisioner.execute(
        request["modules"][mi]["module_path"], request["kernel"]["connection_file"], pid,
        float(request.get("cell_seconds", 30.0)), max(deadline - time.monotonic(), 0.1),
        output_fd, keep, lambda text: keep(text.encode("utf-8", errors="replace")))
    slot["notes"] = run.notes[:50]
    if run.failure is not None:
        os.kill(pid, signal.SIGKILL)
        slot["imported"] = False
        slot["import_error"] = {"kind": "timeout" if "limit" in run.failure else "died",
                                "type": "NotebookError", "frames": [],
                                "message": run.failure}
    return time.monotonic() + request.get("import_timeout", 120.0)


def _reap(pid: int, deadline: float) -> tuple[int, float]:
    """Wait for the child until ``deadline`` (it may have closed its pipes and kept running);
    its exit status and the CPU seconds it used."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return status, usage.ru_utime + usage.ru_stime
        time.sleep(0.002)


def _apply_event(ev, parts: list[bytes], outcome: dict, modules: list, current,
                 deadline: float, import_timeout: float, cut: bool = False):
    """Record one event of the child (a result's output is its one part, kept as sent;
    the rest is kept in its declared shape, ``messages``); returns what runs now and until
    when it may run. Once hidden inputs were sent (``cut``), only hidden calls' events
    count: nothing made after them may reach what a student sees."""
    if not isinstance(ev, dict) or not isinstance(ev.get("event"), str):
        return current, deadline
    kind, mi = ev["event"], messages.index(ev.get("module"), len(modules))
    if mi is None:
        return current, deadline
    i = messages.index(ev.get("index"), len(modules[mi]["calls"]))
    if kind in ("result", "error") and i is None:
        return current, deadline
    slot = outcome["modules"][mi]
    now = time.monotonic()
    # Only the event that can come next counts: the child imports each module once and
    # makes its calls in order, so events written out of turn (student code can write them)
    # change nothing, and none can restart a clock that is already running.
    if kind == "importing":
        if current is not None or slot["imported"] is not None or cut:
            return current, deadline
        return [mi, None], now + import_timeout
    if current != [mi, None if kind in ("imported", "import_error") else i] or \
            (cut and (i is None or not modules[mi]["calls"][i].get("hidden"))):
        return current, deadline
    if kind == "imported":
        slot["imported"] = True
        slot["notes"] = (slot.get("notes", []) + messages.notes(ev.get("notes")))[:50]
        return _next_call(modules, outcome, mi, 0, False, now)
    if kind == "import_error":
        slot["imported"] = False
        slot["import_error"] = messages.error_report(ev.get("error"))
        return None, now + 10.0
    if kind not in ("result", "error"):
        return current, deadline
    if kind == "result":
        slot["results"][i] = {"status": "ok", "part": len(outcome["parts"]),
                              "seconds": messages.seconds(ev.get("seconds"))}
        outcome["parts"].append(parts[0] if len(parts) == 1 else b"null")
    elif kind == "error":
        slot["results"][i] = {"status": "error", "error": messages.error_report(ev.get("error"))}
    return _next_call(modules, outcome, mi, i + 1, bool(modules[mi]["calls"][i].get("hidden")),
                      now)


def _next_call(modules: list, outcome: dict, mi: int, i: int, hidden: bool, now: float):
    """The call of phase ``hidden`` that runs from call ``i`` of module ``mi`` on, and until
    when (``messages.phase``): calls run in order, so the end of one is the start of the
    next (no extra message). A public phase goes on within its module; the hidden phase
    goes on to the next module that imported. None between modules and at the end."""
    for m in range(mi, len(modules) if hidden else mi + 1):
        if outcome["modules"][m]["imported"] is not True:
            continue
        for j in messages.phase(modules[m], hidden):
            if (m, j) >= (mi, i):
                return [m, j], now + float(modules[m]["calls"][j]["timeout"])
    return None, now + 10.0


def _public_done(outcome: dict, modules: list, current) -> bool:
    """Whether the child may be sent the hidden calls' inputs: nothing runs, every module
    was imported (or failed to), each imported one has every public call's result, and one
    of them has hidden calls. Until then a \"public_done\" (student code can write one)
    changes nothing."""
    if current is not None:
        return False
    slots = outcome["modules"]
    if any(slot["imported"] is None for slot in slots):
        return False
    imported = [m for m, slot in enumerate(slots) if slot["imported"]]
    if any(slots[m]["results"][i] is None for m in imported
           for i in messages.phase(modules[m], False)):
        return False
    return any(messages.phase(modules[m], True) for m in imported)


def _send_within(fd: int, payload: bytes, deadline: float) -> bool:
    """Write ``payload`` to the child before ``deadline`` (student code can stop its reading
    and fill the pipe); whether all of it went."""
    os.set_blocking(fd, False)
    view = memoryview(payload)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        select.select([], [fd], [], min(left, PARENT_POLL))
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            continue
        except OSError:  # it is gone: its exit says how
            return False
    return True


@dataclass
class Supervisor:
    """A process forked from the fork server ahead of need, to run one request.

    It forks the student's child at once, before any request (so the child is a copy of the
    server as it was: it holds no other student's data), then, given the request, supervises
    the child and writes the outcome straight to the grader. Everything a student's code
    sends (results, printed text, a notebook's messages) is read here and dies with this
    process: the fork server itself never holds a byte a student wrote, so no later fork can
    find one in the memory it inherits."""

    pid: int
    request_fd: int
    said_fd: int
    """Read end of a pipe on which it says ``w`` before writing its outcome to the grader."""

    def finish(self) -> None:
        """Stop and reap it (its child dies with it) unless it has ended already."""
        _close(self.request_fd, self.said_fd)
        self.request_fd = self.said_fd = -1
        _stop(self.pid)
        self.pid = 0


def presupervise(scratch_root: str, grader_fd: int) -> Supervisor:
    """Fork a supervisor (which forks its student's child at once): see Supervisor."""
    r_req, w_req = os.pipe()
    r_said, w_said = os.pipe()
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            global PARENT_PID
            sandbox.die_with_parent(server)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # not the server's requests
            _close_all_but({0, 1, 2, r_req, w_said, grader_fd})  # nor its other pipes
            PARENT_PID = server  # run_job stops when its server is gone
            spare = prefork(scratch_root)
            with os.fdopen(r_req, "rb") as stream:
                try:
                    raw = wire.read_payload(stream)
                except EOFError:  # the server dropped this spare unused
                    code = 0
                    spare.finish()
                    raise SystemExit(0) from None
            outcome, finished = run_job(inputs_for(json.loads(raw), spare), scratch_root,
                                        spare)
            outcome["supervisor_peak"] = _peak_bytes()
            payload = outcome_payload(outcome)
            shutil.rmtree(finished.scratch, ignore_errors=True)  # gone before the outcome
            os.write(w_said, b"w")
            wire.write_payload(grader_fd, payload)
            code = 0
            finished.finish()
        except BaseException:  # the server reports it (it knows whether we wrote)
            pass
        finally:
            os._exit(code)
    os.close(r_req)
    os.close(w_said)
    return Supervisor(pid, w_req, r_said)


def _peak_bytes() -> int:
    """This process's peak resident memory (bytes), for the grader's benchmarks and tests."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class SupervisorFailed(Exception):
    """A supervisor ended without its outcome: ``wrote`` says whether it had begun to write
    it (then the stream to the grader may hold half a message, and the server must end)."""

    def __init__(self, message: str, wrote: bool):
        super().__init__(message)
        self.wrote = wrote


def _await(supervisor: Supervisor) -> None:
    """Wait for ``supervisor`` to end, stopping it (and ourselves) if our grader is gone;
    SupervisorFailed unless it wrote its outcome and exited cleanly."""
    said = b""
    while True:
        if PARENT_PID and os.getppid() != PARENT_PID:  # the grader is gone: so are we
            supervisor.finish()
            raise SystemExit(1)
        ready, _, _ = select.select([supervisor.said_fd], [], [], PARENT_POLL)
        if ready:
            data = os.read(supervisor.said_fd, 16)
            if not data:
                break  # it has exited (or is exiting): nothing else holds the pipe
            said += data
    _, status = os.waitpid(supervisor.pid, 0)
    supervisor.pid = 0
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and said == b"w"):
        supervisor.finish()
        raise SupervisorFailed(f"the worker's supervisor {_describe_exit(status)}",
                               wrote=bool(said))
    supervisor.finish()


def serve(stdin, stdout, scratch_root: str, warm) -> None:
    """The fork server's loop: say it is ready, then one request at a time, each run by a
    supervisor forked ahead of need (see Supervisor), until the grader closes ``stdin``.
    What ``warm`` names is imported already. The server reads requests (the course's inputs)
    and nothing else: the outcomes reach the grader from the supervisors."""
    os.chmod(scratch_root, 0o700)
    os.environ["IPYTHONDIR"] = os.path.join(scratch_root, "ipython")
    from grader.worker.pool import Warm
    wire.write_frame(stdout, {"ready": True, "features": sandbox.probe_features(),
                              "pid": os.getpid()})
    grader_fd = stdout.fileno()
    gc.freeze()  # what the imports made is never collected again: children copy less
    spare = presupervise(scratch_root, grader_fd)
    try:
        while True:
            try:
                raw = wire.read_payload(stdin)
            except EOFError:
                break
            # Plain JSON: arrays are decoded (and validated) where they are used.
            request = json.loads(raw)
            if not warm.notebooks and any(m["module_path"].endswith(".ipynb")
                                          for m in request["modules"]):
                # A notebook where none was expected: its machinery must be loaded here,
                # unconfined, and inherited (a confined child cannot read the grader's files).
                warm_up(torch_too=False, notebooks=True)
                warm = Warm(warm.torch, True)
                spare.finish()
                spare = presupervise(scratch_root, grader_fd)
            hold_inputs(request)
            try:  # every later fork inherits them
                import_course_probes(request)
            except Exception:  # the fork reports it, in the student's terms
                pass
            running = spare
            try:
                wire.write_payload(running.request_fd, raw)
            except OSError:  # it died while waiting: _await says how
                pass
            os.close(running.request_fd)
            running.request_fd = -1
            spare = presupervise(scratch_root, grader_fd)  # forked while this one works
            try:
                _await(running)
            except SupervisorFailed as exc:
                if exc.wrote:  # half a message may be on its way: this stream is done
                    raise SystemExit(1) from None
                wire.write_frame(stdout, {"failed": str(exc)})
    finally:
        spare.finish()
        shutil.rmtree(scratch_root, ignore_errors=True)


def template(control: socket.socket, warm) -> None:
    """Import once what every fork server needs, then fork a fork server per request on
    ``control`` (a Unix socket to the grader): the servers of a pool share one import of
    torch (seconds of CPU each) and its pages. A request is a scratch folder and, passed
    with it, the server's two pipe ends (requests in, outcomes out); the answer is its pid.
    Ends when the grader closes its end."""
    global PARENT_PID
    warm_up(warm.torch, warm.notebooks)
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # ended servers are reaped by the kernel
    control.sendall(json.dumps({"ready": True}).encode())
    me = os.getpid()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 12, 2)
        except OSError:
            break
        if not message:
            break  # the grader is gone
        try:
            scratch = json.loads(message)["scratch"]
            if len(fds) != 2:
                raise ValueError("a fork server needs two pipe ends")
        except (ValueError, KeyError, TypeError) as exc:
            for fd in fds:
                os.close(fd)
            control.sendall(json.dumps({"error": str(exc)}).encode())
            continue
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # it waits for its children
                os.setsid()  # its own group: stopping it stops every child it forked
                sandbox.die_with_parent(me)
                control.close()
                os.dup2(fds[0], 0)
                os.dup2(fds[1], 1)
                for fd in fds:
                    os.close(fd)
                PARENT_PID = me
                serve(open(0, "rb", closefd=False), open(1, "wb", closefd=False), scratch,
                      warm)
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps({"pid": pid}).encode())


def main() -> None:
    global PARENT_PID
    PARENT_PID = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from grader.worker.pool import Warm
    warm = Warm.parse(sys.argv[1:])
    if "--template" in sys.argv[1:]:  # the grader's socket is this process's stdin
        sys.stdout = sys.stderr  # fd 1 becomes each server's channel: never print to it
        template(socket.socket(fileno=0), warm)
        return
    # The grader made it (and removes it, however this process ends); alone, make one.
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    scratch_root = args[0] if args else tempfile.mkdtemp(prefix="grader-scratch-")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames on the channel
    warm_up(warm.torch, warm.notebooks)  # torch, nbformat and IPython, once, for every fork
    serve(stdin, stdout, scratch_root, warm)


if __name__ == "__main__":
    main()
