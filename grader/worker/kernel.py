"""Inside the confined worker: become a real Jupyter kernel for one notebook, then hand
its namespace to the probes.

The fork server forks this process warm (NumPy, torch, ipykernel already imported) and has
already confined it; it writes the connection file (``ipc`` transport: Unix sockets in the
worker's scratch folder, no TCP port anywhere) before the fork. Here the kernel binds its
sockets, and — on CPU — a second seccomp layer then forbids creating any socket at all, so
the student's code can only answer on the channels that already exist. The fork server
drives the cells with nbclient and ends with a ``shutdown_request``: the kernel's loop
returns, and the names the notebook defined are graded by the same probes as a module's.
"""
from __future__ import annotations

import os
import time
from typing import Callable

from grader.worker import sandbox

PREIMPORTS = ("zmq", "tornado.ioloop", "ipykernel.kernelapp", "ipykernel.ipkernel",
              "ipykernel.zmqshell", "ipykernel.iostream", "ipykernel.displayhook",
              "ipykernel.comm", "ipykernel.debugger", "IPython.core.interactiveshell",
              "matplotlib_inline",
              "nbformat", "nbclient", "jupyter_client.asynchronous",
              "jupyter_client.provisioning")
"""Imported by the fork server before any fork (no thread starts on import), so a kernel's
start costs its sockets and objects, not its imports (and nbclient runs warm there)."""

SOCKET_WAIT_SECONDS = 5.0

KERNEL_ARGS = ["--IPKernelApp.capture_fd_output=False",  # C-level output stays on our pipe
               "--IPKernelApp.quiet=True",
               "--HistoryManager.enabled=False",  # no history thread, no SQLite file
               "--InteractiveShell.colors=nocolor"]


def preload() -> None:
    import importlib
    import sys
    # No debugger in a grading kernel: with debugpy importable, ipykernel imports pydevd
    # (0.1 s, and tracing hooks no fork server should carry); ``None`` makes it ImportError.
    sys.modules.setdefault("debugpy", None)
    for name in PREIMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:  # a bare image: modules still grade, a notebook says what lacks
            return
    import nbformat
    nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")]))


def _wait_for_sockets(prefix: str, ports: list[int]) -> None:
    """The heartbeat binds in its own thread: wait until every socket file exists."""
    deadline = time.monotonic() + SOCKET_WAIT_SECONDS
    paths = [f"{prefix}-{p}" for p in ports]
    while not all(os.path.exists(p) for p in paths):
        if time.monotonic() > deadline:
            raise RuntimeError("the notebook's kernel did not open its channels")
        time.sleep(0.001)


def _app_class(base):
    import zmq
    from ipykernel.iostream import IOPubThread

    class WorkerKernelApp(base):
        """ipykernel's app with two changes: the IOPub thread has no TCP pipe (that pipe
        serves output of forked subprocesses, which a worker cannot start, and TCP is
        forbidden), and no connection banner on stdout."""

        def init_iopub(self, context):
            self.iopub_socket = context.socket(zmq.XPUB)
            self.iopub_socket.linger = 1000
            self._apply_curve_server_options(self.iopub_socket)
            self.iopub_port = self._bind_socket(self.iopub_socket, self.iopub_port)
            self.configure_tornado_logger()
            self.iopub_thread = IOPubThread(self.iopub_socket, pipe=False,
                                            session=self.session)
            self.iopub_thread.start()
            self.iopub_socket = self.iopub_thread.background_socket

        def log_connection_info(self):
            pass

    return WorkerKernelApp


async def _no_children() -> None:
    """At shutdown ipykernel looks for subprocesses to stop (in /proc, out of reach here)."""


def serve(connection_file: str, ready: Callable[[], None], forbid_sockets: bool,
          student_folder: str = "") -> dict:
    """Run a kernel on ``connection_file`` until its shutdown; returns the user namespace.

    ``student_folder`` is off ``sys.path`` until every socket the kernel needs is bound and
    new ones are forbidden: IPython imports modules as it starts (``pdb``, ``code``,
    ``argcomplete``…), and a file of that name in the student's folder ran there, while
    sockets were still allowed (a red team's ``pdb.py`` kept a socket connected to the
    host for its cells)."""
    import json
    import sys

    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:
        raise RuntimeError("grading notebooks needs ipykernel, which this machine lacks "
                           "(pip install -r requirements.lock)") from None
    info = json.loads(open(connection_file).read())
    streams = sys.stdout, sys.stderr, sys.displayhook
    path = list(sys.path)
    folder = os.path.realpath(student_folder) if student_folder else None
    sys.path[:] = [p for p in path if p and os.path.realpath(p) != folder]
    app = _app_class(IPKernelApp).instance()
    app.initialize(["-f", connection_file, *KERNEL_ARGS])
    app.kernel._progressively_terminate_all_children = _no_children  # a worker has none
    _wait_for_sockets(info["ip"], [info[k] for k in ("shell_port", "iopub_port", "stdin_port",
                                                     "control_port", "hb_port")])
    if forbid_sockets:
        sandbox.forbid_new_sockets()
    sys.path[:] = path  # the notebook's cells import from its folder, as in Jupyter
    ready()
    app.start()  # returns when the fork server's shutdown_request stops the loop
    # Not app.close(): it joins the control thread, which may still be flushing output to
    # the IOPub thread close() has just stopped (a hang). The threads idle until the
    # process ends; the probes' output goes to the worker's pipe again.
    sys.stdout, sys.stderr, sys.displayhook = streams
    return dict(app.kernel.shell.user_ns)
