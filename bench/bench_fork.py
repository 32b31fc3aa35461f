"""What one student's fork costs the machine, whatever the grader does around it.

A fork server holds NumPy and torch (with ``torch._dynamo``, which optimizers need) so that
no student pays the imports; forking a process that large, and the child's exit, cost CPU
that no student's code uses. This measures both, with and without torch (and with its memory collapsed into huge
pages, as the template does: ``grader.worker.pages``), and the time to
import what the fork servers' template imports: together they bound from below what a
batch can reach against its floor (the students' own CPU time over the cores).
Usage: python bench/bench_fork.py [--forks 200]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

CHILD = r"""
import gc, os, sys, time
import numpy
if sys.argv[1] == "torch":
    import torch, torch._dynamo, torch.nn.functional, torch.optim, torch.utils.data
gc.freeze()
if sys.argv[3] == "huge":
    sys.path.insert(0, sys.argv[4])
    from grader.worker import pages
    pages.collapse()
n = int(sys.argv[2])
parent = child = 0.0
for _ in range(n):
    t = time.process_time()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    parent += time.process_time() - t
    _, _, usage = os.wait4(pid, 0)
    child += usage.ru_utime + usage.ru_stime
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
print(f"{parent / n * 1000:.2f} {child / n * 1000:.2f} {rss}")
"""

IMPORTS = ("import numpy, torch, torch._dynamo, torch.nn.functional, torch.optim, "
           "torch.utils.data")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--forks", type=int, default=200)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for holds, pages in (("numpy", "small"), ("torch", "small"), ("torch", "huge")):
        out = subprocess.run([sys.executable, "-c", CHILD, holds, str(args.forks), pages,
                              root], capture_output=True, text=True, check=True).stdout.split()
        said = " in huge pages (pages.collapse)" if pages == "huge" else ""
        print(f"a process holding {holds:5s}{said} ({out[2]} MiB resident): fork {out[0]} ms "
              f"of the parent's CPU, the child's exit {out[1]} ms of its own")
    usage = []
    for _ in range(3):
        before = os.times()
        subprocess.run([sys.executable, "-c", IMPORTS], check=True)
        after = os.times()
        usage.append(after.children_user - before.children_user
                     + after.children_system - before.children_system)
    print(f"importing what the template imports: {min(usage):.2f} s of CPU (best of 3)")


if __name__ == "__main__":
    main()
