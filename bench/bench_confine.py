"""Cost of confinement (issues 5, 24 and 25): per fork, per graded call and per student.

Part 1 forks, from a process that imported torch (as a fork server has), a child that
confines itself and then runs its first "student" instruction; it reports the time from
the fork to that instruction, and the time from its exit to its reaping (a mount namespace
is torn down then). Layers:
- none: no confinement;
- issue 5: rlimits, Landlock and the seccomp filter as they were before issues 24/25;
- seccomp rules: the same plus the signal and metadata rules (a host without mount
  namespaces);
- private scratch: the same with the mount namespace and its tmpfs instead of the metadata
  rules (root, or user namespaces).
Part 2 grades through a fork server, with and without the private scratch.

Usage: python bench/bench_confine.py [--forks 40]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from grader.course.loader import load_course  # noqa: E402

COURSE = load_course()
from grader.grade import Session  # noqa: E402
from grader.worker import sandbox  # noqa: E402
from grader.worker.pool import Call, Job, ModuleCalls, WorkerPool  # noqa: E402
from grader.worker.zygote import warm_up  # noqa: E402


def _issue5(student_dir: str, scratch: str) -> None:
    sandbox.apply_rlimits(sandbox.Limits(), cap_memory=True)
    sandbox.apply_landlock(sandbox.readable_roots(student_dir, False),
                           sandbox.writable_roots(scratch, False))
    sandbox.apply_seccomp()


def _now(private: bool):
    def confine(student_dir: str, scratch: str) -> None:
        limits = sandbox.Limits(private_scratch=private)
        sandbox.apply_rlimits(limits, cap_memory=True)
        sandbox.confine(student_dir, scratch, False, False, limits)
    return confine


LAYERS = {"none": lambda student_dir, scratch: None, "issue 5": _issue5,
          "seccomp rules": _now(False), "private scratch": _now(True)}


def fork_once(confine, scratch_root: str) -> tuple[float, float, float, float]:
    """Milliseconds: from the fork to the child's first instruction after confinement
    (wall), the confinement alone (wall, and CPU), and the child's whole CPU time
    (user + system, its exit included: a mount namespace is torn down then)."""
    scratch = tempfile.mkdtemp(dir=scratch_root)
    r, w = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            began, cpu = time.perf_counter(), time.process_time()
            confine(str(ROOT / "reference"), scratch)
            first = time.perf_counter()  # the student's first instruction
            os.write(w, f"{began!r} {first!r} {time.process_time() - cpu!r}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    began, first, cpu = map(float, os.read(r, 200).split())
    os.close(r)
    _, _, usage = os.wait4(pid, 0)
    return ((first - start) * 1000, (first - began) * 1000, cpu * 1000,
            (usage.ru_utime + usage.ru_stime) * 1000)


def per_fork(forks: int) -> None:
    warm_up(torch_too=True, notebooks=False)
    print(f"features: {sandbox.probe_features()}")
    print(f"median of {forks} forks of a process that imported torch, in ms:")
    print(f"{'layers':<16} {'fork->first':>12} {'confining':>10} {'its CPU':>8} "
          f"{'child CPU':>10}")
    with tempfile.TemporaryDirectory() as root:
        for name, confine in LAYERS.items():
            if name == "private scratch" and not sandbox.private_scratch_available():
                print(f"{name:<16} (no mount namespace here)")
                continue
            fork_once(confine, root)
            runs = [fork_once(confine, root) for _ in range(forks)]
            cols = [statistics.median(r[i] for r in runs) for i in range(4)]
            print(f"{name:<16} {cols[0]:12.2f} {cols[1]:10.2f} {cols[2]:8.2f} {cols[3]:10.2f}")


def median_ms(fn, n=15) -> float:
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def through_a_fork_server() -> None:
    pool = WorkerPool(1)
    pool.wait_ready()
    path = str(ROOT / "reference" / "01_gradient_descent" / "gradient_descent.py")
    call = Call("call", "predict", {"args": [np.array([1.0, 2.0]), np.arange(50.0)]}, 1, 5.0)
    variants = (("unconfined", False, {}), ("seccomp rules", True, {"private_scratch": False}),
                ("private scratch", True, {}))
    for label, confine, limits in variants:
        job = lambda calls: Job([ModuleCalls(path, "gd", calls)], str(ROOT / "reference"),
                                confine=confine, limits=limits)
        one = median_ms(lambda: pool.run(job([call])))
        many = median_ms(lambda: pool.run(job([call] * 50)), 7)
        print(f"{label:<16}: one call in a fresh fork {one:6.1f} ms; per extra call "
              f"{(many - one) / 49:5.2f} ms")
    session = Session(pool, COURSE, secret="x", one_fork_per_student=True)
    session.warm_expected()
    student = median_ms(lambda: session.grade(ROOT / "reference"), 5)
    print(f"a whole student, confined (5 modules, ~90 calls): {student:7.1f} ms")
    pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forks", type=int, default=40)
    args = parser.parse_args()
    per_fork(args.forks)
    through_a_fork_server()


if __name__ == "__main__":
    main()
