"""Cluster benchmark (issue 17): the same class on the local pool and on `--cluster local:N`.

Both runs grade the same generated class (bench/make_class.py) with --force, one after the
other in one invocation; for each: wall time, students per second, and the overhead per student
beyond the students' own code ((wall x workers - time inside student code) / students).
Usage: python bench/bench_cluster.py [--students 200] [--workers 2]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_batch import OUT, TREE_CPU, per_student, timed  # noqa: E402
from make_class import make_class  # noqa: E402


def run(klass: Path, results: Path, extra: list[str]) -> tuple[float, float, int, str]:
    wall, peak, out = timed([sys.executable, "-m", "grader", "batch", str(klass), "--results",
                             str(results), "--device", "cpu", "--force", *extra])
    rows = per_student(results)
    if "graded" not in out or not rows:
        raise SystemExit(f"the batch failed:\n{out}")
    tree, theirs = TREE_CPU["seconds"], sum(row[2] for row in rows)
    rest = f", non-student CPU {(tree - theirs) / len(rows) * 1000:.0f} ms per student (whole " \
        f"tree {tree:.1f} s, students' forks {theirs:.1f} s)" if tree is not None else ""
    return wall, sum(row[1] for row in rows), peak, rest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    klass = OUT / "cluster_class"
    counts = make_class(klass, args.students)
    print(f"class of {args.students}: {counts}; {args.workers} workers")
    walls = {}
    for label, extra in (("local pool", ["--workers", str(args.workers)]),
                         (f"--cluster local:{args.workers}",
                          ["--cluster", f"local:{args.workers}"])):
        wall, inside, peak, rest = run(klass, OUT / f"cluster_results_{len(walls)}", extra)
        walls[label] = wall
        overhead = (wall * args.workers - inside) / args.students
        print(f"{label:>18}: {wall:6.1f} s ({args.students / wall:.2f} students/s), student "
              f"code {inside:.1f} s, overhead per student {overhead * 1000:.0f} ms, peak RSS "
              f"{peak / 2**20:.0f} MiB{rest}")
    local, dask = walls.values()
    print(f"cluster / local wall time: {dask / local:.3f}")


if __name__ == "__main__":
    main()
