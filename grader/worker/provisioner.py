"""In the fork server, supervising a request: run a notebook's cells with nbclient, in a kernel forked warm.

A kernel's usual start (a fresh ``python -m ipykernel``, then ``import torch``) costs
seconds. Here the kernel is the worker itself: forked from the warm fork server, confined,
turned into an ipykernel on the connection file written for it (``kernel.serve``).
``ForkedKernelProvisioner`` — a jupyter_client kernel provisioner — hands that process to
jupyter_client's ``KernelManager``: "launching" adopts the forked pid, and interrupts, kills
and liveness checks act on it, so nbclient drives it like any other kernel.

Everything here is trusted code that only reads messages: no expected value is ever sent
to the kernel, and what comes back (outputs, errors) is plain JSON.
"""
from __future__ import annotations

import asyncio
import atexit
import os
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from grader.worker.notebook import SELF_CHECK_TAG, NotebookError, read

PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
IOPUB_GRACE_SECONDS = 2.0
"""After an interrupted cell, how long its last outputs may take to arrive."""
MESSAGE_BYTES = 16 << 20
"""The largest message the kernel may send: a larger one is dropped by ZeroMQ before it is
read (what the kernel sends is the student's code talking, and every byte read is held)."""
OUTPUT_BYTES = 1 << 20
"""How much of a notebook's outputs is kept while it runs (the report keeps far less);
the rest is counted and dropped as it arrives."""
ERROR_CHARS = 4000
"""How much of an error output's name, value and traceback is kept."""
QUEUED_MESSAGES = 16
"""How many messages of the kernel's a channel holds before they are read: past it ZeroMQ
drops them (each up to MESSAGE_BYTES; a channel never read, stdin's, once queued 1,000)."""
SEND_SECONDS = 10.0
"""How long a message to the kernel may wait to be sent. A send blocks the loop that drives
the notebook, and with it every deadline (a connection dropped over a too-large reply once
left a send, and the whole batch, waiting for good)."""
OVERDUE_SECONDS = 30.0
"""Past its time limit, how long a notebook's driving may go on before an alarm stops it
whatever it is doing (the last resort when the loop itself is stuck)."""


def kernel_request(scratch: str, confine: bool, device: str) -> dict:
    """Before the fork: how the worker becomes a kernel — its channels as Unix sockets inside
    its scratch folder — or why it cannot."""
    try:
        from jupyter_client.connect import write_connection_file
        import nbclient  # noqa: F401
    except ImportError:
        return {"error": "grading notebooks needs jupyter_client, nbclient and ipykernel, "
                         "which this machine lacks (pip install -r requirements.lock)"}
    path = os.path.join(scratch, "kernel.json")
    write_connection_file(path, transport="ipc", ip=os.path.join(scratch, "k"),
                          key=secrets.token_hex(16).encode(), signature_scheme="hmac-sha256",
                          kernel_name="python3", **PORTS)
    # CUDA opens its Unix sockets lazily, so a CUDA kernel keeps socket() (as modules do).
    return {"connection_file": path, "forbid_sockets": confine and not device.startswith("cuda")}


def _provisioner_class():
    from jupyter_client.provisioning import KernelProvisionerBase
    from traitlets import Dict, Integer

    class ForkedKernelProvisioner(KernelProvisionerBase):
        """A kernel that is already running in a process forked by the fork server."""

        pid = Integer(0)
        adopted_info = Dict()

        @property
        def has_process(self) -> bool:
            return self.pid > 0

        async def pre_launch(self, **kwargs):
            kwargs = await super().pre_launch(**kwargs)
            kwargs["cmd"] = []  # nothing to execute: the process exists
            return kwargs

        async def launch_kernel(self, cmd, **kwargs):
            self.connection_info = dict(self.adopted_info)
            return self.connection_info

        async def poll(self):
            return exit_status(self.pid)

        async def wait(self):
            while (status := exit_status(self.pid)) is None:
                await asyncio.sleep(0.01)
            return status

        async def send_signal(self, signum: int) -> None:
            _signal(self.pid, signum)

        async def kill(self, restart: bool = False) -> None:
            _signal(self.pid, signal.SIGKILL)

        async def terminate(self, restart: bool = False) -> None:
            _signal(self.pid, signal.SIGTERM)

        async def cleanup(self, restart: bool = False) -> None:
            """The fork server reaps the process and removes the scratch folder."""

    return ForkedKernelProvisioner


def _ready_client_class():
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        """jupyter_client's client, minus a fixed wait: its ``wait_for_ready`` ends by
        draining IOPub until 0.2 s pass in silence. Here the kernel is ready when the idle
        status of our ``kernel_info_request`` arrives on IOPub (which also proves IOPub is
        subscribed, the point of that wait)."""

        def start_channels(self, shell=True, iopub=True, stdin=True, hb=True, control=True):
            """Every channel but the heartbeat (liveness comes from the kernel manager,
            which polls the process) and stdin, each refusing messages over MESSAGE_BYTES,
            holding at most QUEUED_MESSAGES unread, and giving up a send after
            SEND_SECONDS."""
            import zmq
            for option, value in ((zmq.MAXMSGSIZE, MESSAGE_BYTES),  # for every socket made
                                  (zmq.RCVHWM, QUEUED_MESSAGES),
                                  (zmq.SNDTIMEO, int(SEND_SECONDS * 1000))):
                self.context.setsockopt(option, value)
            # No stdin channel: nobody types in a batch (input() raises), and a channel
            # nobody reads only queues what the kernel sends on it.
            super().start_channels(shell, iopub, False, False, control)

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout or 60.0)
            while time.monotonic() < deadline:
                msg_id = self.kernel_info()
                try:
                    reply = await _reply(self.shell_channel, msg_id, 0.5, "kernel_info_reply")
                    await _reply(self.iopub_channel, msg_id, 0.5, "status",
                                 lambda m: m["content"].get("execution_state") == "idle")
                except Empty:
                    if not await self._async_is_alive():
                        raise RuntimeError("Kernel died before replying to kernel_info") from None
                    continue
                self._handle_kernel_info_reply(reply)
                return
            raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


    return ReadyClient


def exit_status(pid: int) -> int | None:
    """None while the process runs; never reaps it (``supervisor.run_job`` does)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return -1
    return None if info is None else info.si_status


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cell_note(number: int, outputs: list, timed_out: bool, limit: float) -> str | None:
    """What a student reads about one code cell, or None when it ran cleanly."""
    if timed_out:
        return (f"code cell {number} raised CellTimeout: ran past its {limit:g} s limit and "
                f"was interrupted; the next cells still ran")
    for out in outputs:
        if out.get("output_type") == "error":
            trace = _ANSI.sub("", "\n".join(out.get("traceback") or []))
            lines = _LINE.findall(trace)
            where = f", line {lines[-1]}" if lines else ""
            return (f"code cell {number} raised {out.get('ename')}: "
                    f"{str(out.get('evalue'))[:200]}{where}; the next cells still ran")
    return None


def _stream_text(outputs: list) -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")


@dataclass
class NotebookRun:
    """The outcome of running one notebook: per-cell notes and the verdict."""

    notes: list[str] = field(default_factory=list)
    failure: str | None = None
    """Why the names cannot be graded (kernel died, notebook over its limit), or None."""
    running_cell: int | None = None


def execute(path: str, connection_file: str, pid: int, cell_seconds: float,
            notebook_seconds: float, output_fd: int, on_output: Callable[[bytes], None],
            on_text: Callable[[str], None]) -> NotebookRun:
    """Run every code cell of ``path`` in the kernel ``pid`` serves, then shut it down.

    Returns once the kernel's loop has been asked to stop (its process goes on to the
    probes) or the process has been killed (``failure`` says why). ``output_fd`` is the
    worker's stdout pipe, drained meanwhile into ``on_output``; cell outputs go to
    ``on_text``. Everything it made (sockets, contexts, its loop) is closed on return.
    """
    run = NotebookRun()
    try:
        nb = read(path)
    except NotebookError as exc:
        run.failure = str(exc)
        return run
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    loop = asyncio.new_event_loop()

    def drain() -> None:
        data = os.read(output_fd, 1 << 16)
        if data:
            on_output(data)
        else:  # closed: the fork server's own loop sees the end
            loop.remove_reader(output_fd)
    loop.add_reader(output_fd, drain)

    def overdue(signum, frame):
        raise _Overdue()
    main = threading.current_thread() is threading.main_thread()  # (a fork server's is)
    if main:  # then again every 5 s, until the driving has stopped
        alarm = signal.signal(signal.SIGALRM, overdue)
        signal.setitimer(signal.ITIMER_REAL, notebook_seconds + OVERDUE_SECONDS, 5.0)
    try:
        try:
            loop.run_until_complete(asyncio.wait_for(
                _drive(nb, connection_file, pid, cell_seconds, run, on_text), notebook_seconds))
        finally:
            if main:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except (_Overdue, asyncio.TimeoutError) as exc:
        _signal(pid, signal.SIGKILL)
        stuck = " and stopped answering" if isinstance(exc, _Overdue) else ""
        cell = f" (code cell {run.running_cell} was running)" if run.running_cell else ""
        run.failure = f"the notebook ran past its time limit{stuck}{cell}"
    except _KernelDied:
        cell = f" while running code cell {run.running_cell}" if run.running_cell else ""
        run.failure = f"the notebook's kernel died{cell}"
    except _Deaf as exc:
        _signal(pid, signal.SIGKILL)
        run.failure = f"{exc}; the notebook was stopped"
    except Exception as exc:  # the kernel never answered, a message it garbled, ...
        _signal(pid, signal.SIGKILL)
        run.failure = f"the notebook's kernel could not be driven: {type(exc).__name__}: {exc}"
    finally:
        if main:
            signal.signal(signal.SIGALRM, alarm)
        loop.remove_reader(output_fd)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        for signum, handler in handlers.items():  # nbclient installs its own meanwhile
            signal.signal(signum, handler)
    return run


class _KernelDied(Exception):
    pass


class _Overdue(BaseException):
    """The alarm past a notebook's limit: its driving was stuck (``OVERDUE_SECONDS``). Not
    an ``Exception``, which the libraries' handlers would swallow; it fires every 5 s until
    the driving has stopped."""


class _Deaf(Exception):
    """The kernel no longer answers: the message says what it was doing."""


async def _reply(channel, msg_id: str, seconds: float, msg_type: str | None = None,
                 accept=lambda msg: True) -> dict:
    """The first message on ``channel`` answering ``msg_id`` (of ``msg_type``, if given, and
    passing ``accept``); ``queue.Empty`` if none comes within ``seconds``."""
    from queue import Empty
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        msg = await channel.get_msg(timeout=left)
        if (msg["parent_header"].get("msg_id") == msg_id
                and msg_type in (None, msg["msg_type"]) and accept(msg)):
            return msg
    raise Empty


async def _answers(channel, msg_id: str) -> bool:
    """Whether the kernel replies to ``msg_id`` on ``channel`` within the grace period."""
    from queue import Empty
    try:
        await _reply(channel, msg_id, IOPUB_GRACE_SECONDS)
    except Empty:
        return False
    return True


async def _drive(nb, connection_file: str, pid: int, cell_seconds: float, run: NotebookRun,
                 on_text: Callable[[str], None]) -> None:
    import zmq.asyncio
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    class Client(NotebookClient):
        """nbclient, remembering which cells it had to interrupt."""

        interrupted: set
        kept: int = 0
        dropped: int = 0

        def output(self, outs, msg, display_id, cell_index):
            """Outputs are kept up to OUTPUT_BYTES in all; a cell's first error always, cut
            to size (a cell raises once: any other error output is the student's code
            talking, and counts like any output)."""
            content = msg.get("content") or {}
            if msg.get("msg_type") == "error" and \
                    not any(o.get("output_type") == "error" for o in outs):
                content["ename"] = str(content.get("ename", ""))[:ERROR_CHARS]
                content["evalue"] = str(content.get("evalue", ""))[:ERROR_CHARS]
                content["traceback"] = [str(t)[:ERROR_CHARS]
                                        for t in (content.get("traceback") or [])[-20:]]
                return super().output(outs, msg, display_id, cell_index)
            size = _weight(content)
            if self.kept + size > OUTPUT_BYTES:
                self.dropped += size
                return None
            self.kept += size
            return super().output(outs, msg, display_id, cell_index)

        def _update_display_id(self, display_id, msg):
            """An update of a displayed output counts against OUTPUT_BYTES like a new one
            (nbclient replaced it in place, whatever its size: forty small displays, each
            updated with megabytes, were all kept)."""
            if display_id in self._display_id_map:
                size = _weight(msg.get("content") or {})
                if self.kept + size > OUTPUT_BYTES:
                    self.dropped += size
                    return None
                self.kept += size
            return super()._update_display_id(display_id, msg)

        def handle_comm_msg(self, outs, msg, cell_index):
            """Comms (widgets) are a browser's, and nothing here shows them: none is kept
            (nbclient kept each comm's state and a base64 copy of every buffer it carried,
            without limit: a red team's cell ran its fork server out of memory)."""
            return None

        async def _async_handle_timeout(self, timeout, cell=None):
            self.interrupted.add(id(cell))
            return await super()._async_handle_timeout(timeout, cell)

    context = zmq.asyncio.Context()
    km = AsyncKernelManager(connection_file=connection_file, context=context,
                            kernel_name="python3", shutdown_wait_time=1.0,
                            autorestart=False, client_factory=_ready_client_class())
    km._kernel_spec = KernelSpec(argv=[], display_name="Python 3 (grader)", language="python",
                                 name="python3")
    km.load_connection_file()
    info = km.get_connection_info()
    km.provisioner = _provisioner_class()(kernel_id=km.kernel_id or "forked",
                                          kernel_spec=km.kernel_spec, parent=km, pid=pid,
                                          adopted_info=info)
    client = Client(nb, km=km, timeout_func=lambda cell: cell_seconds, allow_errors=True,
                    interrupt_on_timeout=True, skip_cells_with_tag=SELF_CHECK_TAG,
                    error_on_timeout={"ename": "CellTimeout", "evalue": "", "traceback": []},
                    iopub_timeout=IOPUB_GRACE_SECONDS, startup_timeout=30, record_timing=False,
                    store_widget_state=False,
                    kernel_name="python3", resources={"metadata": {}})
    client.interrupted = set()
    try:
        async with client.async_setup_kernel():
            number = 0
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                number += 1
                if SELF_CHECK_TAG in cell.get("metadata", {}).get("tags", []):
                    continue
                run.running_cell = number
                try:
                    await client.async_execute_cell(cell, index, execution_count=number)
                except DeadKernelError:
                    raise _KernelDied() from None
                on_text(_stream_text(cell.outputs))
                interrupted = id(cell) in client.interrupted
                if interrupted and not await _answers(client.kc.shell_channel,
                                                      client.kc.kernel_info()):
                    raise _Deaf(f"code cell {number} ran past its {cell_seconds:g} s limit "
                                f"and did not stop when interrupted")
                note = cell_note(number, cell.outputs, interrupted, cell_seconds)
                if note:
                    run.notes.append(note)
            run.running_cell = None
            if client.dropped:
                run.notes.append(f"the notebook's outputs came to more than "
                                 f"{OUTPUT_BYTES >> 20} MiB: about {client.dropped:,} "
                                 "characters of them were not kept")
            # The kernel's loop returns on this request, and the probes follow. Its reply
            # must arrive before the sockets close (closing drops unsent messages).
            if not await _answers(client.kc.control_channel, client.kc.shutdown()):
                raise _Deaf("the notebook's kernel did not answer the request to stop")
    finally:
        atexit.unregister(client._cleanup_kernel)
        if client.kc is not None:
            client.kc.stop_channels()
            client.kc.context.destroy(linger=0)  # the client's own context and its threads
        km._close_control_socket()
        context.destroy(linger=0)
        await asyncio.sleep(0)


def _weight(content: dict) -> int:
    """Roughly what an output holds, in characters (its text, its data's values, an error's
    value and traceback)."""
    data = content.get("data")
    values = data.values() if isinstance(data, dict) else ()
    return sum(len(str(content.get(k, ""))) for k in ("text", "evalue", "traceback")) + \
        sum(len(str(v)) for v in values) + 64
