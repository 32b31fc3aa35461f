"""Supervising one request's child, in the fork server (``zygote.serve``).

The child was forked ahead of need by the server's forker (``forker``), so it is a copy of
a process that never held a student's byte; given the request, the server hands it to the
child, watches its time, reads every event and every byte it prints (``messages`` says what
counts) and sends the hidden cases' inputs only once the public calls are done
(``messages.phase``). The server forks nothing after it has read a request: what students
sent stays in this process and reaches no child.
"""
from __future__ import annotations

import bisect
import json
import os
import select
import selectors
import signal
import time

from grader.worker import messages, provisioner, sandbox, wire
from grader.worker.child import Spare, _close, prefork
from grader.worker.student import too_large

PARENT_PID = 0
"""The process whose end ends this one: in a fork server, the grader or the template the
grader started (0 where a grader forks for itself)."""
PARENT_POLL = 0.5
"""How often a supervising fork server checks that its grader is still there."""

SIGNAL_NAMES = {getattr(signal, n): n for n in dir(signal) if n.startswith("SIG") and "_" not in n}


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
    order = Order(modules)
    if any(m["module_path"].endswith(".ipynb") for m in modules):
        request["kernel"] = provisioner.kernel_request(
            scratch, confine=request.get("confine", True), device=request["device"])
    # The hidden calls' inputs stay here until the public calls are done (messages.phase).
    hidden = {call["key"]: call.pop("inputs", None) for m in modules for call in m["calls"]
              if call.get("hidden")}
    started = time.monotonic()
    try:
        wire.write_payload(spare.request_fd, wire.relay(request))
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
                            not cut and _public_done(outcome, order, current):
                        _drain(r_out, keep)  # what it printed before saying so
                        cut = True
                        current, deadline = _next_call(order, outcome, 0, 0, True,
                                                       time.monotonic())
                        if not _send_within(spare.request_fd,
                                            wire.framed(wire.relay({"inputs": hidden})),
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
                        current, deadline = _apply_event(ev, parts, outcome, order,
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


HANDOVER_SECONDS = 10.0
"""How long a notebook's worker may take, once its cells have run, to say it imported."""


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
    slot["notes"] = messages.notes(run.notes)  # cut to size: a cell's error names its type
    if run.failure is not None:
        os.kill(pid, signal.SIGKILL)
        slot["imported"] = False
        slot["import_error"] = {"kind": "timeout" if "limit" in run.failure else "died",
                                "type": "NotebookError", "frames": [],
                                "message": run.failure}
    # What is left is handing the notebook's names over as a module: seconds, not a second
    # import limit (code of the student's holding the lock could otherwise take one more).
    return time.monotonic() + min(request.get("import_timeout", 120.0), HANDOVER_SECONDS)


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


class Order:
    """The order a request's calls run in (``messages.phase``), worked out once per job:
    every event of the child is checked against it."""

    def __init__(self, modules: list):
        self.modules = modules
        self.public = [messages.phase(m, False) for m in modules]
        self.hidden = [messages.phase(m, True) for m in modules]


def _apply_event(ev, parts: list[bytes], outcome: dict, order: Order, current,
                 deadline: float, import_timeout: float, cut: bool = False):
    """Record one event of the child (a result's output is its one part, kept as sent;
    the rest is kept in its declared shape, ``messages``); returns what runs now and until
    when it may run. Once hidden inputs were sent (``cut``), only hidden calls' events
    count: nothing made after them may reach what a student sees."""
    if not isinstance(ev, dict) or not isinstance(ev.get("event"), str):
        return current, deadline
    modules = order.modules
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
        return _next_call(order, outcome, mi, 0, False, now)
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
    return _next_call(order, outcome, mi, i + 1, bool(modules[mi]["calls"][i].get("hidden")),
                      now)


def _next_call(order: Order, outcome: dict, mi: int, i: int, hidden: bool, now: float):
    """The call of phase ``hidden`` that runs from call ``i`` of module ``mi`` on, and until
    when (``messages.phase``): calls run in order, so the end of one is the start of the
    next (no extra message). A public phase goes on within its module; the hidden phase
    goes on to the next module that imported. None between modules and at the end."""
    modules, phases = order.modules, order.hidden if hidden else order.public
    for m in range(mi, len(modules) if hidden else mi + 1):
        if outcome["modules"][m]["imported"] is not True:
            continue
        calls = phases[m]
        k = bisect.bisect_left(calls, i) if m == mi else 0
        if k < len(calls):
            return [m, calls[k]], now + float(modules[m]["calls"][calls[k]]["timeout"])
    return None, now + 10.0


def _public_done(outcome: dict, order: Order, current) -> bool:
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
           for i in order.public[m]):
        return False
    return any(order.hidden[m] for m in imported)


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


def reset_peak() -> None:
    """Start this process's peak resident memory afresh (Linux's ``clear_refs`` 5): the fork
    server reports each request's peak, not its start's (importing torch, huge pages)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_bytes() -> int:
    """This process's peak resident memory (bytes) since ``reset_peak``, for the grader's
    benchmarks and tests."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
