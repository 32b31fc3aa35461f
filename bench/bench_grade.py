"""`make grade STUDENT=demo` with a warm environment: where the time goes (issue 2).

Times the whole command, then its parts in one process: Python start + imports, the warm
fork servers' start (they import torch), the reference's expected values, and the grading.
Usage: python bench/bench_grade.py
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd: list[str], n: int = 3) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


PARTS = """
import time, sys
t0 = time.perf_counter()
import torch, numpy
t1 = time.perf_counter()
sys.path.insert(0, {root!r})
from pathlib import Path
from grader.course import load_course

COURSE = load_course()
from grader.grade import Session
from grader.worker.pool import WorkerPool
t2 = time.perf_counter()
pool = WorkerPool(size=2); pool.wait_ready()
t3 = time.perf_counter()
s = Session(pool, COURSE, secret="x")
s.warm_expected()
t4 = time.perf_counter()
r = s.grade(Path({root!r}) / "submissions" / "demo")
t5 = time.perf_counter()
inside = sum((c.seconds or 0) for ch in r.checks() for c in ch.cases)
pool.close()
print(f"  python start + import torch: {{t1 - t0:.2f}} s; grader modules: {{t2 - t1:.2f}} s")
print(f"  two warm workers started (torch + dynamo imported once each): {{t3 - t2:.2f}} s")
print(f"  expected values from the reference (every case): {{t4 - t3:.2f}} s")
print(f"  grading the demo: {{t5 - t4:.2f}} s, of which the student's own code {{inside:.2f}} s")
"""


def main() -> None:
    py = sys.executable
    print(f"make grade STUDENT=demo (warm .venv), median of 3: "
          f"{wall(['make', '-s', 'grade', 'STUDENT=demo']):.2f} s")
    print(f"python -c 'import torch' alone: {wall([py, '-c', 'import torch']):.2f} s")
    print("in one process, sequentially:")
    print(subprocess.run([py, "-c", PARTS.format(root=str(ROOT))], cwd=ROOT,
                         capture_output=True, text=True).stdout, end="")


if __name__ == "__main__":
    main()
