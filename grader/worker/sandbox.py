"""Confinement applied in a forked worker right before student code runs.

Four layers, each checked at start-up (``probe_features``):
- a private scratch (mount namespace): the fork gets a mount namespace of its own where
  every mount is read-only except its scratch folder and ``scratch/work``, a tmpfs capped at
  ``Limits.scratch_bytes`` and ``Limits.scratch_files`` where the student works (HOME,
  TMPDIR, the current folder). Nothing outside can change — contents, mode, owner, dates,
  extended attributes, links, renames (EROFS) — and the tmpfs dies with the fork. As root
  the fork unshares its mount namespace directly; as an ordinary user, inside a user
  namespace that maps it to itself (Linux >= 5.12 for ``mount_setattr`` either way). Where
  neither works (a container without CAP_SYS_ADMIN, user namespaces disabled, or a
  non-root grader holding capabilities it would lose), the grader warns in one line and
  seccomp takes over for metadata (below); scratch space is then capped per file only;
- Landlock (filesystem): read-only Python, site-packages and the student's own folder,
  read-write only the scratch folder; abstract sockets scoped (ABI >= 6);
- seccomp (system calls): no ``socket()`` at all, nor io_uring (which makes sockets too),
  so no network, loopback included; no new processes (threads are allowed), no ``ptrace``
  or ``process_vm_*``; signals (``kill``,
  ``tgkill``, ``rt_sigqueueinfo``, ``rt_tgsigqueueinfo``) and ``prlimit64`` only to the
  fork itself, ``tkill`` and pidfds refused — on every kernel, so Landlock's signal scoping
  is not needed. No file opened by handle, no namespace, no System V IPC, no keyring, no
  inotify or fanotify watch (``BEYOND_THE_FORK``). Without the private scratch (or without
  Landlock), the chmod and utime
  families return 0 and change nothing (``shutil.copy`` and IPython's first start chmod the
  files they make), the chown and xattr families and ``chattr``'s ioctls fail with EPERM.
  A kernel without seccomp is refused (``refusal``);
- rlimits: address space, CPU seconds, file size, open files, core dumps.
Then the fork gives up its capabilities (``drop_capabilities``: all of them under a root
grader). Works as root and as an unprivileged user: nothing here needs a privilege.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys
from dataclasses import dataclass
from pathlib import Path


class _LazyLibc:
    """The C library, loaded on first use. This module is imported wherever the grader is
    (a student's self-check reads ``Limits`` and ``explain_no_space`` on Windows and macOS
    too), and only Linux confines: nothing Linux-only runs at import."""

    _lib = None

    def __getattr__(self, name: str):
        if _LazyLibc._lib is None:
            _LazyLibc._lib = ctypes.CDLL(None, use_errno=True)
        return getattr(_LazyLibc._lib, name)


_libc = _LazyLibc()
_ARCH = platform.machine()

# --------------------------------------------------------------------------- landlock
_SYS_LANDLOCK = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
FS_MAKE_SOCK = 1 << 9
_FS_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | (1 << 14) | (1 << 15)
_FS_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1,
                  5: (1 << 16) - 1}
NET_ALL = 0b11
SCOPE_ALL = 0b11


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel, 0 when it has none."""
    if _ARCH not in _SYS_LANDLOCK:
        return 0
    abi = _libc.syscall(_SYS_LANDLOCK[_ARCH][0], None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(abi, 0)


def apply_landlock(read: list[str], write: list[str], sockets: list[str] = (),
                   max_abi: int = 1 << 16) -> int:
    """Restrict this process's filesystem access; returns the ABI used (0: not available).
    ``sockets``: folders where the process may only read and bind Unix sockets;
    ``max_abi``: use no more of Landlock than that version has."""
    abi = min(landlock_abi(), max_abi)
    if abi == 0:
        return 0
    create, add_rule, restrict = _SYS_LANDLOCK[_ARCH]
    fs_all = _FS_ALL_BY_ABI.get(abi, (1 << 16) - 1)
    attr = struct.pack("<Q", fs_all)
    if abi >= 4:
        attr += struct.pack("<Q", NET_ALL)
    if abi >= 6:
        attr += struct.pack("<Q", SCOPE_ALL)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _libc.syscall(create, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, access in ((read, FS_READ), (write, fs_all), (sockets, FS_READ | FS_MAKE_SOCK)):
            for path in paths:
                _add_path_rule(add_rule, ruleset, path, access)
        if _libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if _libc.syscall(restrict, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def _add_path_rule(add_rule: int, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path this machine does not have needs no rule
    try:
        if not os.path.isdir(path):
            access &= _FS_FILE_ONLY
        rule = _PathBeneath(access, fd)
        if _libc.syscall(add_rule, ruleset, ctypes.c_int(1), ctypes.byref(rule),
                         ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- seccomp
_SYSCALLS = {
    "x86_64": {"arch": 0xC000003E, "socket": 41, "seccomp": 317, "fork": 57,
               "vfork": 58, "clone": 56,
               "clone3": 435, "ptrace": 101, "process_vm_readv": 310,
               "process_vm_writev": 311, "ioctl": 16,
               # signals: only to this process (the target is checked), never by pidfd
               "kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
               "tkill": 200, "pidfd_open": 434, "pidfd_send_signal": 424, "prlimit64": 302,
               # metadata: refused where no read-only mount namespace covers them
               "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452,
               "chown": 92, "fchown": 93, "lchown": 94, "fchownat": 260,
               "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
               "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "setxattrat": 463,
               "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199,
               "removexattrat": 466, "file_setattr": 469,
               "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
               # file handles (which Landlock reads as their mount's) and namespaces
               "name_to_handle_at": 303, "open_by_handle_at": 304, "unshare": 272,
               "setns": 308,
               "bind": 49, "mknod": 133, "mknodat": 259,
               "inotify_init": 253, "inotify_init1": 294, "fanotify_init": 300,
               # System V IPC and kernel keys: objects that outlive the fork
               "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64,
               "semop": 65, "semctl": 66, "semtimedop": 220, "msgget": 68, "msgsnd": 69,
               "msgrcv": 70, "msgctl": 71, "add_key": 248, "request_key": 249, "keyctl": 250,
               # priorities and policies: see _scheduling
               "setpriority": 141, "ioprio_set": 251, "sched_setscheduler": 144,
               "sched_setattr": 314, "sched_setaffinity": 203,
               # leaving the fork server's process group, or its death
               "setsid": 112, "setpgid": 109, "prctl": 157},
    "aarch64": {"arch": 0xC00000B7, "socket": 198, "seccomp": 277,
                "clone": 220, "clone3": 435, "ptrace": 117,
                "process_vm_readv": 270, "process_vm_writev": 271, "ioctl": 29,
                "kill": 129, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
                "tkill": 130, "pidfd_open": 434, "pidfd_send_signal": 424, "prlimit64": 261,
                "fchmod": 52, "fchmodat": 53, "fchmodat2": 452,
                "fchown": 55, "fchownat": 54, "utimensat": 88,
                "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "setxattrat": 463,
                "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16,
                "removexattrat": 466, "file_setattr": 469,
                "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                "name_to_handle_at": 264, "open_by_handle_at": 265, "unshare": 97,
                "setns": 268,
                "bind": 200, "mknodat": 33,
                "inotify_init1": 26, "fanotify_init": 262,
                "shmget": 194, "shmat": 196, "shmctl": 195, "shmdt": 197, "semget": 190,
                "semop": 193, "semctl": 191, "semtimedop": 192, "msgget": 186, "msgsnd": 189,
                "msgrcv": 188, "msgctl": 187, "add_key": 217, "request_key": 218,
                "keyctl": 219,
                "setpriority": 140, "ioprio_set": 30, "sched_setscheduler": 119,
                "sched_setattr": 274, "sched_setaffinity": 122,
                "setsid": 157, "setpgid": 154, "prctl": 167},
}
MODE_AND_TIME_CALLS = ("chmod", "fchmod", "fchmodat", "fchmodat2", "utime", "utimes",
                       "futimesat", "utimensat")
"""Calls that change a file's mode or dates. Landlock has no right for them; without a
read-only namespace they return 0 and change nothing (``shutil.copy`` and IPython's first
start call chmod on files they just made: failing would break them)."""
OWNER_AND_XATTR_CALLS = ("chown", "fchown", "lchown", "fchownat", "setxattr", "lsetxattr",
                         "fsetxattr", "setxattrat", "removexattr", "lremovexattr",
                         "fremovexattr", "removexattrat", "file_setattr")
"""Calls that change a file's owner or extended attributes: without a read-only namespace
they fail with EPERM (``shutil.copy2`` passes over EPERM on xattrs)."""
BEYOND_THE_FORK = ("name_to_handle_at", "open_by_handle_at", "unshare", "setns",
                   "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl",
                   "semtimedop", "msgget", "msgsnd", "msgrcv", "msgctl", "add_key",
                   "request_key", "keyctl", "inotify_init", "inotify_init1", "fanotify_init")
"""Refused with EPERM, each found by a red team: a file opened by handle with the scratch
folder as its mount was read as Landlock reads the scratch (any file of that filesystem:
/etc/shadow, the course's checks); a user namespace of its own holds every capability
inside it; System V IPC and the keyrings are the host's, so what a fork left there outlived
it for a later student to read, in memory no limit counted (POSIX semaphores and queues
live in /dev/shm and /dev/mqueue, which Landlock does not open to a fork); a watch names
what changes in folders Landlock does not let the fork read (classmates' copies)."""
OUTLIVING_CALLS = ("setsid", "setpgid")
"""Refused with EPERM (a red team's find): with a session of its own and its parent-death
signal cleared (``PR_SET_PDEATHSIG``, refused too: ``seccomp_program``), a child outlived
its job, its fork server and a stopped batch (still holding its memory and its CPU time),
out of reach of the group kill that ends a server and every process it started."""
PR_SET_PDEATHSIG = 1
SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
"""Allowed only when their first argument is the process's own pid."""
_FS_IOC_SETFLAGS = (0x40086602, 0x40046602, 0x401C5820)
"""ioctl requests that set a file's flags (``chattr +i``) or its fsxattr."""
_RET_ALLOW, _RET_ERRNO, _RET_KILL = 0x7FFF0000, 0x00050000, 0x80000000
_LD_ABS, _JEQ, _JGE, _JSET, _RET, _AND = 0x20, 0x15, 0x35, 0x45, 0x06, 0x54
_CLONE_THREAD = 0x00010000


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _arg_low(i: int) -> int:
    """Offset of the low 32 bits of argument ``i`` in ``struct seccomp_data``."""
    return 16 + 8 * i


def _only_if(nr: int, offset: int, allowed: tuple[int, ...], err: int,
             *more: tuple) -> list[bytes]:
    """System call ``nr`` passes only when the 32-bit word at ``offset`` is one of
    ``allowed`` (and so on for each further (offset, allowed[, err]) of ``more``, in order);
    otherwise it fails with that condition's ``err`` (0: it does nothing and says it did).
    Ends the program for that call."""
    body = []
    for at, values, *own in ((offset, allowed), *more):
        n = len(values)
        body.append(_bpf(_LD_ABS, 0, 0, at))
        for j, value in enumerate(values):  # a match jumps past the others and the refusal
            body.append(_bpf(_JEQ, n - j, 0, value))
        body.append(_bpf(_RET, 0, 0, _RET_ERRNO | (own[0] if own else err)))
    return [_bpf(_JEQ, 0, len(body) + 1, nr), *body, _bpf(_RET, 0, 0, _RET_ALLOW)]


SCHED_POLICIES = (0, 3, 0x40000000, 0x40000003)
"""``sched_setscheduler``'s policies a fork may set, on itself or a thread of its own:
SCHED_OTHER and SCHED_BATCH (with SCHED_RESET_ON_FORK or not). Never SCHED_IDLE, which an
unprivileged fork server could not undo on the processes a fork can name (its server, its
forker, the next student's fork), nor a real-time or deadline policy, which would take the
CPUs from every other process, the grader's too."""


def _scheduling(table: dict, pid: int | None) -> list[bytes]:
    """The rules for priorities, policies and CPUs: each only the fork's own. Another
    process's CPUs or policy (``sched_setaffinity``, ``sched_setscheduler``: the fork server,
    the forker, another slot's student, the grader) are left as they are while the call
    says it succeeded: a thread names itself by its thread id (libzmq's threads set their
    policy, and abort on a failure), and for a thread a CPU set is a hint. A priority only
    its own, and no negative niceness (``setpriority(PRIO_PROCESS, 0 or itself, n ≥ 0)``:
    not a group's or a user's, every process of this user the grader's too), an I/O
    priority only its own, a policy only among SCHED_POLICIES, and no ``sched_setattr``
    (its policy is behind a pointer)."""
    deny = _bpf(_RET, 0, 0, _RET_ERRNO | errno.EPERM)
    whom = (0,) if pid is None else (0, pid)
    prog = _only_if(table["ioprio_set"], _arg_low(0), (1,), errno.EPERM,  # WHO_PROCESS
                    (_arg_low(1), whom))
    prog.append(_bpf(_LD_ABS, 0, 0, 0))
    prog += _only_if(table["sched_setscheduler"], _arg_low(1), SCHED_POLICIES, errno.EPERM,
                     (_arg_low(0), whom, 0))
    prog.append(_bpf(_LD_ABS, 0, 0, 0))
    prog += _only_if(table["sched_setaffinity"], _arg_low(0), whom, 0)
    prog.append(_bpf(_LD_ABS, 0, 0, 0))
    prog += [_bpf(_JEQ, 0, 1, table["sched_setattr"]), deny]
    # setpriority(which, who, prio): which PRIO_PROCESS, who 0 or itself, prio not negative
    block = _only_if(table["setpriority"], _arg_low(0), (0,), errno.EPERM, (_arg_low(1), whom))
    allow = block.pop()  # the ALLOW at its end: the niceness is checked before it
    block += [_bpf(_LD_ABS, 0, 0, _arg_low(2)), _bpf(_JGE, 0, 1, 0x80000000), deny, allow]
    block[0] = _bpf(_JEQ, 0, len(block) - 1, table["setpriority"])
    prog += block
    prog.append(_bpf(_LD_ABS, 0, 0, 0))
    return prog


def seccomp_program(allow_unix_sockets: bool = False, pid: int | None = None,
                    metadata: bool = True) -> bytes | None:
    """The BPF filter as bytes, or None on an architecture we have no table for.

    ``allow_unix_sockets`` lets ``socket(AF_UNIX, ...)`` through (still no network): the
    CUDA driver talks to its helpers over Unix sockets. ``pid``: the process the filter is
    for; signals (``kill``, ``tgkill``, ``rt_sigqueueinfo``, ``rt_tgsigqueueinfo``) and
    ``prlimit64`` may then target only that process (``prlimit64`` also 0, itself), and
    ``tkill``, ``pidfd_open`` and ``pidfd_send_signal`` fail. ``metadata``: the chmod and
    utime families do nothing (and say they did), the chown and xattr families and the
    ioctls of ``chattr`` fail, on every file. Priorities and policies: ``_scheduling``.
    """
    table = _SYSCALLS.get(_ARCH)
    if table is None:
        return None
    deny = lambda e: _RET_ERRNO | e
    prog = [_bpf(_LD_ABS, 0, 0, 4), _bpf(_JEQ, 1, 0, table["arch"]), _bpf(_RET, 0, 0, _RET_KILL),
            _bpf(_LD_ABS, 0, 0, 0), _bpf(_JGE, 0, 1, 0x40000000),
            _bpf(_RET, 0, 0, deny(errno.EPERM))]
    if allow_unix_sockets:  # socket(AF_UNIX=1, ...) passes; every other family is refused
        prog += [_bpf(_JEQ, 0, 4, table["socket"]), _bpf(_LD_ABS, 0, 0, 16),
                 _bpf(_JEQ, 0, 1, 1), _bpf(_RET, 0, 0, _RET_ALLOW),
                 _bpf(_RET, 0, 0, deny(errno.EACCES)), _bpf(_LD_ABS, 0, 0, 0)]
    rules = [("socket", errno.EACCES), ("fork", errno.EAGAIN), ("vfork", errno.EAGAIN),
             ("clone3", errno.ENOSYS), ("ptrace", errno.EPERM), ("process_vm_readv", errno.EPERM),
             ("process_vm_writev", errno.EPERM),
             # io_uring makes sockets (IORING_OP_SOCKET) and runs calls no rule here sees
             ("io_uring_setup", errno.ENOSYS), ("io_uring_enter", errno.ENOSYS),
             ("io_uring_register", errno.ENOSYS)]
    rules += [(name, errno.EPERM) for name in BEYOND_THE_FORK + OUTLIVING_CALLS]
    if pid is not None:
        rules += [(name, errno.EPERM) for name in ("tkill", "pidfd_open", "pidfd_send_signal")]
    if metadata:  # errno 0: the call returns 0 without running
        rules += [(name, 0) for name in MODE_AND_TIME_CALLS]
        rules += [(name, errno.EPERM) for name in OWNER_AND_XATTR_CALLS]
    for name, err in rules:
        if name in table:
            prog += [_bpf(_JEQ, 0, 1, table[name]), _bpf(_RET, 0, 0, deny(err))]
    # Rules that read an argument end the program for their call: each comes last but one.
    if pid is not None:
        for name in SIGNAL_CALLS:
            prog += _only_if(table[name], _arg_low(0), (pid,), errno.EPERM)
            prog.append(_bpf(_LD_ABS, 0, 0, 0))
        prog += _only_if(table["prlimit64"], _arg_low(0), (0, pid), errno.EPERM)
        prog.append(_bpf(_LD_ABS, 0, 0, 0))
    prog += _scheduling(table, pid)
    # prctl(PR_SET_PDEATHSIG, ...) fails (the signal set before confinement stays); every
    # other prctl goes on through the rules below.
    prog += [_bpf(_JEQ, 0, 3, table["prctl"]), _bpf(_LD_ABS, 0, 0, _arg_low(0)),
             _bpf(_JEQ, 0, 1, PR_SET_PDEATHSIG), _bpf(_RET, 0, 0, deny(errno.EPERM)),
             _bpf(_LD_ABS, 0, 0, 0)]
    if metadata:  # ioctl(fd, FS_IOC_SETFLAGS or FS_IOC_FSSETXATTR, ...) fails; others pass
        n = len(_FS_IOC_SETFLAGS)
        prog += [_bpf(_JEQ, 0, n + 3, table["ioctl"]), _bpf(_LD_ABS, 0, 0, _arg_low(1))]
        prog += [_bpf(_JEQ, n - j, 0, req) for j, req in enumerate(_FS_IOC_SETFLAGS)]
        prog += [_bpf(_RET, 0, 0, _RET_ALLOW), _bpf(_RET, 0, 0, deny(errno.EPERM)),
                 _bpf(_LD_ABS, 0, 0, 0)]
    # clone: threads (CLONE_THREAD) are fine, new processes are not.
    prog += [_bpf(_JEQ, 0, 4, table["clone"]), _bpf(_LD_ABS, 0, 0, 16),
             _bpf(_JSET, 0, 1, _CLONE_THREAD), _bpf(_RET, 0, 0, _RET_ALLOW),
             _bpf(_RET, 0, 0, deny(errno.EAGAIN)), _bpf(_RET, 0, 0, _RET_ALLOW)]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def apply_seccomp(allow_unix_sockets: bool = False, pid: int | None = None,
                  metadata: bool = True) -> bool:
    program = seccomp_program(allow_unix_sockets, pid, metadata)
    if program is None:
        return False
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(38, 1, 0, 0, 0) != 0:
        return False
    return _libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0  # PR_SET_SECCOMP, FILTER


def forbid_new_sockets() -> bool:
    """A second seccomp layer, on every thread of the process (``SECCOMP_FILTER_FLAG_TSYNC``):
    no ``socket()`` of any family from now on, no ``bind()``, no socket file by ``mknod``.
    A notebook's kernel binds its Unix sockets first, then adds this, so its student code
    cannot open a new one (to a Docker socket, say) nor fill the scratch folder with
    sockets' files while the kernel keeps answering on the channels it has.
    ``socketpair()`` stays: an anonymous pair reaches nothing outside, and every asyncio
    loop makes one."""
    table = _SYSCALLS.get(_ARCH)
    if table is None:
        return False
    deny = _RET_ERRNO | errno.EACCES
    prog = [_bpf(_LD_ABS, 0, 0, 4), _bpf(_JEQ, 1, 0, table["arch"]), _bpf(_RET, 0, 0, _RET_KILL),
            _bpf(_LD_ABS, 0, 0, 0), _bpf(_JEQ, 0, 1, table["socket"]), _bpf(_RET, 0, 0, deny),
            # nor a socket's file: bind() (of a socketpair's end), mknod(S_IFSOCK). The
            # scratch folder, where the kernel made its own, is outside the capped tmpfs
            _bpf(_JEQ, 0, 1, table["bind"]), _bpf(_RET, 0, 0, deny)]
    for name, mode_arg in (("mknod", 1), ("mknodat", 2)):
        if name in table:  # (mode & S_IFMT) == S_IFSOCK
            prog += [_bpf(_JEQ, 0, 5, table[name]), _bpf(_LD_ABS, 0, 0, _arg_low(mode_arg)),
                     _bpf(_AND, 0, 0, 0o170000), _bpf(_JEQ, 0, 1, 0o140000),
                     _bpf(_RET, 0, 0, deny), _bpf(_LD_ABS, 0, 0, 0)]
    prog.append(_bpf(_RET, 0, 0, _RET_ALLOW))
    program = b"".join(prog)
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    # seccomp(SECCOMP_SET_MODE_FILTER=1, SECCOMP_FILTER_FLAG_TSYNC=1, prog): 0 when every
    # thread now carries the filter.
    return _libc.syscall(table["seccomp"], ctypes.c_uint(1), ctypes.c_uint(1),
                         ctypes.byref(fprog)) == 0


# --------------------------------------------------------------------------- rlimits
@dataclass(frozen=True)
class Limits:
    """Resource caps of one worker."""

    memory_bytes: int = 4 << 30
    """Address-space cap (CPU grading only: CUDA maps far more address space than it uses)."""
    cpu_seconds: int = 300
    file_bytes: int = 64 << 20
    open_files: int = 256
    output_bytes: int = 64 << 10
    """How much of stdout/stderr is kept; the rest is counted and dropped."""
    result_bytes: int = 32 << 20
    """The largest result one call may send back, encoded (a 2000 x 2000 float64 array is
    ~43 MB encoded; this course's largest is well under 1 MB). A larger one fails that
    call: its worker, its fork server and the grader each hold it whole."""
    results_bytes: int = 64 << 20
    """All the results one fork may send back: past it, the fork is stopped and the calls
    left run in a fresh one (whose results start from zero)."""
    scratch_bytes: int = 256 << 20
    """What the files in a fork's scratch folder may weigh together (a private tmpfs)."""
    scratch_files: int = 10_000
    """How many files and folders a fork's scratch folder may hold."""
    private_scratch: bool = True
    """False: no mount namespace even where the kernel allows one (the seccomp rules for
    metadata instead, and no total cap): what a host without one gets."""
    landlock_abi: int = 1 << 16
    """The highest Landlock ABI to use (a lower one grades as an older kernel would)."""


def apply_rlimits(limits: Limits, cap_memory: bool) -> None:
    import resource  # POSIX only: imported where a fork is confined

    def cap(which, value):
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    if cap_memory:
        cap(resource.RLIMIT_AS, limits.memory_bytes)
    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)


# --------------------------------------------------------------------------- private scratch
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 1
_SYS_MOUNT_SETATTR = 442  # the same number on x86_64 and aarch64
WORK = "work"
"""The scratch folder's subfolder where student code works: a tmpfs of its own."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str | None, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    enc = lambda v: None if v is None else v.encode()
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                       enc(data)), f"mount {target}")


def _set_readonly(path: str, readonly: bool, recursive: bool) -> None:
    attr = struct.pack("<QQQQ", _MOUNT_ATTR_RDONLY if readonly else 0,
                       0 if readonly else _MOUNT_ATTR_RDONLY, 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    _check(_libc.syscall(_SYS_MOUNT_SETATTR, ctypes.c_int(_AT_FDCWD), path.encode(),
                         ctypes.c_uint(_AT_RECURSIVE if recursive else 0), buf,
                         ctypes.c_size_t(len(attr))), f"mount_setattr {path}")


def _holds_capabilities() -> bool:
    """Whether this process holds a capability in its user namespace (entering a new one
    would drop it: a non-root grader that reads its Python through CAP_DAC_READ_SEARCH)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16) != 0
    except OSError:
        pass
    return False


CAP_DAC_READ_SEARCH = 2
KEPT_CAPABILITIES = (CAP_DAC_READ_SEARCH,)
"""What a non-root grader's confined fork keeps of its capabilities, where it holds it:
reading and searching any folder (such a grader may read its Python that way; Landlock
still decides what a fork reads, and seccomp refuses opening files by handle). A root
grader's fork keeps none: no clock, reboot, module, raw I/O, device node, mount, hostname,
user, resource-limit or reading privilege."""
_PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities(keep: tuple[int, ...] | None = None) -> None:
    """Give up, for good, every capability but ``keep`` (those only where held): the
    effective, permitted and inheritable sets, the ambient set, and the bounding set (so
    that no ``execve`` gives them back; with no_new_privs it could not anyway). Seccomp
    lists the calls a fork may not make at all; this takes from a root grader's fork what
    root may do besides (set the clock, reboot, load a module, make device nodes, change
    users or raise its limits). ``keep`` defaults to nothing for root (which owns what it
    reads) and ``KEPT_CAPABILITIES`` for any other user. Raises ``OSError`` where the sets
    cannot be lowered."""
    if keep is None:
        keep = () if os.geteuid() == 0 else KEPT_CAPABILITIES
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capget(ctypes.byref(header), data), "capget")
    held = [data[0].permitted, data[1].permitted]
    kept = [0, 0]
    for cap in keep:
        kept[cap // 32] |= (1 << (cap % 32)) & held[cap // 32]
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for cap in range(64):  # EINVAL past the kernel's last; EPERM without CAP_SETPCAP
        if cap not in keep and _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and \
                ctypes.get_errno() == errno.EINVAL:
            break
    for k in range(2):
        data[k].effective = data[k].permitted = kept[k]
        data[k].inheritable = 0
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)  # capget may have rewritten the first
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _unshare_mounts() -> None:
    """Enter a mount namespace of this process's own: as root directly, otherwise inside a
    user namespace where this process is itself (its uid and gid mapped to themselves)."""
    if os.geteuid() == 0:
        _check(_libc.unshare(_CLONE_NEWNS), "unshare")
        return
    if _holds_capabilities():
        raise OSError(errno.EPERM, "a user namespace would drop this process's capabilities")
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def private_scratch(scratch: str, limits: Limits, cuda: bool) -> str:
    """In this (forked, single-threaded, not yet confined) process: a mount namespace of
    its own, where every mount is read-only but two: ``scratch`` itself (where a notebook's
    kernel binds its sockets) and ``scratch/work``, a tmpfs of at most
    ``limits.scratch_bytes`` and ``limits.scratch_files`` where the student works (``/proc``
    stays writable on CUDA: the driver writes the process's own entries). Nothing outside
    the tmpfs can change — contents, mode, owner, dates, extended attributes, links — and
    the tmpfs is gone with the process. Returns the work folder; raises ``OSError`` where
    the kernel or the privileges do not allow it (nothing has changed then)."""
    work = os.path.join(scratch, WORK)
    os.makedirs(work, exist_ok=True)
    _unshare_mounts()
    # Until every mount is read-only, a failure leaves everything writable as it was (in a
    # namespace of its own): the caller confines with the seccomp rules instead.
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing propagates back out
    _mount(scratch, scratch, None, _MS_BIND)
    _mount("scratch", work, "tmpfs", _MS_NOSUID | _MS_NODEV,
           f"size={limits.scratch_bytes},nr_inodes={limits.scratch_files + 1},mode=0700")
    _set_readonly("/", True, recursive=True)
    try:  # past this point there is no way back: a failure ends the fork
        _set_readonly(scratch, False, recursive=False)
        _set_readonly(work, False, recursive=False)
        if cuda:
            _set_readonly("/proc", False, recursive=False)
    except OSError as exc:
        raise RuntimeError(f"the private scratch folder could not be made writable ({exc})")
    return work


def work_in(work: str, scratch: str) -> None:
    """Make ``work`` the place every default points to (it was ``scratch``)."""
    import tempfile
    os.chdir(work)
    for key, value in list(os.environ.items()):
        if value == scratch:
            os.environ[key] = work
    tempfile.tempdir = work


def private_scratch_available() -> bool:
    """Whether a fork can have its private scratch here (tried in a throwaway child)."""
    if _ARCH not in _SYSCALLS:
        return False
    import tempfile
    outside = tempfile.mkdtemp(prefix="grader-probe-")
    scratch = os.path.join(outside, "scratch")
    os.mkdir(scratch)
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                private_scratch(scratch, Limits(scratch_bytes=1 << 20, scratch_files=4), False)
                with open(os.path.join(scratch, WORK, "x"), "w") as f:
                    f.write("x")
                try:
                    open(os.path.join(outside, "y"), "w").close()
                except OSError as exc:  # everything else is read-only
                    code = 0 if exc.errno == errno.EROFS else 1
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        import shutil
        shutil.rmtree(outside, ignore_errors=True)


_CAPPED: Limits | None = None
"""The limits of this fork's private scratch, once it has one."""

NO_SPACE = ("the scratch folder is full: a run may keep at most {mib} MiB in at most "
            "{files} files there (the sandbox's limit)")


def explain_no_space(exc: BaseException) -> str | None:
    """The message for an ``OSError`` of a full private scratch (no space or no inode
    left), or None for any other exception."""
    if _CAPPED is not None and isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return NO_SPACE.format(mib=_CAPPED.scratch_bytes >> 20, files=_CAPPED.scratch_files)
    return None


# --------------------------------------------------------------------------- together
def readable_roots(student_dir: str, cuda: bool) -> list[str]:
    """What student code may read: Python, its packages, shared libraries, its own folder."""
    roots = {sys.base_prefix, sys.prefix, sys.exec_prefix, student_dir,
             "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib",
             "/usr/share/zoneinfo", "/etc/ld.so.cache", "/etc/localtime",
             "/dev/null", "/dev/urandom", "/dev/random", "/proc/self", "/proc/cpuinfo",
             "/sys/devices/system/cpu"}
    roots.update(p for p in sys.path if p and "site-packages" in p)
    if cuda:  # the driver's devices by name: never all of /dev, whose shm holds the class
        roots.update({"/proc/driver", "/sys", "/usr/local/cuda", "/etc/nvidia", "/dev/zero",
                      "/dev/char"})
        roots.update(str(p) for p in Path("/dev").glob("nvidia*"))
        roots.update(str(p) for p in Path("/dev").glob("dri"))
    return sorted(roots)


def writable_roots(scratch: str, cuda: bool) -> list[str]:
    paths = [scratch, "/dev/null"]
    if cuda:  # the driver's devices, and its writes to the process's own /proc entries
        paths += [str(p) for p in Path("/dev").glob("nvidia*")] + ["/proc/self"]
    return paths


def seccomp_available() -> bool:
    """Whether this kernel takes seccomp filters: ``PR_SET_SECCOMP`` with no program fails
    with EFAULT where it would take one (and changes nothing)."""
    if _ARCH not in _SYSCALLS:
        return False
    _libc.prctl(22, 2, None, 0, 0)
    return ctypes.get_errno() == errno.EFAULT


def probe_features() -> dict:
    """What confinement this kernel offers, for the one-line report at start-up."""
    return {"landlock": landlock_abi(), "seccomp": seccomp_available(), "rlimits": True,
            "private_scratch": private_scratch_available()}


def missing_features(features: dict) -> list[str]:
    """What confinement is missing, for a warning. Signals need no Landlock scoping (ABI 6):
    the seccomp filter lets a fork signal only itself."""
    missing = []
    if not features.get("landlock"):
        missing.append("Landlock (filesystem confinement)")
    if not features.get("private_scratch", True):
        missing.append("a private scratch folder (a mount namespace: root or user "
                       "namespaces), so scratch space is capped per file only")
    return missing


def refusal(features: dict) -> str | None:
    """Why grading must not start on this kernel (one line), or None. Without seccomp a
    fork could open sockets, start processes and kill its fork server."""
    if not features.get("seccomp"):
        return ("this kernel lacks seccomp (network, process and signal confinement): "
                "refusing to grade (--no-confine grades without any confinement)")
    return None


def confine(student_dir: str, scratch: str, cuda: bool, unix_sockets: bool,
            limits: Limits) -> str:
    """Confine this forked process before student code runs (after ``apply_rlimits``): a
    private scratch where the kernel allows one (else the seccomp rules for metadata),
    Landlock, then seccomp. Returns the folder the student works in."""
    global _CAPPED
    work = None
    if limits.private_scratch:
        try:
            work = private_scratch(scratch, limits, cuda)
            work_in(work, scratch)
            _CAPPED = limits
        except OSError:
            pass
    # Sockets are made in the scratch folder (outside the capped tmpfs) only by a notebook's
    # kernel or the CUDA driver: another fork could fill the disk with their inodes
    abi = apply_landlock(readable_roots(student_dir, cuda),
                         writable_roots(work or scratch, cuda),
                         [scratch] if work and unix_sockets else [],
                         max_abi=limits.landlock_abi)
    drop_capabilities()  # the namespace and Landlock needed them; nothing after does
    # Without Landlock the fork could reach its server's (writable) mounts through
    # /proc/<pid>/root: the seccomp rules for metadata then apply as well.
    apply_seccomp(allow_unix_sockets=unix_sockets, pid=os.getpid(),
                  metadata=work is None or abi == 0)
    return work or scratch


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when ``parent`` (the fork server) dies, whatever kills it; exit
    now if it is already gone (the usual PR_SET_PDEATHSIG race)."""
    _libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    if os.getppid() != parent:
        os._exit(70)
