"""Confinement applied in a forked worker right before student code runs.

Three layers, each checked at start-up and reported in one line when missing:
- Landlock (filesystem): read-only Python, site-packages and the student's own folder,
  read-write only a scratch folder; signals and abstract sockets scoped (ABI >= 6);
- seccomp (system calls): no ``socket()`` at all (so no network, loopback included), no new
  processes (threads are allowed), no ``ptrace`` or ``process_vm_*``;
- rlimits: address space, CPU seconds, file size, open files, core dumps.
Works as root and as an unprivileged user: nothing here needs a privilege.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
_ARCH = platform.machine()

# --------------------------------------------------------------------------- landlock
_SYS_LANDLOCK = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
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


def apply_landlock(read: list[str], write: list[str]) -> int:
    """Restrict this process's filesystem access; returns the ABI used (0: not available)."""
    abi = landlock_abi()
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
        for paths, access in ((read, FS_READ), (write, fs_all)):
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
               "process_vm_writev": 311},
    "aarch64": {"arch": 0xC00000B7, "socket": 198, "seccomp": 277,
                "clone": 220, "clone3": 435, "ptrace": 117,
                "process_vm_readv": 270, "process_vm_writev": 271},
}
_RET_ALLOW, _RET_ERRNO, _RET_KILL = 0x7FFF0000, 0x00050000, 0x80000000
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_CLONE_THREAD = 0x00010000


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)


def seccomp_program(allow_unix_sockets: bool = False) -> bytes | None:
    """The BPF filter as bytes, or None on an architecture we have no table for.

    ``allow_unix_sockets`` lets ``socket(AF_UNIX, ...)`` through (still no network): the
    CUDA driver talks to its helpers over Unix sockets.
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
             ("process_vm_writev", errno.EPERM)]
    for name, err in rules:
        if name in table:
            prog += [_bpf(_JEQ, 0, 1, table[name]), _bpf(_RET, 0, 0, deny(err))]
    # clone: threads (CLONE_THREAD) are fine, new processes are not.
    prog += [_bpf(_JEQ, 0, 4, table["clone"]), _bpf(_LD_ABS, 0, 0, 16),
             _bpf(_JSET, 0, 1, _CLONE_THREAD), _bpf(_RET, 0, 0, _RET_ALLOW),
             _bpf(_RET, 0, 0, deny(errno.EAGAIN)), _bpf(_RET, 0, 0, _RET_ALLOW)]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def apply_seccomp(allow_unix_sockets: bool = False) -> bool:
    program = seccomp_program(allow_unix_sockets)
    if program is None:
        return False
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(38, 1, 0, 0, 0) != 0:
        return False
    return _libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0  # PR_SET_SECCOMP, FILTER


def forbid_new_sockets() -> bool:
    """A second seccomp layer, on every thread of the process (``SECCOMP_FILTER_FLAG_TSYNC``):
    no ``socket()`` of any family from now on. A notebook's kernel binds its Unix sockets
    first, then adds this, so its student code cannot open a new one (to a Docker socket, say)
    while the kernel keeps answering on the channels it has. ``socketpair()`` stays: an
    anonymous pair reaches nothing outside, and every asyncio loop makes one."""
    table = _SYSCALLS.get(_ARCH)
    if table is None:
        return False
    deny = _RET_ERRNO | errno.EACCES
    prog = [_bpf(_LD_ABS, 0, 0, 4), _bpf(_JEQ, 1, 0, table["arch"]), _bpf(_RET, 0, 0, _RET_KILL),
            _bpf(_LD_ABS, 0, 0, 0), _bpf(_JEQ, 0, 1, table["socket"]), _bpf(_RET, 0, 0, deny),
            _bpf(_RET, 0, 0, _RET_ALLOW)]
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


def apply_rlimits(limits: Limits, cap_memory: bool) -> None:
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


# --------------------------------------------------------------------------- together
def readable_roots(student_dir: str, cuda: bool) -> list[str]:
    """What student code may read: Python, its packages, shared libraries, its own folder."""
    roots = {sys.base_prefix, sys.prefix, sys.exec_prefix, student_dir,
             "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib",
             "/usr/share/zoneinfo", "/etc/ld.so.cache", "/etc/localtime",
             "/dev/null", "/dev/urandom", "/dev/random", "/proc/self", "/proc/cpuinfo",
             "/sys/devices/system/cpu"}
    roots.update(p for p in sys.path if p and "site-packages" in p)
    if cuda:
        roots.update({"/dev", "/proc/driver", "/sys", "/usr/local/cuda", "/etc/nvidia"})
    return sorted(roots)


def writable_roots(scratch: str, cuda: bool) -> list[str]:
    paths = [scratch, "/dev/null"]
    if cuda:  # the driver's devices, and its writes to the process's own /proc entries
        paths += [str(p) for p in Path("/dev").glob("nvidia*")] + ["/proc/self"]
    return paths


def probe_features() -> dict:
    """What confinement this kernel offers, for the one-line report at start-up."""
    return {"landlock": landlock_abi(), "seccomp": seccomp_program() is not None,
            "rlimits": True}


def missing_features(features: dict) -> list[str]:
    missing = []
    if not features.get("landlock"):
        missing.append("Landlock (filesystem confinement)")
    elif features["landlock"] < 6:
        missing.append(f"Landlock scoping (kernel has ABI {features['landlock']}, needs 6)")
    if not features.get("seccomp"):
        missing.append("seccomp (network and process confinement)")
    return missing


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when ``parent`` (the fork server) dies, whatever kills it; exit
    now if it is already gone (the usual PR_SET_PDEATHSIG race)."""
    _libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    if os.getppid() != parent:
        os._exit(70)
