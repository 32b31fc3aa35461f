"""A semester with the grader (issue 29): deadlines and late policy, extensions, submission times
from an LMS export or the files, overrides with an audit trail, regrades that say what changed,
feedback handed back to students."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from conftest import ROOT, reference_source
from grader.course.cases import build_cases
from grader.cli import main
from grader.course.loader import CourseError, load_course
from grader.course.deadlines import DeadlineError, late_policies, load_extensions
from grader.instructor.semester import gradescope_times

DUE = datetime(2026, 2, 6, 23, 59, tzinfo=timezone(timedelta(hours=-6)))  # Chicago, winter
LATE_POLICY = '''due = 2026-02-06T23:59:00
timezone = "America/Chicago"
grace = "15 minutes"
penalty = "10% per day"
cap = "30%"
no_credit_after = "7 days"
'''
A01 = "01_gradient_descent"
LATENESS = {"alice": -timedelta(hours=1), "bob": timedelta(minutes=10),
            "carol": timedelta(hours=20), "dan": timedelta(days=2, hours=5),
            "eve": timedelta(days=5), "fay": timedelta(days=8), "hal": -timedelta(hours=2)}
"""How late each student's file is (its modification time); ``eve`` has an extension."""


def _policy(tmp_path, text=LATE_POLICY, late_table=""):
    path = tmp_path / "course.toml"
    path.write_text(f'{late_table}\n[[assignment]]\nfolder = "{A01}"\nmodule = "m"\n'
                    f'title = "t"\npoints = 1\n{text}')
    from grader.course.loader import tomllib
    return late_policies(tomllib.loads(path.read_text()), path)[A01] if text else None


@pytest.mark.parametrize("late, percent, words", [
    (-timedelta(hours=1), 0, "on time"),
    (timedelta(minutes=14), 0, "inside the grace period"),
    (timedelta(minutes=16), 10, "1 day × 10% = 10%"),
    (timedelta(hours=23), 10, "1 day × 10%"),
    (timedelta(days=1, hours=1), 20, "2 days × 10% = 20%"),
    (timedelta(days=2, hours=5), 30, "3 days × 10% = 30%"),
    (timedelta(days=5), 30, "= 30% (the cap)"),
    (timedelta(days=7, minutes=1), 100, "no credit"),
])
def test_a_late_policy_charges_what_it_says(tmp_path, late, percent, words):
    policy = _policy(tmp_path)
    got = policy.judge(DUE + late)
    assert got.percent == percent and words in got.why


def test_an_extension_moves_the_deadline_and_the_no_credit_date_with_it(tmp_path):
    policy = _policy(tmp_path)
    assert policy.judge(DUE + timedelta(days=2), timedelta(days=2)).percent == 0
    assert policy.judge(DUE + timedelta(days=3), timedelta(days=2)).percent == 10
    assert policy.judge(DUE + timedelta(days=8), timedelta(days=2)).percent == 30
    new_due = DUE + timedelta(days=10)
    got = policy.judge(DUE + timedelta(days=9), new_due)
    assert got.percent == 0 and "extended to 2026-02-16" in got.why


def test_per_hour_penalties_and_an_lms_late_marker_without_a_time(tmp_path):
    policy = _policy(tmp_path, LATE_POLICY.replace("10% per day", "2% per hour"))
    assert policy.judge(DUE + timedelta(hours=3, minutes=30)).percent == 8
    marked = policy.judge(None, late_marker=True)
    assert marked.percent == 2 and "charged as late by one hour" in marked.why
    assert policy.judge(None).percent == 0


@pytest.mark.parametrize("text, words", [
    ('due = 2026-02-06T23:59:00\n', "has no time zone"),
    ('due = 2026-02-06T23:59:00\ntimezone = "Mars/Olympus"\n', "timezone: unknown time zone"),
    ('due = 2026-02-06T23:59:00-06:00\npenalty = "ten percent"\n', "penalty 'ten percent'"),
    ('due = 2026-02-06T23:59:00-06:00\ncap = "130%"\n', "cap '130%'"),
    ('due = 2026-02-06T23:59:00-06:00\ngrace = "soon"\n', "grace: 'soon' is not a duration"),
    ('penalty = "10% per day"\n', "penalty without a `due` date"),
    ('due = "next friday"\n', "due: 'next friday' is not a date"),
])
def test_a_bad_late_policy_is_one_line_naming_the_file_and_the_key(tmp_path, text, words):
    with pytest.raises(DeadlineError) as err:
        _policy(tmp_path, text)
    line = str(err.value)
    assert "\n" not in line and str(tmp_path / "course.toml") in line and words in line
    assert f"[[assignment]] {A01}" in line


def test_a_course_with_a_bad_deadline_does_not_load(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "reference", course, ignore=shutil.ignore_patterns("__pycache__"))
    toml = course / "course.toml"
    toml.write_text(toml.read_text().replace('points = 20\n', 'points = 20\ndue = 2026-02-06\n'
                                             'timezone = "Nowhere/City"\n', 1))
    with pytest.raises(CourseError, match=r"course.toml: \[\[assignment\]\] 01_gradient_"
                                          r"descent: timezone: unknown time zone"):
        load_course(course)


def test_extensions_are_checked_against_the_course(tmp_path):
    policies = {A01: _policy(tmp_path)}
    path = tmp_path / "extensions.toml"
    path.write_text('[alice]\n01_gradient_descent = "2 days"\n[bob]\n"*" = "1 day"\n'
                    '[carol]\n01_gradient_descent = 2026-02-20T12:00:00\n')
    ext = load_extensions(path, policies, [A01])
    assert ext.get("alice", A01) == timedelta(days=2) and ext.get("bob", A01) == timedelta(1)
    assert ext.get("carol", A01).utcoffset() == timedelta(hours=-6)  # the assignment's zone
    assert ext.get("dan", A01) is None
    for text, words in (('[alice]\n02_nope = "1 day"\n', "[alice] 02_nope: no assignment"),
                        ('[alice]\n01_gradient_descent = "whenever"\n', "not a date"),
                        ('alice = "1 day"\n', "write a table per student")):
        path.write_text(text)
        with pytest.raises(DeadlineError, match=re.escape(words)):
            load_extensions(path, policies, [A01])


def test_gradescope_metadata_gives_each_submission_its_time():
    text = ("---\nsubmission_123:\n  :submitters:\n  - :name: Ann Lee\n    :sid: '7'\n"
            "  :created_at: 2026-02-07 01:14:05.402386000 -06:00\n  :score: 3.0\n"
            "submission_124:\n  :submitters:\n  - :name: Bo Li\n"
            "  :created_at: 2026-02-06 20:00:00 +0000\n")
    got = gradescope_times(text)
    assert got["123"] == (DUE + timedelta(hours=1, minutes=15, seconds=5.402386)).timestamp()
    assert got["124"] == datetime(2026, 2, 6, 20, tzinfo=timezone.utc).timestamp()


# --------------------------------------------------------------- a class, end to end
def _stub() -> str:
    return (ROOT / "assignments" / A01 / "gradient_descent.py").read_text()


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    """A course whose 01 has a late policy; students handing in on time, in the grace period,
    1, 3, 5 (with a 5-day extension) and 8 days late (file times), two from a Canvas zip
    (one marked LATE), and one stub; batch-graded with hidden cases."""
    root = tmp_path_factory.mktemp("semester")
    course = root / "course"
    shutil.copytree(ROOT / "reference", course, ignore=shutil.ignore_patterns("__pycache__"))
    toml = course / "course.toml"
    toml.write_text(toml.read_text().replace(
        'folder = "01_gradient_descent"\nmodule = "gradient_descent"\n'
        'title = "Linear regression and gradient descent in NumPy"\npoints = 20\n',
        'folder = "01_gradient_descent"\nmodule = "gradient_descent"\n'
        'title = "Linear regression and gradient descent in NumPy"\npoints = 20\n'
        + LATE_POLICY))
    assert load_course(course).late[A01].rate == 10
    subs, results = root / "submissions", root / "results"
    good = reference_source(A01)
    for name, late in LATENESS.items():
        path = subs / name / A01 / "gradient_descent.py"
        path.parent.mkdir(parents=True)
        path.write_text(_stub() if name == "hal" else good)
        stamp = (DUE + late).timestamp()
        os.utime(path, (stamp, stamp))
    (results).mkdir()
    (results / "extensions.toml").write_text('[eve]\n01_gradient_descent = "5 days"\n')
    archive = root / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("leeann_LATE_1001_5001_gradient_descent.py", good)
        z.writestr("parkbo_1002_5002_gradient_descent.py", good)
    assert main(["import", str(archive), "--into", str(subs), "--course", str(course)]) == 0
    secret = root / "secret"
    secret.write_text("semester-secret-of-issue-29\n")
    common = ["--course", str(course), "--secret-file", str(secret), "--no-validate",
              "--assignment", A01, "--workers", "2"]
    args = ["batch", str(subs), "--results", str(results), *common]
    assert main(args) == 0
    return {"root": root, "course": course, "subs": subs, "results": results,
            "secret": secret, "batch": args, "common": common}


def _results(sem, name):
    return json.loads((sem["results"] / name / "results.json").read_text())


def _late(payload):
    return {x["assignment"]: x for x in payload["extra_data"]["grade"]["late"]}[A01]


def test_results_show_the_raw_score_the_penalty_and_why_and_the_final_score(semester):
    expect = {"alice": 0, "bob": 0, "carol": 10, "dan": 30, "eve": 0, "fay": 100,
              "leeann": 10, "parkbo": 0}
    for name, percent in expect.items():
        payload = _results(semester, name)
        grade, late = payload["extra_data"]["grade"], _late(payload)
        assert grade["raw_score"] == 20, name
        assert late["percent"] == percent, (name, late)
        assert payload["score"] == grade["final_score"] == pytest.approx(20 * (1 - percent / 100))
    assert "inside the grace period" in _late(_results(semester, "bob"))["why"]
    assert "extended to" in _late(_results(semester, "eve"))["why"]
    assert "modification time of 01_gradient_descent/gradient_descent.py" in \
        _late(_results(semester, "carol"))["why"]
    assert "Canvas's LATE marker" in _late(_results(semester, "leeann"))["why"]
    dan = _results(semester, "dan")
    penalty = next(t for t in dan["tests"] if t["name"] == f"{A01}/late penalty")
    assert penalty["score"] == -6 and penalty["max_score"] == 0
    page = (semester["results"] / "dan" / "report.html").read_text()
    assert "dan: 14/20" in page and "The grader's score: 20" in page
    assert "Late penalty on 01_gradient_descent: −6 points (30%)" in page


def test_exports_carry_the_final_score(semester, tmp_path):
    assert main(["export", "--results", str(semester["results"]), "--course",
                 str(semester["course"])]) == 0
    rows = {r["student"]: r for r in csv.DictReader(open(semester["results"] / "grades.csv"))}
    assert rows["dan"][A01] == "14" and rows["carol"][A01] == "18" and rows["fay"][A01] == "0"
    assert rows["alice"][A01] == "20"
    canvas = tmp_path / "canvas.csv"
    canvas.write_text("Student,ID,SIS User ID,SIS Login ID,Section,"
                      "Linear regression and gradient descent in NumPy (77)\n"
                      "Points Possible,,,,,20\n"
                      "\"Lee, Ann\",1001,,x1,S1,\n\"Dan, D\",3,,dan,S1,\n")
    assert main(["export", "--results", str(semester["results"]), "--course",
                 str(semester["course"]), "--canvas-gradebook", str(canvas), "--out",
                 str(tmp_path / "out.csv")]) == 0
    filled = list(csv.reader(open(tmp_path / "out.csv")))
    assert filled[2][5] == "18" and filled[3][5] == "14"  # Ann: LATE (10%), Dan: 3 days


def test_overrides_survive_a_regrade_appear_everywhere_and_history_lists_both(semester,
                                                                              capsys):
    results, course = semester["results"], str(semester["course"])
    assert main(["override", "hal", "predict", "--score", "2", "--reason",
                 "predict was right; the <b>stub</b> check misread it", "--results",
                 str(results), "--course", course]) == 0
    hal = _results(semester, "hal")
    test = next(t for t in hal["tests"] if t["name"] == f"{A01}/predict")
    assert test["score"] == 2 and test["raw_score"] == 0 and hal["score"] == 2
    page = (results / "hal" / "report.html").read_text()
    assert "the &lt;b&gt;stub&lt;/b&gt; check misread it" in page and "<b>stub" not in page
    bad = main(["override", "hal", "predict", "--score", "9", "--reason", "x", "--results",
                str(results), "--course", course])
    assert bad == 2 and "outside 0 to 2" in capsys.readouterr().err
    many = semester["root"] / "overrides.csv"
    many.write_text("student,test,score,reason\nalice,01_gradient_descent/mse_grad,4,"
                    "regrade request #12\n")
    assert main(["override", "--file", str(many), "--results", str(results), "--course",
                 course]) == 0
    assert _results(semester, "alice")["score"] == 19
    main(["export", "--results", str(results), "--course", course])
    rows = {r["student"]: r for r in csv.DictReader(open(results / "grades.csv"))}
    assert rows["hal"][A01] == "2" and rows["alice"][A01] == "19"
    # a regrade (the course's checks changed): the overrides stay, with their reasons
    checks = semester["course"] / A01 / "checks.py"
    checks.write_text(checks.read_text().replace('Check("predict", 2,', 'Check("predict", 3,')
                      .replace('Check("mse_loss", 3,', 'Check("mse_loss", 2,'))
    run = subprocess.run([sys.executable, "-m", "grader", *semester["batch"]], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)  # a new process: the
    assert run.returncode == 0, run.stderr                           # course is read again
    out = run.stdout
    capsys.readouterr()
    assert "override, 01_gradient_descent/predict: 0 -> 2" in out
    assert _results(semester, "hal")["score"] == 2
    assert _results(semester, "alice")["score"] == 19
    assert main(["history", "hal", "--results", str(results)]) == 0
    lines = capsys.readouterr().out.splitlines()
    graded = [ln for ln in lines if "graded " in ln]
    assert len(graded) == 2 and all("grader 0." in ln and "course " in ln for ln in graded)
    assert graded[0].split("course ")[1][:10] != graded[1].split("course ")[1][:10]
    assert any("override: 01_gradient_descent/predict set to 2 by" in ln for ln in lines)
    # the regrade said exactly who moved: everyone with points on predict or mse_loss
    regrade = list(csv.DictReader(open(results / "regrade.csv")))
    moved = {(r["student"], r["test"]): (r["old"], r["new"]) for r in regrade}
    assert moved[("alice", f"{A01}/predict")] == ("2", "3")
    assert moved[("alice", f"{A01}/mse_loss")] == ("3", "2")
    assert {s for s, _ in moved} == set(LATENESS) - {"hal"} | {"leeann", "parkbo"}
    assert "hal" not in {s for s, _ in moved}  # the stub earned nothing either way
    assert "alice  01_gradient_descent/predict: 2 -> 3" in out


def test_a_dry_run_says_who_would_be_graded_and_why_and_writes_nothing(semester, capsys):
    book = semester["results"] / "gradebook.sqlite"
    before = (book.stat().st_mtime, (semester["results"] / "regrade.csv").read_text())
    alice = semester["subs"] / "alice" / A01 / "gradient_descent.py"
    alice.write_text(alice.read_text() + "\n# one more line\n")
    capsys.readouterr()
    assert main([*semester["batch"], "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: 1 of 9 student(s) would be graded" in out
    assert "alice: the submission changed" in out
    assert main([*semester["batch"], "--dry-run", "--force"]) == 0
    assert "9 of 9" in capsys.readouterr().out
    assert (book.stat().st_mtime, (semester["results"] / "regrade.csv").read_text()) == before


def _hidden_tags(semester) -> list[str]:
    """Numbers of every hidden case's inputs, as a report would print them."""
    course = load_course(semester["course"])
    a = course.assignment(A01)
    secret = semester["secret"].read_text().strip()
    tags = []
    for check in a.checks:
        for case in build_cases(a, check, secret, include_hidden=True):
            if not case.hidden:
                continue
            for value in case.inputs.get("args", []):
                arr = np.ravel(np.asarray(value, dtype=object))
                for x in arr[:6]:
                    if isinstance(x, float) and len(f"{x:.6g}") >= 6:  # drawn, not 0.1
                        tags += [f"{x:.6g}", f"{x:.4f}", repr(x)]
    return tags


def test_feedback_gives_each_student_their_report_and_canvas_its_zip(semester, capsys):
    out = semester["root"] / "feedback"
    assert main(["feedback", "--results", str(semester["results"]), "--course",
                 str(semester["course"]), "--submissions", str(semester["subs"]),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "for 9 student(s)" in printed
    for name in ("alice", "dan", "leeann"):
        page = (out / name / "report.html").read_text()
        data = json.loads((out / name / "results.json").read_text())
        assert page.startswith("<!doctype html>") and "src=\"http" not in page
        assert data["score"] == _results(semester, name)["score"]
    assert "dan: 14/20" in (out / "dan" / "report.html").read_text()
    with zipfile.ZipFile(out / "canvas_feedback.zip") as z:
        names = sorted(z.namelist())
        assert names == ["leeann_1001_5001_report.html", "leeann_1001_5001_results.json",
                         "parkbo_1002_5002_report.html", "parkbo_1002_5002_results.json"]
        for n in names:  # what Canvas reads: the first two all-digit parts
            digits = [p for p in n.split("_") if p.isdigit()]
            assert digits[:2] in (["1001", "5001"], ["1002", "5002"])
    tags = _hidden_tags(semester)
    assert len(tags) > 20
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json"):
            text = path.read_text()
            assert not [t for t in tags if t in text], path
            if path.suffix == ".json":
                cases = [c for t in json.loads(text)["tests"]
                         for c in t.get("extra_data", {}).get("cases", [])]
                assert cases and all("seed" not in c for c in cases if c["hidden"])
    assert main(["feedback", "--results", str(semester["results"]), "--course",
                 str(semester["course"]), "--out", str(out / "zips"), "--zip"]) == 0
    with zipfile.ZipFile(out / "zips" / "dan.zip") as z:
        assert sorted(z.namelist()) == ["dan/report.html", "dan/results.json"]


def test_a_student_cannot_forge_the_grade_block_or_a_spreadsheet_formula():
    """The report's grade block is found by markers: a student's name, message or printed
    output that writes them is escaped, so the block replaced is the grader's own."""
    from grader.report.html import render
    from grader.instructor.semester import finalize, regrade_csv, with_grade
    from grader.judge.results import AssignmentResult, CaseResult, CheckResult, StudentResult
    forged = "<!--grade--><h1>me: 20/20</h1><!--/grade-->"
    case = CaseResult("c1", False, 1, "error", 0.0, message=forged)
    result = StudentResult(f"x{forged}", "cpu", "v", "s", [AssignmentResult(
        A01, "m", "m.py", [CheckResult(A01, "predict", 2.0, [case])], output=forged)])
    page = render(result, pictures="none")
    assert page.count("<!--grade-->") == 1
    from grader.report.student import gradescope
    final = finalize(gradescope(result), load_course(), overrides={
        f"{A01}/predict": type("O", (), {"score": 1.0, "reason": forged, "who": "ta",
                                         "at": 0.0})()})
    shown = with_grade(page, final)
    assert shown.count("<!--grade-->") == 1 and shown.count("<!--/grade-->") == 1
    assert "me: 20/20</h1>" not in shown and "1/2</h1>" in shown
    text = regrade_csv([("=HYPERLINK(\"http://x\")", f"{A01}/predict", 0.0, 2.0)])
    cells = [c for row in csv.reader(text.splitlines()) for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and not [c for c in cells if c[:1] == "="]


def test_a_gradescope_import_keeps_each_submissions_time(tmp_path):
    archive = tmp_path / "gs.zip"
    meta = ("submission_123:\n  :submitters:\n  - :name: Ann Lee\n    :email: ann@x.edu\n"
            "  :created_at: 2026-02-07 01:14:05.000000000 -06:00\n")
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("assignment_1_export/submission_metadata.yml", meta)
        z.writestr("assignment_1_export/submission_123/gradient_descent.py", "x = 1\n")
    subs = tmp_path / "subs"
    assert main(["import", str(archive), "--into", str(subs)]) == 0
    data = json.loads((subs / ".lms_ids.json").read_text())
    (student, mine), = data["submitted"].items()
    assert mine[A01]["at"] == (DUE + timedelta(hours=1, minutes=15, seconds=5)).timestamp()
    assert ":created_at:" in mine[A01]["source"] and (subs / student / A01).is_dir()
