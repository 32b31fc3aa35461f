"""Similarity after a batch: who shares wrong outputs or code, evidence never a verdict (issue 18)."""
import csv
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT
from grader.cli import main
from grader.judge.compare import signature
from grader.course.loader import load_course
from grader.grade import Session
from grader.instructor.batch import discover, run_batch
from grader.instructor.gradebook import Gradebook
from grader.instructor.progress import Progress
from grader.instructor.similarity.ranking import rank
from similarity_class import NOTES_HELPER, write_class

COURSE = load_course()
A01 = COURSE.assignment("01_gradient_descent")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def graded(pool, expected, tmp_path_factory):
    """The class of twenty-two, batch-graded on 01 with hidden cases."""
    root = tmp_path_factory.mktemp("similarity")
    subs, results = root / "submissions", root / "results"
    stub = (ROOT / "assignments" / A01.folder / f"{A01.module}.py").read_text()
    sources = write_class(subs, A01.folder, A01.module, stub)
    notes = root / "notes.py"
    notes.write_text("import numpy as np\n" + NOTES_HELPER)
    session = Session(pool, (A01,), secret="similarity", expected=expected,
                      one_fork_per_student=True, max_timeout=5)
    book = Gradebook(results / "gradebook.sqlite")
    try:
        outcome = run_batch(session, discover(subs), book, results,
                            progress=Progress(len(sources), io.StringIO()))
        rows, students = book.wrong_outputs(), [n for n, _ in book.latest()]
    finally:
        book.close()
    assert not outcome.failed and len(outcome.graded) == len(sources)
    return {"subs": subs, "results": results, "notes": notes, "rows": rows,
            "students": students}


def ranked(graded, boilerplate=True):
    return rank(COURSE, graded["rows"], graded["students"], graded["subs"],
                [graded["notes"]] if boilerplate else [])


def pair_of(sim, a, b):
    return next((p for p in sim.pairs if {p.a, p.b} == {a, b}), None)


def test_the_copying_pair_ranks_first_on_both_signals(graded):
    sim = ranked(graded)
    assert {sim.pairs[0].a, sim.pairs[0].b} == {"ana", "bea"}
    by_behaviour = max(sim.pairs, key=lambda p: p.behaviour.score(p.code))
    by_code = max(sim.pairs, key=lambda p: p.code)
    assert {by_behaviour.a, by_behaviour.b} == {"ana", "bea"}
    assert {by_code.a, by_code.b} == {"ana", "bea"}
    copy = sim.pairs[0]
    # they return the same wrong numbers on every hidden case where both are wrong, and on
    # outputs nobody else returns
    assert copy.behaviour.rare == copy.behaviour.both_wrong > 0
    assert all(len(s.students) == 2 and s.hidden for s in copy.behaviour.shared)
    second = max(p.code for p in sim.pairs[1:])
    assert copy.code > 2 * second


def test_a_mistake_two_students_made_independently_is_common_not_a_pair(graded):
    sim = ranked(graded)
    mistakes = {(m.test.split("/")[1], m.diagnosis): set(m.students) for m in sim.common}
    assert mistakes.get(("mse_grad", "sum instead of mean")) == {"cal", "dev"}
    pair = pair_of(sim, "cal", "dev")
    # their code shares nothing: the catalogued mistake they share adds nothing to the pair
    assert pair is not None and pair.behaviour.shared and pair.code == 0
    assert pair.behaviour.score(pair.code) == 0 and pair.score == 0
    assert "common mistake (sum instead of mean" in pair.evidence()
    assert sim.pairs.index(pair) >= 3


def test_the_stub_and_the_notes_do_not_make_students_similar(graded):
    sim = ranked(graded)
    assert pair_of(sim, "uma", "vic") is None  # both handed in the stub: nothing of their own
    with_notes = pair_of(sim, "eli", "fay")
    without = pair_of(ranked(graded, boilerplate=False), "eli", "fay")
    assert without is not None and (with_notes is None or with_notes.code < without.code)
    assert with_notes is None or sim.pairs.index(with_notes) >= 3
    # nobody but the copying pair looks like a copy
    assert all(p.code < 0.5 for p in sim.pairs[1:])


def test_similarity_command_writes_csv_and_page(graded, capsys):
    code = main(["similarity", "--results", str(graded["results"]), "--submissions",
                 str(graded["subs"]), "--boilerplate", str(graded["notes"])])
    assert code == 0
    out = capsys.readouterr().out
    assert "1. ana & bea" in out
    rows = list(csv.DictReader(open(graded["results"] / "similarity.csv")))
    assert (rows[0]["student_a"], rows[0]["student_b"]) == ("ana", "bea")
    assert [float(r["score"]) for r in rows] == sorted((float(r["score"]) for r in rows),
                                                       reverse=True)
    assert len({(r["student_a"], r["student_b"]) for r in rows}) == len(rows)
    page = (graded["results"] / "similarity.html").read_text()
    assert "ana" in page and "<mark>" in page and "sum instead of mean" in page


def test_bad_similarity_inputs_are_one_line(graded, tmp_path, capsys):
    assert main(["similarity", "--results", str(tmp_path), "--submissions",
                 str(graded["subs"])]) == 2
    assert "no gradebook" in capsys.readouterr().err
    assert main(["similarity", "--results", str(graded["results"]), "--submissions",
                 str(graded["subs"]), "--boilerplate", str(tmp_path / "nope.py")]) == 2
    assert "no boilerplate file" in capsys.readouterr().err


def test_wrong_outputs_stay_with_the_instructor(graded):
    data = json.loads((graded["results"] / "ana" / "results.json").read_text())
    assert "signature" not in json.dumps(data)
    assert {r[0] for r in graded["rows"]} >= {"ana", "bea", "cal", "dev"}
    assert "eli" not in {r[0] for r in graded["rows"]}  # right answers are not recorded


def test_signatures_agree_to_nine_digits_and_no_further():
    x = np.linspace(-3, 7, 50)
    desc = lambda v: {"result": {"kind": "ndarray", "dtype": "float64", "shape": [50],
                                 "value": v}}
    assert signature(desc(x)) == signature(desc(x * (1 + 1e-13)))
    assert signature(desc(x)) != signature(desc(x * (1 + 1e-6)))
    assert signature(desc(x)) != signature(desc(x[::-1]))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs "
                                              "Debian's chromium when it can)")
def test_similarity_page_renders_in_headless_chromium(graded, tmp_path):
    main(["similarity", "--results", str(graded["results"]), "--submissions",
          str(graded["subs"]), "--boilerplate", str(graded["notes"])])
    page = graded["results"] / "similarity.html"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,900",
           "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(0)))
    assert int(attrs["rows"]) == int(attrs["pairs"]) > 0
    assert int(attrs["marks"]) > 0
    assert attrs["overflow"] == "no"
