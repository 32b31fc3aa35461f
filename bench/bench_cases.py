"""What each case catches, and what it costs (issue 16: the workload earns its compute).

Every mistake of the tables in ``tests/student_mistakes.py`` (MISTAKES and HELD_OUT) is graded;
for each case of each check the mistakes it catches (the case does not pass) are listed with
the case's cost (the reference's seconds on it, and a correct student's: the reference graded
as a student). A case whose every catch another case of its check also makes adds nothing but
its cost. Then the correct student's own CPU for the whole course.
Usage: python bench/bench_cases.py [--folder 04_custom_function]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_diagnosis import COURSE, submission  # noqa: E402
from grader.course.loader import strip_markers  # noqa: E402
from grader.grade import Session  # noqa: E402
from grader.judge.expected import Expected  # noqa: E402
from grader.worker.pool import WorkerPool  # noqa: E402
from student_mistakes import HELD_OUT, MISTAKES  # noqa: E402


def reference_student(root: Path) -> Path:
    for a in COURSE:
        target = root / a.folder / f"{a.module}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(strip_markers(a.reference_path.read_text()))
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", default="")
    args = ap.parse_args()
    catches: dict[tuple, set[str]] = defaultdict(set)
    with WorkerPool(2) as pool, tempfile.TemporaryDirectory() as tmp:
        session = Session(pool, COURSE, secret="bench")
        correct = session.grade(reference_student(Path(tmp) / "reference"))
        student_cost = {(a.folder, ch.name, c.id): c.seconds or 0.0
                        for a in correct.assignments for ch in a.checks for c in ch.cases}
        for i, m in enumerate((*MISTAKES, *HELD_OUT)):
            result = Session(pool, (COURSE.assignment(m.folder),), secret="bench",
                             expected=session.expected).grade(submission(Path(tmp) / f"m{i}", m))
            for check in result.checks():
                for case in check.cases:
                    if case.status != "passed":
                        catches[(m.folder, check.name, case.id)].add(m.id)
            shutil.rmtree(Path(tmp) / f"m{i}", ignore_errors=True)
        print(f"{'case':58} {'reference s':>11} {'student s':>9}  catches")
        for a in COURSE:
            if args.folder and a.folder != args.folder:
                continue
            for check in a.checks:
                ids = [c.id for c in session.cases(a, check)]
                for case in session.cases(a, check):
                    key = (a.folder, check.name, case.id)
                    others = set().union(*(catches[(a.folder, check.name, o)] for o in ids
                                           if o != case.id))
                    mine = catches[key]
                    extra = "" if not mine or mine - others else "  (nothing the others miss)"
                    ref = session.expected.seconds.get(Expected.key(a, check, case, "cpu"), 0)
                    print(f"{a.folder[:2]} {check.name + '/' + case.id:55} {ref:11.3f} "
                          f"{student_cost.get(key, 0):9.3f}  {len(mine)}{extra}")
        total = sum(student_cost.values())
        print(f"\na correct student's own code, whole course: {total:.2f} s of CPU "
              f"(largest: " + ", ".join(f"{k[1]}/{k[2]} {v:.2f}" for k, v in
                                        sorted(student_cost.items(), key=lambda kv: -kv[1])[:4])
              + ")")


if __name__ == "__main__":
    main()
