"""Peak memory of grading, counted as a container would (issue 16).

Two numbers per run, sampled together:
- the peak of a memory cgroup made for the run (cgroup v2 ``memory.peak``; on a cgroup v1
  machine ``memory.max_usage_in_bytes``): what Gradescope's container limit counts. Pages of
  shared libraries already in the page cache (charged to whoever read them first) are not
  counted again; with ``--drop-caches`` (root) they are read afresh and charged to the run;
- the peak of the process tree's PSS summed (``/proc/<pid>/smaps_rollup``, every 20 ms):
  shared pages split between the processes sharing them.

Runs: one student graded the Gradescope way (``run_autograder`` of a freshly built bundle in a
simulated ``/autograder`` tree), and a batch of a generated class with two workers.
Usage: python bench/bench_memory.py [--students 20] [--drop-caches]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
MiB = 1024 * 1024


def _cgroup() -> tuple[Path, str] | None:
    """A fresh memory cgroup and the file holding its peak, or None where none can be made."""
    name = f"grader-bench-{os.getpid()}-{time.monotonic_ns()}"
    unified = Path("/sys/fs/cgroup")
    if (unified / "cgroup.controllers").is_file() and \
            "memory" in (unified / "cgroup.controllers").read_text():
        try:
            (unified / name).mkdir()
            return unified / name, "memory.peak"
        except OSError:
            pass
    v1 = Path("/sys/fs/cgroup/memory")
    try:
        (v1 / name).mkdir()
        return v1 / name, "memory.max_usage_in_bytes"
    except OSError:
        return None


def _pss_tree(pid: int) -> int:
    try:
        procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run ``cmd`` in its own cgroup; its wall time, peak cgroup usage and peak PSS sum."""
    group = _cgroup()
    wrapped = cmd
    if group is not None:  # the shell enters the cgroup, then becomes the command
        wrapped = ["sh", "-c", f'echo $$ > "{group[0]}/cgroup.procs" && exec "$@"', "sh", *cmd]
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    peak_pss = [0]

    def sample():
        while proc.poll() is None:
            peak_pss[0] = max(peak_pss[0], _pss_tree(proc.pid))
            time.sleep(0.02)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    peak = None
    if group is not None:
        peak = int((group[0] / group[1]).read_text())
        try:
            group[0].rmdir()
        except OSError:
            pass
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return {"wall": wall, "cgroup": peak, "pss": peak_pss[0]}


def _say(label: str, m: dict) -> None:
    group = f"{m['cgroup'] / MiB:.0f} MiB" if m["cgroup"] is not None else "n/a (no cgroup)"
    print(f"{label}: wall {m['wall']:.2f} s, cgroup peak {group}, "
          f"PSS peak {m['pss'] / MiB:.0f} MiB")


def gradescope(tmp: Path, drop: bool) -> None:
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "grader", "gradescope", "--out", str(dist)],
                   cwd=ROOT, check=True, capture_output=True)
    root = tmp / "autograder"
    with zipfile.ZipFile(dist / "autograder.zip") as z:
        z.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    # the demo (its one mistake is in NumPy), then a student whose torch code is wrong too:
    # diagnosing it makes the grader itself import torch
    for who in ("demo", "demo with a summed loss in 02"):
        shutil.rmtree(root / "submission", ignore_errors=True)
        (root / "submission").mkdir()
        for path in (ROOT / "submissions" / "demo").rglob("*.py"):
            shutil.copy(path, root / "submission")
        if who != "demo":
            lr = root / "submission" / "autograd_lr.py"
            lr.write_text(lr.read_text().replace(".mean()", ".sum()"))
        for i in range(2):
            if drop:
                subprocess.run(["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches"],
                               check=False)
            _say(f"gradescope run_autograder, {who}, run {i + 1}",
                 measure([str(root / "source" / "run_autograder")], env=env))


def batch(tmp: Path, students: int) -> None:
    from make_class import make_class
    klass = tmp / "class"
    make_class(klass, students)
    cmd = [sys.executable, "-m", "grader", "batch", str(klass), "--results",
           str(tmp / "results"), "--workers", "2", "--force"]
    _say(f"batch of {students}, 2 workers", measure(cmd))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument("--drop-caches", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        gradescope(Path(tmp), args.drop_caches)
        batch(Path(tmp), args.students)


if __name__ == "__main__":
    main()
