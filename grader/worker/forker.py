"""The forker: the clean process every child of a fork server is forked from.

A fork server (``zygote.serve``) reads each student's request and supervises the student's
child itself (``supervisor.run_job``), so its memory holds what earlier students sent. It
therefore forks nothing after its start: once, before it reads anything, it forks this
*forker*, which reads only course data (the public inputs to keep, the course's probes,
whether a notebook comes) and forks each child ahead of need. A child is a copy of the
forker: it never finds another student's byte in the memory it inherits.

The forker forks with ``CLONE_PARENT``: the child's parent is the fork server, not the
forker, so the server waits for it (its exit status, its CPU time), and it dies with the
server (``PR_SET_PDEATHSIG``). Before this, each request had a *supervisor* process of its
own, forked by the server and forking the child in turn: two forks and two exits of a
process holding torch per request, where one of each now does.

The two talk over a pipe (server → forker: length-prefixed commands) and a Unix socket
(forker → server: one datagram per child, its pid, scratch folder and held keys, with its
three pipe ends passed along).
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import signal
import socket
import threading

from grader.worker import sandbox, wire
from grader.worker.child import Spare, _close, _close_all_but, _stop, hold_inputs, prefork
from grader.worker.student import import_course_probes

CLONE_PARENT = 0x00008000
CLONE_CHILD_SETTID = 0x01000000
NOTICE, SPARE = b"N", b"S"
"""A command's first byte: a notice of course data follows, or a child is wanted."""


class _Clone:
    """``clone(CLONE_PARENT | SIGCHLD)`` from Python: a fork whose child's parent is the
    caller's parent. CPython's own bookkeeping around a fork (the import lock, threads, the
    ``os.register_at_fork`` hooks) runs as in ``os.fork``; the GIL is held throughout
    (``PyDLL``). Called from a single-threaded process that never ran a torch operation,
    so no lock of another thread and no thread pool is copied half-held.

    glibc's ``fork`` also has the kernel write the child's thread id where glibc caches it
    (``CLONE_CHILD_SETTID``); without it, ``pthread_self()``'s calls in the child (its CPU
    clock, its affinity, its scheduling) would name the forker's thread. The same is done
    here: the cache's place in glibc's thread record is found once (``_tid_offset``). With
    another C library (no such place found) the child keeps the forker's cached id: its
    ``pthread_*`` calls on itself then name the forker, where the sandbox makes them do
    nothing (``sandbox._scheduling``)."""

    def __init__(self):
        self.number = sandbox._SYSCALLS.get(platform.machine(), {}).get("clone")
        self.libc = ctypes.PyDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.libc.pthread_self.restype = ctypes.c_void_p
        offset = _tid_offset(self.libc)
        # The thread record stays where it is: the forker never starts another thread.
        ctid = ctypes.c_void_p(0 if offset is None else self.libc.pthread_self() + offset)
        settid = 0 if offset is None else CLONE_CHILD_SETTID
        # clone(flags, stack, parent_tid, child_tid, tls) on x86_64; tls before child_tid
        # elsewhere
        last = (ctid, ctypes.c_ulong(0)) if platform.machine() == "x86_64" else \
            (ctypes.c_ulong(0), ctid)
        self.args = (ctypes.c_long(self.number or 0),
                     ctypes.c_ulong(CLONE_PARENT | settid | signal.SIGCHLD),
                     ctypes.c_void_p(0), ctypes.c_void_p(0), *last)

    def __call__(self) -> int:
        if self.number is None:
            raise OSError(f"no clone system call known on {platform.machine()}")
        api = ctypes.pythonapi
        api.PyOS_BeforeFork()
        pid = self.libc.syscall(*self.args)
        if pid == 0:
            api.PyOS_AfterFork_Child()
            return 0
        err = ctypes.get_errno()
        api.PyOS_AfterFork_Parent()
        if pid < 0:
            raise OSError(err, f"clone: {os.strerror(err)}")
        return pid


def _tid_offset(libc) -> int | None:
    """Where glibc's thread record (``pthread_self()``) caches the thread's id: the one
    offset, within its first KiB, holding the thread's id in this thread and in another
    (None if there is not exactly one: another C library)."""
    def offsets() -> set[int]:
        record, tid = libc.pthread_self(), threading.get_native_id()
        words = (ctypes.c_int32 * 256).from_address(record)
        return {4 * i for i, word in enumerate(words) if word == tid}
    try:
        here, there = offsets(), []
        helper = threading.Thread(target=lambda: there.append(offsets()))
        helper.start()
        helper.join()
        both = here & there[0]
    except Exception:
        return None
    return next(iter(both)) if len(both) == 1 else None


class Forker:
    """The fork server's handle on its forker (forked here, at once: call it before this
    process reads anything of a student's)."""

    def __init__(self, scratch_root: str, warm):
        commands_r, commands_w = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        server = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                sandbox.die_with_parent(server)
                ours.close()
                os.close(commands_w)
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)  # not the grader's requests, nor its outcomes
                os.dup2(devnull, 1)
                _close_all_but({0, 1, 2, commands_r, theirs.fileno()})
                _serve(commands_r, theirs, scratch_root, warm)
                code = 0
            except BaseException:
                pass
            finally:
                os._exit(code)
        os.close(commands_r)
        theirs.close()
        self.pid, self.commands, self.replies = pid, commands_w, ours
        self.asked = 0

    def notice(self, notice: bytes) -> None:
        """Pass on a notice (course data: JSON as the grader sent it); children forked from
        now on inherit what it holds."""
        wire.write_payload(self.commands, NOTICE + notice)

    def ask(self) -> None:
        """Have the next child forked now (while this process supervises another)."""
        wire.write_payload(self.commands, SPARE)
        self.asked += 1

    def take(self) -> Spare:
        """The child asked for (asked now if it was not): OSError if the forker is gone."""
        if not self.asked:
            self.ask()
        message, fds, _, _ = socket.recv_fds(self.replies, 1 << 16, 3)
        self.asked -= 1
        try:
            said = json.loads(message)
            if len(fds) != 3 or "pid" not in said:
                raise ValueError(said.get("error") if isinstance(said, dict) else said)
        except (ValueError, TypeError, AttributeError) as exc:
            _close(*fds)
            raise OSError(f"the forker could not fork a child: {exc or 'it is gone'}") from None
        return Spare(said["pid"], said["scratch"], *fds, frozenset(said["holds"]))

    def close(self) -> None:
        """End the forker (a child it forked is ours: ``Spare.finish`` stops it)."""
        _close(self.commands)
        self.commands = -1
        self.replies.close()
        _stop(self.pid)


def _serve(commands: int, replies: socket.socket, scratch_root: str, warm) -> None:
    """The forker's loop, until the server closes its end: keep what notices hold, fork a
    child when asked."""
    from grader.worker.pool import Warm
    clone = _Clone()
    stream = os.fdopen(commands, "rb")
    while True:
        try:
            command = wire.read_payload(stream)
        except EOFError:
            return
        if command[:1] == NOTICE:
            notice = json.loads(command[1:])
            if notice["notebook"] and not warm.notebooks:
                # Its machinery loads here, unconfined, and is inherited (a confined child
                # cannot read the grader's files).
                from grader.worker.kernel import preload
                preload()
                warm = Warm(warm.torch, True)
            hold_inputs(notice["hold"], decoded=True)
            try:  # every later fork inherits them
                import_course_probes(notice)
            except Exception:  # the fork reports it, in the student's terms
                pass
        elif command[:1] == SPARE:
            try:
                spare = prefork(scratch_root, fork=clone)
            except OSError as exc:
                replies.send(json.dumps({"error": str(exc)}).encode())
                continue
            fds = [spare.request_fd, spare.channel_fd, spare.output_fd]
            socket.send_fds(replies, [json.dumps({
                "pid": spare.pid, "scratch": spare.scratch,
                "holds": sorted(spare.holds)}).encode()], fds)
            _close(*fds)
