"""One student, the way an instructor runs it (issues 2 and 16): `make grade STUDENT=demo`.

Times the whole command with a warm `.venv`: with the expected values stored (every run after
the first), without them (the first run, or after the course or the engine changed), and
for one NumPy assignment alone. Checks that the verdicts are the same either way, and prints
what a warm run spends where (fork servers ready, the student's jobs, the report).
Usage: python bench/bench_grade.py [--runs 5]
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
STORE = RESULTS / ".expected"


def wall(cmd: list[str], runs: int, before=None) -> float:
    times = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def verdicts() -> list:
    data = json.loads((RESULTS / "demo" / "results.json").read_text())
    return [(t["name"], t["score"], [c["status"] for c in t["extra_data"]["cases"]])
            for t in data["tests"]]


TIMELINE = """
import sys, time
t0 = time.perf_counter()
from grader import cli, html_report
from grader.worker import pool
ready, jobs = [], []
init, run, render = pool.Zygote.__init__, pool.Zygote.run, html_report.render
def timed_init(self, *a, **k):
    init(self, *a, **k); ready.append(time.perf_counter() - t0)
def timed_run(self, request):
    start = time.perf_counter() - t0; out = run(self, request)
    jobs.append((request["modules"][0]["module_name"], start, time.perf_counter() - t0))
    return out
pool.Zygote.__init__, pool.Zygote.run = timed_init, timed_run
cli.main(["grade", "demo", "--device", "cpu"])
end = time.perf_counter() - t0
print("TIMELINE", "fork servers ready at " + ", ".join(f"{r:.2f}" for r in ready) + " s;",
      "jobs " + ", ".join(f"{m} {a:.2f}-{b:.2f}" for m, a, b in jobs) + ";",
      f"end {end:.2f} s")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    make = ["make", "-s", "grade", "STUDENT=demo"]
    clear = lambda: shutil.rmtree(STORE, ignore_errors=True)
    cold = wall(make, max(1, args.runs // 2), before=clear)
    without = verdicts()
    warm = wall(make, args.runs)
    assert verdicts() == without, "verdicts differ with the stored expected values"
    one = wall(make + ["ARGS=--assignment 01_gradient_descent"], args.runs)
    torch_alone = wall([sys.executable, "-c", "import torch"], 3)
    print(f"make grade STUDENT=demo, warm .venv, median of {args.runs}:")
    print(f"  expected values stored:              {warm:.2f} s")
    print(f"  expected values computed (first run): {cold:.2f} s")
    print(f"  --assignment 01_gradient_descent:     {one:.2f} s")
    print(f"  (python -c 'import torch' alone:      {torch_alone:.2f} s)")
    print("  verdicts with and without the store: identical")
    out = subprocess.run([sys.executable, "-c", TIMELINE], cwd=ROOT, capture_output=True,
                         text=True).stdout
    print("  " + next((ln for ln in out.splitlines() if ln.startswith("TIMELINE")), "")[9:])


if __name__ == "__main__":
    main()
