"""The warm fork server: imports NumPy and torch once, forks its forker (``forker``), then
runs each job in a confined child the forker forked ahead of need, supervising it here
(``supervisor``, ``child``).

Run as ``python -m grader.worker.zygote``. It reads one job at a time from stdin and writes
each outcome to stdout (length-prefixed JSON). It never computes anything itself: no torch
operation runs here or in the forker (a forked child of a process that ran a multi-threaded
op can deadlock), CUDA is never initialised here (a CUDA context does not survive fork), and
it never holds an expected value or the hidden-case secret. It reads what students send, so
it forks nothing after the forker: no child is a copy of it.
"""
from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import socket
import sys
import tempfile

import numpy  # noqa: F401  (imported once, shared by every fork)

from grader.worker import pages, sandbox, supervisor, wire
from grader.worker.child import Spare, hold_inputs, inputs_for
from grader.worker.forker import Forker


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


def serve(stdin, stdout, scratch_root: str, warm) -> None:
    """The fork server's loop: say it is ready, fork the forker (``forker``: every child is
    forked from it, never from here), then one request at a time, each run in a child forked
    ahead of need and supervised here (``supervisor.run_job``), until the grader closes
    ``stdin``. What ``warm`` names is imported already."""
    os.chmod(scratch_root, 0o700)
    os.environ["IPYTHONDIR"] = os.path.join(scratch_root, "ipython")
    from grader.worker.pool import Warm
    gc.freeze()  # what the imports made is never collected again: children copy less
    forker = Forker(scratch_root, warm)  # before this process reads a byte of a request
    wire.write_frame(stdout, {"ready": True, "features": sandbox.probe_features(),
                              "pid": os.getpid(), "forker": forker.pid})
    grader_fd = stdout.fileno()
    requests = os.fdopen(stdin.fileno(), "rb", buffering=0, closefd=False)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the children are ours to wait for
    ended: list[Spare] = []  # children done with, reaped once they have exited
    try:
        spare = forker.take()
        while True:
            try:  # the notice: course data only, passed on to the forker
                raw = wire.read_payload(requests)
            except EOFError:
                break
            notice = json.loads(raw)
            forker.notice(raw)
            hold_inputs(notice["hold"], decoded=False)  # to complete requests (inputs_for)
            if not warm.notebooks and notice["notebook"]:  # the forker loads its machinery
                warm = Warm(warm.torch, True)
                spare.finish()  # forked without it
                spare = forker.take()
            request = json.loads(wire.read_payload(requests))
            forker.ask()  # the next child is forked while this one works
            wrote = False
            supervisor.reset_peak()
            try:
                outcome, finished = supervisor.run_job(inputs_for(request, spare),
                                                       scratch_root, spare)
                del request
                outcome["supervisor_peak"] = supervisor.peak_bytes()
                payload = supervisor.outcome_payload(outcome)
                del outcome
                shutil.rmtree(finished.scratch, ignore_errors=True)  # gone before the outcome
                wrote = True
                wire.write_payload(grader_fd, payload)
                del payload
                ended.append(finished.kill())
            except Exception as exc:
                if wrote:  # half a message may be on its way: this stream is done
                    raise SystemExit(1) from None
                spare.finish()
                wire.write_frame(stdout, {"failed": f"the worker's supervision failed: "
                                                    f"{type(exc).__name__}: {exc}"})
            ended = [s for s in ended if not s.reaped()]
            spare = forker.take()
    finally:
        for s in ended:
            s.finish()
        spare.finish()
        forker.close()
        shutil.rmtree(scratch_root, ignore_errors=True)


def template(control: socket.socket, warm) -> None:
    """Import once what every fork server needs, then fork a fork server per request on
    ``control`` (a Unix socket to the grader): the servers of a pool share one import of
    torch (seconds of CPU each) and its pages. A request is a scratch folder and, passed
    with it, the server's two pipe ends (requests in, outcomes out); the answer is its pid.
    Ends when the grader closes its end."""
    warm_up(warm.torch, warm.notebooks)
    gc.freeze()
    pages.collapse()  # every server forked from here, and each of its forks, copies less
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
                supervisor.PARENT_PID = me  # the server ends with its template
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
    supervisor.PARENT_PID = os.getppid()  # the server ends with its grader
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
    gc.freeze()
    pages.collapse()  # alone, it is its own template
    serve(stdin, stdout, scratch_root, warm)


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, ConnectionError):  # the grader went first (stopped while this
        os._exit(1)  # started): nobody reads what it would say, a traceback least of all
