"""The grader's own cost per student beyond the student's code (issue 6), one at a time.

One warm fork server (a batch's setting: one fork per student, inputs held by the server),
correct students of the generated class graded one after another on an otherwise idle
machine. Per student: grading wall time minus the time inside student code, split into
the worker's round trip (request, fork already made, imports, per-call messages, the
outcome and its decoding) and the grader's judging (comparisons, diagnosis, scores).
Usage: python bench/bench_overhead.py [--students 10] [--rounds 3]
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from grader.course.loader import load_course  # noqa: E402

COURSE = load_course()
from grader.grade import Session  # noqa: E402
from grader.worker.pool import WorkerPool, Zygote  # noqa: E402
from make_class import make_class  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    klass = ROOT / "bench" / "out" / "overhead-class"
    make_class(klass, 100)
    students = sorted(klass.iterdir())[:args.students]  # the first half are correct
    pool = WorkerPool(1)
    pool.wait_ready()
    session = Session(pool, COURSE, secret="bench", one_fork_per_student=True)
    session.warm_expected()
    gc.freeze()
    trip = {}
    original = Zygote.run

    def timed_run(self, request):
        started = time.perf_counter()
        out = original(self, request)
        trip["seconds"] = time.perf_counter() - started
        trip["inside"] = sum((r or {}).get("seconds") or 0.0
                             for m in out["modules"] for r in m["results"])
        return out
    Zygote.run = timed_run
    session.grade(students[0])  # the server receives (and keeps) every case's inputs once
    totals, trips = [], []
    for _ in range(args.rounds):
        for student in students:
            time.sleep(0.05)  # idle, as between two students of a batch on a free core
            started = time.perf_counter()
            session.grade(student)
            wall = time.perf_counter() - started
            totals.append(wall - trip["inside"])
            trips.append(trip["seconds"] - trip["inside"])
    pool.close()
    ms = lambda xs: f"median {statistics.median(xs) * 1000:.0f} ms " \
                    f"(min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f})"
    print(f"{len(totals)} gradings of {len(students)} correct students, one warm worker:")
    print(f"  grading wall time minus student code: {ms(totals)}")
    print(f"  of which the worker's round trip beyond student code: {ms(trips)}")
    judged = [t - r for t, r in zip(totals, trips)]
    print(f"  of which the grader's judging and bookkeeping: {ms(judged)}")


if __name__ == "__main__":
    main()
