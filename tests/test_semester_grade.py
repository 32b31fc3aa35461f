"""The late policy, extensions and overrides in a single student's ``grade`` (the same judge as
``batch``: ``semester.finalize``), and the class summary's final scores (issue 29)."""
import json
import os
import re
import shutil
import zipfile
from datetime import timedelta

import pytest

from conftest import ROOT, reference_source
from grader.cli import main
from test_semester import DUE, LATE_POLICY  # one policy for both files

A01 = "01_gradient_descent"
HEAD = ('folder = "01_gradient_descent"\nmodule = "gradient_descent"\n'
        'title = "Linear regression and gradient descent in NumPy"\npoints = 20\n')
LATENESS = {"carol": timedelta(hours=20), "bob": timedelta(minutes=10),
            "eve": timedelta(days=5), "dan": -timedelta(hours=3), "hal": -timedelta(hours=1)}
"""How late each student's file is (its modification time); ``hal`` hands in the stub."""


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """A course whose 01 has a late policy, the shipped course (no deadline), and students
    whose files are dated against the due date."""
    root = tmp_path_factory.mktemp("term")
    course = root / "course"
    shutil.copytree(ROOT / "reference", course, ignore=shutil.ignore_patterns("__pycache__"))
    toml = course / "course.toml"
    assert HEAD in toml.read_text() and "due =" not in toml.read_text()
    toml.write_text(toml.read_text().replace(HEAD, HEAD + LATE_POLICY))
    subs = root / "submissions"
    good = reference_source(A01)
    stub = (ROOT / "assignments" / A01 / "gradient_descent.py").read_text()
    for name, late in LATENESS.items():
        path = subs / name / A01 / "gradient_descent.py"
        path.parent.mkdir(parents=True)
        path.write_text(stub if name == "hal" else good)
        stamp = (DUE + late).timestamp()
        os.utime(path, (stamp, stamp))
    secret = root / "secret"
    secret.write_text("semester-grade-secret-of-issue-29\n")
    return {"root": root, "course": course, "subs": subs, "secret": secret}


def _grade(term, name, results, course=None, *extra):
    args = ["grade", name, "--submissions", str(term["subs"]), "--results", str(results),
            "--course", str(course or term["course"]), "--secret-file", str(term["secret"]),
            "--assignment", A01, "--workers", "1", "--pictures", "none", *extra]
    assert main(args) == 0
    folder = results / name
    return (json.loads((folder / "results.json").read_text()),
            (folder / "report.html").read_text())


def _late(payload):
    (late,) = [x for x in payload["extra_data"]["grade"]["late"] if x["assignment"] == A01]
    return late


@pytest.fixture(scope="module")
def carol(term):
    """carol (20 hours late) graded alone with the late policy."""
    return _grade(term, "carol", term["root"] / "results-carol")


def test_grade_of_a_late_student_shows_the_raw_score_the_penalty_and_the_final_score(
        term, carol, capsys):
    payload, page = carol
    grade, late = payload["extra_data"]["grade"], _late(payload)
    assert grade["raw_score"] == 20 and late["percent"] == 10 and late["points"] == 2
    assert payload["score"] == grade["final_score"] == 18
    assert "20 h late: 1 day × 10% = 10%" in late["why"]
    assert "modification time of 01_gradient_descent/gradient_descent.py" in late["why"]
    penalty = next(t for t in payload["tests"] if t["name"] == f"{A01}/late penalty")
    assert penalty["score"] == -2 and penalty["max_score"] == 0
    assert "Grader's score 20, final 18" in payload["output"]
    assert "carol: 18/20" in page and "The grader's score: 20" in page
    assert "Late penalty on 01_gradient_descent: −2 points (10%)" in page
    # the same student in a batch: the very same results.json and grade block
    results = term["root"] / "results-carol-batch"
    only = term["root"] / "only-carol"
    shutil.copytree(term["subs"] / "carol", only / "carol")  # copytree keeps the file's time
    assert main(["batch", str(only), "--results", str(results), "--course",
                 str(term["course"]), "--secret-file", str(term["secret"]), "--no-validate",
                 "--assignment", A01, "--workers", "1", "--pictures", "none"]) == 0
    out = capsys.readouterr().out
    assert "late, 01_gradient_descent: -2 (10%)" in out
    batch = json.loads((results / "carol" / "results.json").read_text())
    def scored(p):
        return [(t["name"], t["score"], t["max_score"], t["output"]) for t in p["tests"]]
    assert batch["extra_data"]["grade"] == grade and scored(batch) == scored(payload)
    block = re.compile(r"<!--grade-->.*?<!--/grade-->", re.S)
    assert block.search((results / "carol" / "report.html").read_text()).group() == \
        block.search(page).group()


def test_grade_says_the_final_score_in_the_terminal(term, capsys):
    _grade(term, "carol", term["root"] / "results-terminal")
    out = capsys.readouterr().out
    assert "final score 18 (the grader's 20):" in out
    assert "late, 01_gradient_descent: -2 (10%): 20 h late" in out


def test_grade_inside_the_grace_period_charges_nothing(term):
    payload, page = _grade(term, "bob", term["root"] / "results-bob")
    late = _late(payload)
    assert late["percent"] == 0 and "inside the grace period (10 min late" in late["why"]
    assert payload["score"] == payload["extra_data"]["grade"]["final_score"] == 20
    assert not [t for t in payload["tests"] if t["name"].endswith("late penalty")]
    assert "bob: 20/20" in page and "Late penalty" not in page


def test_grade_honours_an_extension(term):
    results = term["root"] / "results-eve"
    payload, _ = _grade(term, "eve", results)
    assert _late(payload)["percent"] == 30 and payload["score"] == 14  # 5 days: the cap
    (results / "extensions.toml").write_text('[eve]\n01_gradient_descent = "5 days"\n')
    payload, page = _grade(term, "eve", results)
    assert _late(payload)["percent"] == 0 and "extended to 2026-02-11" in _late(payload)["why"]
    assert payload["score"] == 20 and "eve: 20/20" in page
    other = term["root"] / "elsewhere.toml"  # --extensions names another file
    other.write_text('[eve]\n01_gradient_descent = "1 day"\n')
    payload, _ = _grade(term, "eve", results, None, "--extensions", str(other))
    assert _late(payload)["percent"] == 30 and "extended to 2026-02-07" in _late(payload)["why"]


def test_grade_takes_the_lms_time_and_the_overrides_as_a_batch_does(term, tmp_path):
    """A Gradescope import's ``:created_at:`` (2 days 5 hours late) wins over the file's time
    (the unzip's); an override kept in the gradebook applies, before the penalty."""
    archive = tmp_path / "gs.zip"
    meta = ("submission_123:\n  :submitters:\n  - :name: Ann Lee\n    :email: ann@x.edu\n"
            "  :created_at: 2026-02-09 04:59:00.000000000 -06:00\n")
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("assignment_1_export/submission_metadata.yml", meta)
        z.writestr("assignment_1_export/submission_123/gradient_descent.py",
                   reference_source(A01))
    subs = tmp_path / "subs"
    assert main(["import", str(archive), "--into", str(subs), "--course",
                 str(term["course"])]) == 0
    (name,) = json.loads((subs / ".lms_ids.json").read_text())["submitted"]
    results = tmp_path / "results"
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.semester import add_override
    book = Gradebook(results / "gradebook.sqlite")
    add_override(book, name, f"{A01}/predict", 1, "regrade request #7", who="mlee")
    book.close()
    payload, page = _grade(dict(term, subs=subs), name, results)
    late, grade = _late(payload), payload["extra_data"]["grade"]
    assert late["percent"] == 30 and ":created_at:" in late["why"]
    (o,) = grade["overrides"]
    assert (o["test"], o["raw"], o["score"], o["who"]) == (f"{A01}/predict", 2, 1, "mlee")
    assert grade["raw_score"] == 20 and payload["score"] == pytest.approx(19 * 0.7)
    assert "regrade request #7" in page and f"{name}: 13.3/20" in page


def test_a_course_without_deadlines_grades_as_before(term, carol):
    payload, page = _grade(term, "carol", term["root"] / "results-plain", ROOT / "reference")
    assert "grade" not in payload["extra_data"] and payload["score"] == 20
    assert payload["output"].startswith("20/20 points, graded on")
    assert "Grader's score" not in payload["output"]
    assert [t["name"] for t in payload["tests"]] == \
        [t["name"] for t in carol[0]["tests"] if not t["name"].endswith("late penalty")]
    assert "carol: 20/20" in page and "The grader's score" not in page
    assert carol[0]["score"] == 18  # the same file, the same day, in the course with a deadline


def test_the_class_summary_shows_final_scores_and_says_why(term):
    results = term["root"] / "results-class"
    folder = term["root"] / "class"
    for name in ("carol", "hal", "dan"):
        shutil.copytree(term["subs"] / name, folder / name)
    common = ["--results", str(results), "--course", str(term["course"])]
    assert main(["batch", str(folder), *common, "--secret-file", str(term["secret"]),
                 "--no-validate", "--assignment", A01, "--workers", "1",
                 "--pictures", "none"]) == 0
    page = (results / "summary.html").read_text()
    assert "carol</td><td><span class='raw'>20</span> → <b>18</b>" in page
    assert "late: −2 on 01_gradient_descent (10%)" in page
    assert "mean 12.7" in page  # (18 + 0 + 20) / 3: final scores
    assert "late penalty" not in page  # no test of its own in the pass rates
    assert "dan</td>" not in page  # on time: nothing to say
    assert main(["override", "hal", "predict", "--score", "2", "--reason",
                 "predict was right", *common]) == 0
    page = (results / "summary.html").read_text()
    assert "hal</td><td><span class='raw'>0</span> → <b>2</b>" in page
    assert "override: 01_gradient_descent/predict 0 → 2 (predict was right)" in page
    assert "carol</td><td><span class='raw'>20</span> → <b>18</b>" in page
    assert "mean 13.3" in page and "2 differ from the grader's" in page


def test_an_unreadable_gradebook_is_one_line_before_anything_is_graded(term, capsys):
    results = term["root"] / "results-broken"
    results.mkdir()
    (results / "gradebook.sqlite").write_text("not a database\n")
    args = ["grade", "bob", "--submissions", str(term["subs"]), "--results", str(results),
            "--course", str(term["course"]), "--secret-file", str(term["secret"])]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot read the overrides in") and "\n" not in err
    assert not (results / "bob").exists()
