"""Batch benchmark (issue 6): a class of 100 through `python -m grader batch` vs a naive baseline.

Reports: wall time for the class, students per second, the grader's own overhead per
student beyond the time student code ran, peak memory of the whole process tree, and the
naive baseline (a fresh Python per student and assignment) measured on a sample and scaled.
Usage: python bench/bench_batch.py [--students 100] [--naive-sample 6]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))
from make_class import make_class  # noqa: E402


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:  # the process just ended
        return 0
    for p in family:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


CPU_SEEN: dict[str, dict[int, float]] = {"grader": {}, "fork servers": {}, "forkers": {}}
"""The last CPU seconds seen of each process of the tree, by role (the forks are the
students': their CPU comes back in results.json)."""


def _cpu_by_role(ps: psutil.Process) -> None:
    """The grader, its fork servers, and their template with the servers it forked (not the
    servers' children: those are the students')."""
    try:
        family = [ps, *ps.children(recursive=False)]
    except psutil.Error:
        return
    for p in list(family[1:]):
        try:
            if "--template" in p.cmdline():
                family += p.children(recursive=False)
        except psutil.Error:
            continue
    forkers = []
    for p in family:
        try:
            t = p.cpu_times()
            role = "grader" if p.pid == ps.pid else \
                "fork servers" if "grader.worker.zygote" in " ".join(p.cmdline()) else ""
            if role == "fork servers" and (p.ppid() != ps.pid or
                                           "--template" not in p.cmdline()):
                # a server (forked by the template, or started alone), not the template:
                # its forker is its first child (the others are the students' forks)
                forkers += sorted(p.children(recursive=False),
                                  key=lambda c: c.create_time())[:1]
        except psutil.Error:
            continue
        if role:
            CPU_SEEN[role][p.pid] = t.user + t.system
    for p in forkers:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        CPU_SEEN["forkers"][p.pid] = t.user + t.system


SAMPLE_EVERY = 0.5
"""Seconds between two looks at the process tree. Looking costs CPU the run then lacks:
every 50 ms it took 5% of the class of 300's wall time (75.7 s against 71.9 s unwatched);
every 0.5 s it costs nothing measurable, and a process's CPU is known to within that."""


TREE_CPU = {"seconds": None}
"""CPU seconds of the whole process tree of the last ``timed`` command (the grader, the
template, the fork servers, their forkers, the students' forks), from a CPU-accounting
cgroup made for the run (None where none can be made: the processes are not all reaped by
their parents, so ``RUSAGE_CHILDREN`` misses most of them)."""


def _cpu_group() -> tuple[Path, callable] | None:
    """A fresh CPU-accounting cgroup and a reader of its CPU seconds, or None."""
    v2, v1 = Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/cpuacct")
    try:
        if (v2 / "cgroup.controllers").is_file():
            group = v2 / f"bench-batch-{os.getpid()}"
            group.mkdir()
            return group, lambda: int(next(line.split()[1] for line in
                                           (group / "cpu.stat").read_text().splitlines()
                                           if line.startswith("usage_usec"))) / 1e6
        if (v1 / "cpuacct.usage").is_file():
            group = v1 / f"bench-batch-{os.getpid()}"
            group.mkdir()
            return group, lambda: int((group / "cpuacct.usage").read_text()) / 1e9
    except OSError:
        pass
    return None


def timed(cmd: list[str], env=None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the process tree (sampled every SAMPLE_EVERY s), and
    stdout."""
    group = _cpu_group()
    if group is not None:  # the shell enters the cgroup, then becomes the command
        cmd = ["sh", "-c", f'echo $$ > "{group[0]}/cgroup.procs" && exec "$@"', "sh", *cmd]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    ps, peak = psutil.Process(proc.pid), 0
    done = threading.Event()
    for seen in CPU_SEEN.values():
        seen.clear()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(ps))
            _cpu_by_role(ps)
            done.wait(SAMPLE_EVERY)
    t = threading.Thread(target=sample)
    t.start()
    out = proc.communicate()[0]
    done.set()
    t.join()
    TREE_CPU["seconds"] = None
    if group is not None:
        time.sleep(0.5)  # what the command left running (fork servers) ends
        TREE_CPU["seconds"] = group[1]()
        try:
            group[0].rmdir()
        except OSError:
            pass
    return time.perf_counter() - started, peak, out


def per_student(results: Path) -> list[tuple[float, float, float]]:
    """(wall seconds of grading the student, seconds inside their code, CPU seconds of their
    forks) from the gradebook. Inside their code: public cases only (since 2026-12-05 a
    hidden case records no time: the student's code chooses it)."""
    import sqlite3
    db = sqlite3.connect(results / "gradebook.sqlite")
    rows = []
    for (text,) in db.execute("SELECT results_json FROM grades WHERE run_id = "
                              "(SELECT MAX(run_id) FROM grades)"):
        payload = json.loads(text)
        inside = sum(c.get("seconds") or 0.0 for t in payload["tests"]
                     for c in t["extra_data"]["cases"])
        rows.append((payload["extra_data"]["seconds"], inside,
                     payload["extra_data"].get("cpu_seconds") or 0.0))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=100)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--pictures", default="failing", choices=("failing", "all", "none"))
    ap.add_argument("--only", choices=("correct", "partly_wrong", "crashing", "looping"),
                    help="every student of one kind (default: the mix of make_class.py)")
    ap.add_argument("--naive-sample", type=int, default=6,
                    help="students graded the naive way (then scaled to the class)")
    args = ap.parse_args()
    klass = OUT / "class"
    counts = make_class(klass, args.students, only=args.only)
    results = OUT / "results"
    py = sys.executable
    wall, peak, out = timed([py, "-m", "grader", "batch", str(klass), "--results", str(results),
                             "--device", args.device, "--force", "--pictures", args.pictures])
    rows = per_student(results)
    inside = sum(r[1] for r in rows)
    cpu = sum(r[2] for r in rows)
    cores = os.cpu_count() or 1
    floor = cpu / cores
    overhead = (wall * cores - inside) / args.students
    per = sorted(w - i for w, i, _ in rows)
    print(f"class: {counts}")
    print(f"grader batch on {args.device}: {wall:.1f} s for {args.students} students "
          f"({args.students / wall:.2f} students/s) on {cores} cores; peak RSS "
          f"{peak / 2**20:.0f} MiB")
    print(f"  the students' own CPU time (their forks: imports, calls, time-limited loops) "
          f"{cpu:.1f} s -> floor {floor:.1f} s on {cores} cores; wall / floor = "
          f"{wall / floor:.2f}")
    print("  CPU of the rest (last seen before each process ended): " + ", ".join(
        f"{role} {sum(seen.values()):.1f} s" for role, seen in CPU_SEEN.items()))
    tree = TREE_CPU["seconds"]
    rest = (tree or 0.0) - cpu
    if tree is not None:
        print(f"  CPU of the whole process tree {tree:.1f} s; minus the students' forks = "
              f"{rest:.1f} s of non-student CPU (grader, template, fork servers, "
              f"forkers), {rest / args.students * 1000:.0f} ms per student")
    print(f"  student code ran {inside:.1f} s in all; grader overhead per student "
          f"(wall x cores - student time) / students = {overhead * 1000:.0f} ms "
          "(includes start-up, the reference and time limits of looping students)")
    print(f"  per student, grading wall time minus student code: median "
          f"{per[len(per) // 2] * 1000:.0f} ms, 90th percentile {per[len(per) * 9 // 10] * 1000:.0f} ms")
    rerun, _, _ = timed([py, "-m", "grader", "batch", str(klass), "--results", str(results),
                         "--device", args.device])
    print(f"  re-run with nothing changed (resumable, all skipped): {rerun:.1f} s")
    if args.naive_sample <= 0:
        return
    sample = sorted(klass.iterdir())[:: max(1, args.students // max(args.naive_sample, 1))]
    sample = sample[:args.naive_sample]
    started = time.perf_counter()
    jobs = [[py, str(ROOT / "bench" / "naive_grade.py"), str(s), a]
            for s in sample for a in ("01_gradient_descent", "02_autograd", "03_dataset",
                                      "04_custom_function", "05_models")]
    running: list[subprocess.Popen] = []
    for cmd in jobs:
        while len(running) >= cores:
            running = [p for p in running if p.poll() is None]
            time.sleep(0.05)
        running.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
    for p in running:
        p.wait(timeout=600)
    naive = time.perf_counter() - started
    scaled = naive / len(sample) * args.students
    print(f"naive baseline: {naive:.1f} s for {len(sample)} students x 5 assignments "
          f"({len(jobs)} processes, {cores} at a time) -> about {scaled:.0f} s for "
          f"{args.students} students ({scaled / wall:.1f}x slower); looping students would "
          "hang it without a time limit, so the sample has none")


if __name__ == "__main__":
    main()
