"""Cost of confinement (issue 5): per graded call and per student, with and without it.

Usage: python bench/bench_confine.py
"""
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from grader.course import load_course  # noqa: E402

COURSE = load_course()
from grader.grade import Session  # noqa: E402
from grader.worker.pool import Call, Job, ModuleCalls, WorkerPool  # noqa: E402


def median_ms(fn, n=15) -> float:
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    pool = WorkerPool(1)
    pool.wait_ready()
    path = str(ROOT / "reference" / "01_gradient_descent" / "gradient_descent.py")
    call = Call("call", "predict", {"args": [np.array([1.0, 2.0]), np.arange(50.0)]}, 1, 5.0)
    for confine in (False, True):
        one = median_ms(lambda: pool.run(Job([ModuleCalls(path, "gd", [call])],
                                             str(ROOT / "reference"), confine=confine)))
        many = median_ms(lambda: pool.run(Job([ModuleCalls(path, "gd", [call] * 50)],
                                              str(ROOT / "reference"), confine=confine)), 7)
        session = Session(pool, COURSE, secret="x", confine=confine, one_fork_per_student=True)
        session.warm_expected()
        student = median_ms(lambda: session.grade(ROOT / "reference"), 5)
        label = "confined  " if confine else "unconfined"
        print(f"{label}: one call in a fresh fork {one:6.1f} ms; per extra call "
              f"{(many - one) / 49:5.2f} ms; a whole student (5 modules, ~90 calls) "
              f"{student:7.1f} ms")
    pool.close()


if __name__ == "__main__":
    main()
