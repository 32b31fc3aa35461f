"""Huge pages for what the fork servers share: fewer page-table entries to copy at each fork.

A fork copies an entry of the page table for every page the parent has written, and an exit
drops them all again. A process holding torch has written about 210 MiB of anonymous memory
(its heap, the libraries' data): some 54,000 pages of 4 KiB, copied once per job (forker →
child) and dropped once. Measured on the 2-core machine
(``bench/bench_fork.py``): 6.4 ms of the parent's CPU per fork and 8.9 ms of the child's to
exit. ``MADV_COLLAPSE`` (Linux 6.1 and later, whatever the system's transparent-huge-page
setting short of ``never``) makes most of it 2 MiB pages, about a hundred entries: 1.0 ms and
2.3 ms. The contents stay the same; a later write in a fork copies 4 KiB as before (and
splits that 2 MiB page's entry: a fork server that has run a while keeps about half of its
memory in huge pages).

Done once, in the template, after its imports and before it forks any server: the servers
inherit the huge pages. Not done again in a server: there a page the server wrote is its own
already, and collapsing would copy whole 2 MiB regions it otherwise shares with the template.
Anything that fails (another kernel, another system) leaves the memory as it was.
"""
from __future__ import annotations

import sys

MADV_COLLAPSE = 25
HUGE = 2 << 20


def _regions(maps: str) -> list[tuple[int, int]]:
    """The 2 MiB-aligned stretches of the writable anonymous mappings (and the heap) of a
    ``/proc/self/maps`` text."""
    out = []
    for line in maps.splitlines():
        parts = line.split()
        if len(parts) < 5 or "w" not in parts[1] or (len(parts) > 5 and parts[5] != "[heap]"):
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        start, end = (start + HUGE - 1) & ~(HUGE - 1), end & ~(HUGE - 1)
        if end - start >= HUGE:
            out.append((start, end))
    return out


def collapse() -> int:
    """Collapse this process's anonymous memory into huge pages where the kernel can; the
    bytes collapsed (0 where nothing could be)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        madvise.restype = ctypes.c_int
        with open("/proc/self/maps") as f:
            regions = _regions(f.read())
    except (OSError, AttributeError):
        return 0
    done = 0
    for start, end in regions:
        if madvise(start, end - start, MADV_COLLAPSE) == 0:
            done += end - start
    return done
