"""Batch grading, the gradebook, exports, imports and the Gradescope bundle (issue 6)."""
import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile

import pytest

from conftest import ROOT
from grader.instructor.batch import discover, run_batch
from grader.course.loader import load_course

COURSE = load_course()
assignment = COURSE.assignment
from grader.instructor.export import gradebook_csv
from grader.grade import Session
from grader.instructor.gradebook import Gradebook
from grader.instructor.importer import import_zip
from grader.instructor.progress import Progress
from grader.instructor.summary import html_page, terminal

A01 = "01_gradient_descent"


@pytest.fixture
def klass(tmp_path):
    """Three students: the reference (20), the demo (15) and the stubs (0), on 01 only."""
    subs = tmp_path / "submissions"
    for name, src in (("alice", ROOT / "reference"), ("bob", ROOT / "submissions" / "demo"),
                      ("carol", ROOT / "assignments")):
        shutil.copytree(src / A01, subs / name / A01)
    return subs


def batch(pool, expected, subs, results, force=False):
    session = Session(pool, (assignment(A01),), secret="t", expected=expected,
                      one_fork_per_student=True, max_timeout=5)
    book = Gradebook(results / "gradebook.sqlite")
    try:
        return run_batch(session, discover(subs), book, results, force=force,
                         progress=Progress(3, io.StringIO())), book.latest()
    finally:
        book.close()


def test_batch_grades_everyone_and_records_the_gradebook(pool, expected, klass, tmp_path):
    results = tmp_path / "results"
    outcome, latest = batch(pool, expected, klass, results)
    scores = {name: payload["score"] for name, payload in latest}
    assert scores == {"alice": 20, "bob": 15, "carol": 0}
    for name in scores:
        data = json.loads((results / name / "results.json").read_text())
        assert data["score"] == scores[name]
    db = sqlite3.connect(results / "gradebook.sqlite")
    assert db.execute("SELECT COUNT(*) FROM tests").fetchone()[0] == 3 * 6
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_unchanged_submissions_are_skipped_and_history_is_kept(pool, expected, klass, tmp_path):
    results = tmp_path / "results"
    batch(pool, expected, klass, results)
    again, _ = batch(pool, expected, klass, results)
    assert sorted(again.skipped) == ["alice", "bob", "carol"] and not again.graded
    fixed = (ROOT / "reference" / A01 / "gradient_descent.py").read_text()
    (klass / "bob" / A01 / "gradient_descent.py").write_text(fixed.replace("### ", "# "))
    third, latest = batch(pool, expected, klass, results)
    assert [r.student for r in third.graded] == ["bob"]
    assert dict((n, p["score"]) for n, p in latest)["bob"] == 20
    forced, _ = batch(pool, expected, klass, results, force=True)
    assert len(forced.graded) == 3
    book = Gradebook(results / "gradebook.sqlite")
    assert [score for _, score, _ in book.history("bob")] == [15, 20, 20]
    book.close()


def test_a_lone_surrogate_in_a_students_message_costs_only_that_call(pool, expected, tmp_path):
    """JSON can say "\\ud800", UTF-8 cannot: a red team's exception message carried one,
    writing the report failed and the batch stopped there. It arrives as U+FFFD now, and
    the students after are graded."""
    subs = tmp_path / "submissions"
    source = (ROOT / "reference" / A01 / "gradient_descent.py").read_text()
    for name, extra in (("mallory", "\ndef mse_loss(*a, **k):\n    raise RuntimeError("
                                    "'lone \\ud800 surrogate')\n"), ("zed", "")):
        (subs / name / A01).mkdir(parents=True)
        (subs / name / A01 / "gradient_descent.py").write_text(source + extra)
    results = tmp_path / "results"
    outcome, latest = batch(pool, expected, subs, results)
    scores = {name: payload["score"] for name, payload in latest}
    assert scores["zed"] == 20 and scores["mallory"] < 20, scores
    page = (results / "mallory" / "report.html").read_text()
    assert "lone \ufffd surrogate" in page


FORGED_BYTES = """
import sys as _sys
_wire = _sys.modules["grader.worker.wire"]
_dumps = _wire.dumps


def _forged(value, _dumps=_dumps):  # a lone surrogate's raw UTF-8 bytes, no escape
    return _dumps(value).replace(b"`params`", b"\\xed\\xa0\\x80")


_wire.dumps = _forged


def mse_loss(params, X, y):
    params[0] += 1.0  # reported as a mutated input: its name is the forged one
    return float(((y - params[0] + 1.0 - params[1] * X) ** 2).mean())
"""


def test_a_forged_result_with_a_surrogates_raw_bytes_costs_only_that_call(pool, expected,
                                                                         tmp_path):
    """A red team's fork wrote a lone surrogate as raw bytes in its result (`json.loads` of
    bytes keeps them as one, and no escape showed it): writing the report failed, on every
    run of the batch. The bytes are not UTF-8, so the result is unreadable, that call
    charged; the students after are graded."""
    subs = tmp_path / "submissions"
    source = (ROOT / "reference" / A01 / "gradient_descent.py").read_text()
    for name, extra in (("mallory", FORGED_BYTES), ("zed", "")):
        (subs / name / A01).mkdir(parents=True)
        (subs / name / A01 / "gradient_descent.py").write_text(source + extra)
    results = tmp_path / "results"
    outcome, latest = batch(pool, expected, subs, results)
    assert not outcome.failed
    scores = {name: payload["score"] for name, payload in latest}
    assert scores["zed"] == 20 and scores["mallory"] < 20, scores
    assert "not plain data" in (results / "mallory" / "report.html").read_text()


def test_export_csv_has_one_row_per_student_and_a_column_per_assignment():
    payload = {"score": 44, "tests": [
        {"name": "01_gradient_descent/predict", "score": 3, "max_score": 3},
        {"name": "02_autograd/LR", "score": 4, "max_score": 4},
        {"name": "02_autograd/BetterLR", "score": 37, "max_score": 37}]}
    rows = list(csv.reader(io.StringIO(gradebook_csv([("ann", payload)],
                                                     [a.folder for a in COURSE]))))
    assert rows[0] == ["student", *[a.folder for a in COURSE], "total"]
    assert rows[1] == ["ann", "3", "41", *["0"] * (len(COURSE) - 2), "44"]


def test_a_killed_batch_loses_nothing_and_a_rerun_completes_it(tmp_path):
    subs = tmp_path / "submissions"
    for i in range(6):
        shutil.copytree(ROOT / "reference" / A01, subs / f"s{i}" / A01)
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "grader", "batch", str(subs), "--results", str(results),
           "--assignment", A01, "--device", "cpu", "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(results.glob("*/results.json"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sorted(p.parent.name for p in results.glob("*/results.json"))
    assert 2 <= len(finished)
    for name in finished:
        assert json.loads((results / name / "results.json").read_text())["score"] == 20
    book = Gradebook(results / "gradebook.sqlite")
    recorded = {name for name, _ in book.latest()}
    book.close()
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"graded {6 - len(recorded)}, unchanged {len(recorded)}" in rerun.stdout
    assert len(list(results.glob("*/results.json"))) == 6


def test_import_canvas_and_gradescope_exports(tmp_path):
    canvas = tmp_path / "canvas.zip"
    with zipfile.ZipFile(canvas, "w") as z:
        z.writestr("doejane_123_456_gradient_descent.py", "# jane 01\n")
        z.writestr("doejane_LATE_123_789_autograd_lr-1.py", "# jane 02\n")
        z.writestr("smithbob_124_457_notes.txt", "unrelated")
        z.writestr("../../evil_1_2_models.py", "# path traversal attempt\n")
    report = import_zip(canvas, tmp_path / "subs", COURSE)
    assert (tmp_path / "subs/doejane/01_gradient_descent/gradient_descent.py").read_text() == \
        "# jane 01\n"
    assert (tmp_path / "subs/doejane/02_autograd/autograd_lr.py").is_file()
    assert (tmp_path / "subs/evil/05_models/models.py").is_file()
    assert not (tmp_path.parent / "evil_1_2_models.py").exists()
    assert report.unmatched == ["smithbob_124_457_notes.txt"]
    gs = tmp_path / "gs.zip"
    with zipfile.ZipFile(gs, "w") as z:
        z.writestr("assignment_1_export/submission_metadata.yml",
                   "submission_111:\n  :submitters:\n  - :name: Ann Lee\n    :email: ann@u.edu\n")
        z.writestr("assignment_1_export/submission_111/dataset.py", "# ann 03\n")
    import_zip(gs, tmp_path / "subs", COURSE)
    assert (tmp_path / "subs/Ann_Lee/03_dataset/dataset.py").read_text() == "# ann 03\n"


def test_gradescope_bundle_runs_against_a_simulated_autograder_tree(tmp_path):
    (tmp_path / "secret").write_text("a-real-secret-for-this-bundle-0123456789")
    built = subprocess.run([sys.executable, "-m", "grader", "gradescope", "--out",
                            str(tmp_path / "dist"), "--secret-file", str(tmp_path / "secret")],
                           cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "dist" / "autograder.zip") as z:
        z.extractall(root / "source")
        assert {"setup.sh", "run_autograder", "requirements.lock"} <= set(z.namelist())
    (root / "submission").mkdir()
    shutil.copy(ROOT / "submissions" / "demo" / A01 / "gradient_descent.py", root / "submission")
    (root / "submission" / "notes.txt").write_text("not code")
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    proc = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    by_name = {t["name"]: t["score"] for t in data["tests"]}
    assert by_name["01_gradient_descent/predict"] == assignment(A01).check("predict").points
    assert by_name["01_gradient_descent/gradient_descent"] == 0
    assert by_name["02_autograd/LR"] == 0  # no file submitted for 02
    assert "notes.txt" in data["output"]


def test_progress_bar_shows_done_rate_and_time_left():
    out = io.StringIO()
    p = Progress(4, out)
    p.update()
    assert "1/4 students" in out.getvalue() and "students/s" in out.getvalue()
    assert "s left" in out.getvalue()


def test_class_summary_has_histogram_and_pass_rates():
    payloads = [{"score": s, "tests": [{"name": "01/a", "score": s / 10, "max_score": 10}]}
                for s in (10, 50, 100)]
    page = html_page(payloads)
    assert "data:image/svg+xml;base64," in page and "01/a" in page
    assert "33.3%" in terminal(payloads)


def test_a_full_disk_mid_write_leaves_the_previous_results_intact(tmp_path, monkeypatch):
    import errno

    from grader.report import student as report
    path = tmp_path / "alice" / "results.json"
    report.write_atomic(path, '{"score": 25}')

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(report.os, "fsync", no_space)
    with pytest.raises(OSError):
        report.write_atomic(path, '{"score": 0}')
    assert json.loads(path.read_text()) == {"score": 25}
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary left


def test_batch_pictures_are_drawn_for_checks_that_lost_points_unless_asked_not_to(tmp_path):
    """report.html of a batch: pictures of failing checks by default, none with
    --pictures none (the grader's own largest cost in a batch), the verdicts alike."""
    klass = tmp_path / "class"
    shutil.copytree(ROOT / "submissions" / "demo" / A01, klass / "demo" / A01)
    pages = {}
    for pictures in ("failing", "none"):
        results = tmp_path / f"results-{pictures}"
        proc = subprocess.run([sys.executable, "-m", "grader", "batch", str(klass), "--results",
                               str(results), "--assignment", A01, "--pictures", pictures],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        pages[pictures] = (results / "demo" / "report.html").read_text()
        scores = json.loads((results / "demo" / "results.json").read_text())["score"]
        pages[pictures + "-score"] = scores
    assert pages["failing"].count("<img") >= 1 and "<img" not in pages["none"]
    assert pages["failing-score"] == pages["none-score"] < 20


def test_export_finds_the_canvas_ids_import_recorded_through_the_gradebook(tmp_path, capsys):
    """import -> batch -> export with only --results: the batch kept the Canvas user ids
    beside the grades, so the export matches every student without --submissions."""
    from grader.cli import main
    from grader.instructor.canvas import parse
    source = (ROOT / "reference" / A01 / "gradient_descent.py").read_text()
    archive, subs, results = tmp_path / "canvas.zip", tmp_path / "subs", tmp_path / "results"
    with zipfile.ZipFile(archive, "w") as z:  # Canvas names: login_userid_submissionid_file
        z.writestr("ngbo_5002_777_gradient_descent.py", source)
        z.writestr("doejane_5001_778_gradient_descent.py", "def predict(params, X):\n    1/0\n")
    assert main(["import", str(archive), "--into", str(subs)]) == 0
    proc = subprocess.run([sys.executable, "-m", "grader", "batch", str(subs), "--results",
                           str(results), "--assignment", A01, "--device", "cpu", "--workers",
                           "1", "--pictures", "none"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    canvas = tmp_path / "canvas.csv"
    canvas.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Gradient Descent (101)\n"
                      "Points Possible,,,,,20.00\n"
                      "\"Doe, Jane\",5001,S1,jane.doe,A,\n"
                      "\"Ng, Bo\",5002,S2,bo.ng,B,3\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["export", "--results", str(results), "--canvas-gradebook", str(canvas)]) == 0
    out = capsys.readouterr().out
    assert "2 students' grades" in out and "not found in the Canvas file" not in out
    _, rows = parse((results / "canvas_gradebook.csv").read_text(encoding="utf-8"))
    assert rows[3][5] == "20" and rows[2][5] == "0"


class _AllAtOnce:
    """Grading machinery whose students all finish at the same moment (a cluster's burst):
    the batch gets them as one list, as it gets whatever finished meanwhile."""

    def __init__(self, points: dict[str, float]):
        from concurrent.futures import Future
        from grader.judge.results import (AssignmentResult, CaseResult, CheckResult,
                                          StudentResult)
        self.made = {}
        for name, score in points.items():
            case = CaseResult(id="c", hidden=False, seed=0,
                              status="passed" if score else "wrong", fraction=score / 20)
            check = CheckResult(A01, "predict", 20.0, [case])
            self.made[name] = StudentResult(name, "cpu", "v", "s", [
                AssignmentResult(A01, "gradient_descent", None, [check])])
        self.Future = Future

    def prepare(self):
        pass

    def submit(self, submission):
        fut = self.Future()
        fut.set_result(self.made[submission.name])
        return fut

    def as_completed(self, futures, stop=None):
        yield list(futures)

    def result(self, fut):
        return fut.result()

    def stop(self, futures):
        pass

    def close(self):
        pass


def test_students_finished_together_are_saved_together_and_a_failed_write_keeps_the_rest(
        tmp_path, monkeypatch):
    """Five students finish at once: one group (one sync, one transaction). When the fourth
    one's page cannot be written, the three before it are still on disk and in the
    gradebook, the batch stops in one line naming the fourth, and nobody is lost."""
    import errno
    from grader.instructor import batch as batch_module
    subs, results = tmp_path / "submissions", tmp_path / "results"
    for i in range(5):
        shutil.copytree(ROOT / "reference" / A01, subs / f"s{i}" / A01)
    real, calls = batch_module.write_atomic, []

    def full_at_the_eighth(path, text):
        calls.append(path)
        if len(calls) == 8:  # s3's report.html
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)
    monkeypatch.setattr(batch_module, "write_atomic", full_at_the_eighth)
    syncs = []
    monkeypatch.setattr(batch_module, "sync", lambda folder: syncs.append(folder))
    session = Session(None, (assignment(A01),), secret="t")
    book = Gradebook(results / "gradebook.sqlite")
    outcome = run_batch(session, discover(subs), book, results,
                        runner=_AllAtOnce({f"s{i}": 20.0 - i for i in range(5)}),
                        progress=Progress(5, io.StringIO()), pictures="none")
    recorded = dict(book.latest())
    book.close()
    assert sorted(recorded) == ["s0", "s1", "s2"] and syncs == [results]
    assert [recorded[f"s{i}"]["score"] for i in range(3)] == [20, 19, 18]
    assert outcome.save_error == "could not save the results of s3: [Errno 28] No space left " \
                                 "on device"
    assert outcome.left == ["s3", "s4"]
    for i in range(3):
        assert json.loads((results / f"s{i}" / "results.json").read_text())["score"] == 20 - i
    book = Gradebook(results / "gradebook.sqlite")
    again = run_batch(session, discover(subs), book, results,
                      runner=_AllAtOnce({f"s{i}": 20.0 - i for i in range(5)}),
                      progress=Progress(5, io.StringIO()), pictures="none")
    book.close()
    assert sorted(r.student for r in again.graded) == ["s3", "s4"]
