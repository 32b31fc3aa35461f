"""How well feedback names causes (issue 15), on the table of student-written mistakes.

Each mistake of ``tests/student_mistakes.py`` is graded like a student's submission (the
reference with the student's definitions in place of its own). Printed per mistake: whether
exactly the expected names lost points, whether each broken name's hint holds the words of its
cause, and every hint that blames a function that passes its own checks or is not defined.
Then the share named with the right cause and the number of wrong blames (goal: 0).
Usage: python bench/bench_diagnosis.py [--only WORD] [--held-out]
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.course import load_course, strip_markers  # noqa: E402
from grader.grade import Session  # noqa: E402
from grader.worker.pool import WorkerPool  # noqa: E402
from student_mistakes import HELD_OUT, MISTAKES, StudentMistake, rewrite  # noqa: E402

COURSE = load_course()


def submission(root: Path, mistake: StudentMistake) -> Path:
    a = COURSE.assignment(mistake.folder)
    source = strip_markers((ROOT / "reference" / a.folder / f"{a.module}.py").read_text())
    path = root / mistake.folder / f"{a.module}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rewrite(source, mistake.code))
    return root


def judge_feedback(result, mistake: StudentMistake) -> dict:
    """What the feedback got right: the broken names, the causes named, the wrong blames."""
    checks = {c.name: c for c in result.checks()}
    broken = {n for n, c in checks.items() if c.score < c.max_score - 1e-9}
    named, missed = [], []
    for name, words in mistake.words.items():
        hints = [c.hint for c in checks[name].cases if c.hint] if name in checks else []
        if any(w.lower() in h.lower() for h in hints for w in words):
            named.append(name)
        else:
            missed.append((name, hints))
    defined = {n for n, c in checks.items()
               if not all(k.error_kind == "missing" for k in c.cases)}
    wrong_blames = []
    for name, check in checks.items():
        for case in check.cases:
            for other in re.findall(r"`(\w+)`", case.hint or ""):
                if other != name and other in checks and (other not in broken or
                                                          other not in defined):
                    wrong_blames.append((name, other, case.hint))
    return {"broken_ok": broken == set(mistake.broken), "broken": broken, "named": named,
            "missed": missed, "wrong_blames": sorted(set(wrong_blames))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--held-out", action="store_true",
                    help="the mistakes written after the diagnoses (HELD_OUT) instead")
    args = ap.parse_args()
    table = [m for m in (HELD_OUT if args.held_out else MISTAKES)
             if args.only.lower() in m.id.lower()]
    names = named = blames = exact = 0
    by_source: dict[str, list[int]] = {}
    with WorkerPool(2) as pool, tempfile.TemporaryDirectory() as tmp:
        for i, m in enumerate(table):
            session = Session(pool, (COURSE.assignment(m.folder),), secret="bench",
                              device="cpu")
            result = session.grade(submission(Path(tmp) / f"s{i}", m))
            got = judge_feedback(result, m)
            names += len(m.words)
            named += len(got["named"])
            blames += len(got["wrong_blames"])
            exact += got["broken_ok"]
            tally = by_source.setdefault(m.source, [0, 0])
            tally[0] += len(got["named"])
            tally[1] += len(m.words)
            mark = "ok " if not got["missed"] and got["broken_ok"] else "MISS"
            print(f"{mark} {m.folder[:2]} {m.id}: named {len(got['named'])}/{len(m.words)}"
                  + ("" if got["broken_ok"] else f"; broken {sorted(got['broken'])}"))
            for name, hints in got["missed"]:
                print(f"       {name}: {hints[:2] or 'no hint'}")
            for name, other, hint in got["wrong_blames"]:
                print(f"       WRONG BLAME in {name} of `{other}`: {hint}")
    print(f"\n{len(table)} mistakes, {exact} lost points on exactly their names")
    print(f"causes named: {named}/{names} = {named / max(names, 1):.0%} "
          + " ".join(f"({k}: {v[0]}/{v[1]})" for k, v in sorted(by_source.items())))
    print(f"hints blaming the wrong function: {blames}")


if __name__ == "__main__":
    main()
