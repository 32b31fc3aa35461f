"""Feedback benchmark (issue 29): the time ``python -m grader feedback`` takes for a class.

A real class is graded once (bench/make_class.py: correct, partly wrong, crashing, looping
students across the whole course, hidden cases, pictures of failing checks), then copied round
robin into a class of ``--students`` (their gradebook and results folders: real report.html
pages with their pictures, real results.json), with late times and overrides for some. Then
``feedback`` runs as an instructor runs it: one folder per student, then one zip per student,
each with the Canvas re-upload zip for the students ``import`` recorded Canvas names for.

Usage: python bench/bench_feedback.py [--students 300] [--record 12] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def record(n: int) -> Path:
    """A class of ``n`` graded for real (kept in bench/out/feedback_record_N)."""
    results = OUT / f"feedback_record_{n}"
    if (results / "gradebook.sqlite").is_file():
        return results
    sys.path.insert(0, str(ROOT / "bench"))
    from make_class import make_class
    subs = OUT / f"feedback_class_{n}"
    shutil.rmtree(subs, ignore_errors=True)
    make_class(subs, n)
    secret = OUT / "feedback_secret"
    secret.write_text("feedback-bench-secret-0123456789\n")
    subprocess.run([sys.executable, "-m", "grader", "batch", str(subs), "--results",
                    str(results), "--secret-file", str(secret), "--no-validate"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return results


def build(recorded: Path, students: int) -> tuple[Path, Path]:
    """A class of ``students``: the recorded ones copied round robin; every third late (file
    times), every tenth with an override, every second with a Canvas name."""
    from grader.instructor.gradebook import Gradebook
    from grader.instructor import semester
    from grader.instructor.semester import record_lms
    root = OUT / f"feedback_{students}"
    shutil.rmtree(root, ignore_errors=True)
    results, subs = root / "results", root / "submissions"
    subs.mkdir(parents=True)
    source = Gradebook(recorded / "gradebook.sqlite")
    latest = source.latest()
    source.close()
    book = Gradebook(results / "gradebook.sqlite")
    run = book.start_run("bench", "bench", "cpu", "bench")
    canvas = {}
    from grader.judge.results import StudentResult
    for i in range(students):
        name, payload = latest[i % len(latest)]
        student = f"s{i:04d}"
        payload = json.loads(json.dumps(payload))
        payload["extra_data"]["student"] = student
        result = StudentResult(student, "cpu", "bench", "bench")
        book.record(run, _Result(result, payload), f"h{i}", payload)
        folder = results / student
        folder.mkdir(parents=True)
        shutil.copy(recorded / name / "report.html", folder / "report.html")
        (folder / "results.json").write_text(json.dumps(payload))
        if i % 3 == 0:
            semester.record_times(book, student, f"h{i}", {
                "01_gradient_descent": (time.time() - 86400 * (i % 5), "bench", False)})
        if i % 10 == 0:
            test = payload["tests"][0]
            semester.add_override(book, student, test["name"], test["max_score"], "bench")
        if i % 2 == 0:
            canvas[student] = {"name": f"student{i}", "uid": str(1000 + i),
                               "attachment": str(50000 + i)}
    book.close()
    record_lms(subs, {}, canvas)
    return results, subs


class _Result:
    """What ``Gradebook.record`` reads of a result, from a recorded payload."""

    def __init__(self, result, payload):
        self.student, self.score = result.student, payload["score"]
        self.max_score = sum(t["max_score"] for t in payload["tests"])
        self.public_only, self.seconds, self.grader_errors = False, 0.0, 0

    def checks(self):
        return []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--record", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    results, subs = build(record(args.record), args.students)
    size = sum(p.stat().st_size for p in results.rglob("report.html"))
    print(f"{args.students} students, report.html {size / args.students / 1024:.0f} KiB each "
          f"on average")
    for extra in ([], ["--zip"]):
        times = []
        for _ in range(args.repeat):
            out = results.parent / "feedback"
            shutil.rmtree(out, ignore_errors=True)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "grader", "feedback", "--results",
                            str(results), "--submissions", str(subs), "--out", str(out),
                            *extra], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
        canvas = out / "canvas_feedback.zip"
        print(f"feedback {' '.join(extra) or '(folders)'}: median {statistics.median(times):.2f} s "
              f"of {args.repeat} (whole command, Python start included; min {min(times):.2f} s); "
              f"Canvas zip {canvas.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
