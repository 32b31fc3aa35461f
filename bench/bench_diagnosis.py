"""How well feedback names causes (issue 15), on the table of student-written mistakes.

Each mistake of ``tests/student_mistakes.py`` is graded like a student's submission (the
reference with the student's definitions in place of its own). Printed per mistake: whether
exactly the expected names lost points, whether each broken name's hint holds the words of its
cause, and every hint that blames a function that passes its own checks or is not defined.
Then the share named with the right cause and the number of wrong blames (goal: 0).
With ``--table 27`` it reads issue 27's own table (``tests/mistakes_heldout_27.py``: mutations
of the reference) and prints, per mistake, four columns: a verified fix (a repair the grader
ran on every case of the check, on the line the table names), a cause with a witness (a hint
that states a cause, holds the table's words, and was reproduced on every failing case), an
observation only (hints that state no cause), and a false cause (a hint that states a cause
without the table's words).
Usage: python bench/bench_diagnosis.py [--only WORD] [--held-out] [--table 27]
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.course.loader import load_course, strip_markers  # noqa: E402
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


REPAIR = re.compile(r"line (\d+): .*passes every case")


def states_cause(case) -> bool:
    """Whether a case's hint states a cause (``CaseResult.cause``); before issue 27 every
    hint did."""
    return bool(case.hint) and getattr(case, "cause", True)


def classify(result, mistake, reference: str) -> dict:
    """Issue 27's columns for one mistake of ``TABLE_27``."""
    checks = {c.name: c for c in result.checks()}
    broken = {n for n, c in checks.items() if c.score < c.max_score - 1e-9}
    lines = mistake.lines(reference)
    fixes = [(n, note) for n, c in checks.items() for note in c.notes if REPAIR.search(note)]
    verified = any(n in mistake.broken and int(REPAIR.search(note).group(1)) in lines
                   for n, note in fixes)
    proven, false, observed = [], [], []
    for name, check in checks.items():
        if name not in broken | set(mistake.broken):
            continue  # a name that keeps its points states no cause of a failure
        words = mistake.words.get(name, ())
        for case in check.cases:
            if not case.hint:
                continue
            if not states_cause(case):
                observed.append((name, case.hint))
            elif words and any(w.lower() in case.hint.lower() for w in words):
                proven.append((name, case.hint))
            else:
                false.append((name, case.hint))
    return {"broken_ok": broken == set(mistake.broken), "broken": broken,
            "verified": verified, "fixes": fixes, "proven": bool(proven),
            "observation_only": bool(observed) and not proven and not false,
            "proven_hints": sorted(set(proven)),
            "false": sorted(set(false)), "observed": sorted(set(observed))}


def main_27(only: str) -> None:
    from conftest import reference_source
    from mistakes_heldout_27 import TABLE_27
    table = [m for m in TABLE_27 if only.lower() in m.id.lower()]
    tally = dict(exact=0, verified=0, proven=0, either=0, observation=0, false=0)
    started = time.process_time()
    searches = []
    with WorkerPool(2) as pool, tempfile.TemporaryDirectory() as tmp:
        for i, m in enumerate(table):
            session = Session(pool, (COURSE.assignment(m.folder),), secret="bench",
                              device="cpu")
            reference = reference_source(m.folder)
            root = Path(tmp) / f"s{i}"
            a = COURSE.assignment(m.folder)
            path = root / m.folder / f"{a.module}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(m.source(reference))
            got = classify(session.grade(root), m, reference)
            searches.extend(session.repair_log)
            tally["exact"] += got["broken_ok"]
            tally["verified"] += got["verified"]
            tally["proven"] += got["proven"]
            tally["either"] += got["verified"] or got["proven"]
            tally["observation"] += got["observation_only"] and not got["verified"]
            tally["false"] += bool(got["false"])
            cols = "".join(("F" if got["verified"] else "-", "C" if got["proven"] else "-",
                            "O" if got["observation_only"] else "-",
                            "X" if got["false"] else "-"))
            print(f"{cols} {m.folder[:2]} {m.id}" + ("" if got["broken_ok"] else
                                                      f"; broken {sorted(got['broken'])}"))
            for name, note in got["fixes"]:
                print(f"       fix {name}: {note}")
            for name, hint in got["false"]:
                print(f"       FALSE CAUSE {name}: {hint[:160]}")
            for name, hint in got["proven_hints"][:1]:
                print(f"       cause {name}: {hint[:160]}")
            for name, hint in got["observed"][:2]:
                print(f"       observed {name}: {hint[:160]}")
    n = max(len(table), 1)
    print(f"\n{len(table)} mistakes (F verified fix, C cause with a witness, O observation "
          f"only, X false cause); {tally['exact']} lost points on exactly their names")
    print(f"verified fix: {tally['verified']}/{len(table)}  cause with a witness: "
          f"{tally['proven']}/{len(table)}  either: {tally['either']}/{len(table)} = "
          f"{tally['either'] / n:.0%}  observation only: {tally['observation']}  "
          f"false cause: {tally['false']}")
    print(f"grader CPU in this process: {time.process_time() - started:.1f} s")
    if searches:
        cpu = sorted(s[2] for s in searches)
        wall = sorted(s[3] for s in searches)
        print(f"repair searches: {len(searches)} failing functions, "
              f"{sum(s[4] for s in searches)} fixed; candidates run: "
              f"{sum(s[1] for s in searches)}; candidates' CPU per function: median "
              f"{cpu[len(cpu) // 2]:.2f} s, max {cpu[-1]:.2f} s; wall per function: median "
              f"{wall[len(wall) // 2]:.2f} s, max {wall[-1]:.2f} s")
        for name, tried, spent, took, found in searches:
            print(f"    {name}: {tried} candidates, {spent:.2f} s CPU, {took:.2f} s wall, "
                  f"{'fixed' if found else 'no fix'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--held-out", action="store_true",
                    help="the mistakes written after the diagnoses (HELD_OUT) instead")
    ap.add_argument("--table", default="", help="27: issue 27's own table of mutations")
    args = ap.parse_args()
    if args.table == "27":
        return main_27(args.only)
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
