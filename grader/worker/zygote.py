"""The warm fork server: imports NumPy and torch once, then runs each job in a supervisor
forked ahead of need, which forks the job's confined child (``supervisor``, ``child``).

Run as ``python -m grader.worker.zygote``. It reads one job at a time from stdin; the
outcome reaches the grader from the supervisor (length-prefixed JSON on the same stream).
It never computes anything itself: no torch operation runs here (a forked child of a process
that ran a multi-threaded op can deadlock), CUDA is never initialised here (a CUDA context
does not survive fork), it never holds an expected value or the hidden-case secret, and it
never reads a byte a student's code wrote.
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
from grader.worker.child import hold_inputs
from grader.worker.student import import_course_probes
from grader.worker.supervisor import SupervisorFailed, _await, presupervise


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
    requests = os.fdopen(stdin.fileno(), "rb", buffering=0, closefd=False)  # read no further
    try:
        while True:
            try:  # the notice: course data only (plain JSON; arrays decoded when held)
                notice = json.loads(wire.read_payload(requests))
            except EOFError:
                break
            if not warm.notebooks and notice["notebook"]:
                # A notebook where none was expected: its machinery must be loaded here,
                # unconfined, and inherited (a confined child cannot read the grader's files).
                warm_up(torch_too=False, notebooks=True)
                warm = Warm(warm.torch, True)
                spare.finish()
                spare = presupervise(scratch_root, grader_fd)
            hold_inputs(notice["hold"])
            try:  # every later fork inherits them
                import_course_probes(notice)
            except Exception:  # the fork reports it, in the student's terms
                pass
            running = spare
            _pass_on(requests.fileno(), running.request_fd)
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


def _pass_on(source: int, target: int) -> None:
    """Move the next frame from ``source`` to ``target`` without reading it: ``splice``
    moves a pipe's bytes in the kernel, so a student's request (their folder, the hidden
    cases' inputs) never enters this process's memory, which every later fork inherits.
    Where the supervisor is gone already, the rest goes to /dev/null (``_await`` then says
    how it ended)."""
    header = b""
    while len(header) < 4:
        chunk = os.read(source, 4 - len(header))
        if not chunk:
            raise EOFError("the grader closed its end inside a request")
        header += chunk
    left = int.from_bytes(header, "big")
    sink = -1
    try:
        os.write(target, header)
    except OSError:
        target = sink = os.open(os.devnull, os.O_WRONLY)
    try:
        while left:
            try:
                moved = os.splice(source, target, left)
            except OSError:  # the supervisor died meanwhile: the rest is dropped
                target = sink = os.open(os.devnull, os.O_WRONLY) if sink < 0 else sink
                continue
            if not moved:
                raise EOFError("the grader closed its end inside a request")
            left -= moved
    finally:
        if sink >= 0:
            os.close(sink)


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
    main()
