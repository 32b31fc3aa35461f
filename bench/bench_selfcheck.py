"""Self-check speed (issue 8): one exercise in a warm kernel, and `grader check` from a shell.

Usage: python bench/bench_selfcheck.py   (builds a release in bench/out/student first)
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "bench" / "out" / "student"
sys.path.insert(0, str(ROOT))


def main() -> None:
    from grader.course.loader import load_course
    from grader.instructor.release import build_release
    build_release(BUNDLE, load_course(), ROOT / "assignments")
    warm = (  # a warm kernel: torch imported, the student's definitions in its namespace
        "import time, statistics, numpy as np, torch\n"
        "from grader import check\n"
        "def mse_grad(params, X, y):\n"
        "    r = y - params[0] - params[1] * X\n"
        "    return np.array([np.mean(-2 * r), np.mean(-2 * r * X)])\n"
        + (ROOT / "reference" / "04_custom_function" / "legendre.py").read_text() + "\n" +
        "for name in ('mse_grad', 'fit_sine'):\n"
        "    check(name, globals())\n"
        "    t = []\n"
        "    for _ in range(5):\n"
        "        s = time.perf_counter(); check(name, globals()); t.append(time.perf_counter() - s)\n"
        "    print(f'warm kernel: check({name!r}) median {statistics.median(t) * 1000:.0f} ms')\n")
    print(subprocess.run([sys.executable, "-c", warm], cwd=BUNDLE, capture_output=True,
                         text=True).stdout, end="")
    for target in ("mse_grad", "01_gradient_descent", "poly_grads", "autograd_grad"):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "grader", "check", target, "--device", "cpu"],
                           cwd=BUNDLE, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"shell: python -m grader check {target} (a cold process) median "
              f"{statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
