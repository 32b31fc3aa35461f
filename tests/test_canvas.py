"""Grades back into Canvas: the gradebook export filled and re-imported as is (issue 18)."""
import csv
import io
import zipfile

import pytest

from grader.cli import main
from grader.course.loader import load_course
from grader.instructor.canvas import CanvasError, fill, parse, read_ids, sniff
from grader.instructor.gradebook import Gradebook
from grader.judge.results import AssignmentResult, CaseResult, CheckResult, StudentResult

COURSE = load_course()

CANVAS = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Gradient Descent (101)",
     "Autograd (102)", "Quiz 1 (103)", "Current Points", "Final Score"],
    ["    Points Possible", "", "", "", "", "20.00", "40.00", "10.00", "(read only)",
     "(read only)"],
    ["Doe, Jane", "5001", "S1", "jdoe", "Section A", "", "", "8.00", "8.00", "80.00"],
    ["Ng, Bo", "5002", "S2", "bng", "Section B", "12.00", "", "9.00", "21.00", "70.00"],
    ["Lee, Al", "5003", "S3", "alee", "Section A, Section B", "3.00", "", "", "3.00", "10.00"],
    ["Student, Test", "5099", "", "", "Section A", "", "", "", "", ""],
]


def canvas_text(newline="\r\n", bom=True, quote_all=False) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline,
               quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows(CANVAS)
    return ("\ufeff" if bom else "") + out.getvalue()


def payload(per_folder: dict[str, tuple[float, float]]) -> dict:
    return {"score": sum(s for s, _ in per_folder.values()),
            "tests": [{"name": f"{folder}/x", "score": s, "max_score": m}
                      for folder, (s, m) in per_folder.items()]}


LATEST = [("jdoe", payload({"01_gradient_descent": (17.5, 20), "02_autograd": (10, 20)})),
          ("bo_ng", payload({"01_gradient_descent": (20, 20), "02_autograd": (20, 20)})),
          ("ghost", payload({"01_gradient_descent": (5, 20)}))]


@pytest.mark.parametrize("newline,bom,quote_all", [("\r\n", True, False), ("\n", False, False),
                                                   ("\n", True, True)])
def test_filled_file_keeps_every_row_and_column_and_the_dialect(newline, bom, quote_all):
    text = canvas_text(newline, bom, quote_all)
    filled = fill(text, LATEST, COURSE.assignments, canvas_ids={"bo_ng": "5002"})
    assert sniff(filled.text) == sniff(text)
    _, before = parse(text)
    _, after = parse(filled.text)
    assert len(after) == len(before) and all(len(a) == len(b) for a, b in zip(after, before))
    changed = {(r, c) for r, (a, b) in enumerate(zip(after, before))
               for c, (x, y) in enumerate(zip(a, b)) if x != y}
    # jdoe by SIS login, Bo by the Canvas id recorded at import; only columns 5 and 6 change
    assert changed == {(2, 5), (2, 6), (3, 5), (3, 6)}
    assert after[2][5] == "17.5" and after[3][5] == "20"
    assert after[2][6] == "20" and after[3][6] == "40"  # 10/20 scaled to the column's 40 points
    assert filled.columns == {"01_gradient_descent": "Gradient Descent (101)",
                              "02_autograd": "Autograd (102)"}
    assert filled.unmatched == ["ghost"]
    assert filled.no_grade == ["Lee, Al", "Student, Test"]
    assert after[4] == before[4]  # no grade here: the cells Canvas has are kept
    assert any("scaled" in s and "02_autograd" in s for s in filled.scaled)
    assert "03_dataset" in filled.not_in_canvas


def test_an_explicit_column_mapping_wins_and_a_wrong_one_is_an_error():
    text = canvas_text()
    filled = fill(text, LATEST, COURSE.assignments,
                  explicit={"01_gradient_descent": "Quiz 1 (103)"})
    _, rows = parse(filled.text)
    assert rows[2][7] == "8.75"  # 17.5 of 20 scaled to the quiz's 10 points
    with pytest.raises(CanvasError, match="no such column"):
        fill(text, LATEST, COURSE.assignments, explicit={"02_autograd": "Homework 9"})
    with pytest.raises(CanvasError, match="not a Canvas gradebook"):
        fill("name,score\nx,1\n", LATEST, COURSE.assignments)


def _result(name: str, points: float) -> StudentResult:
    case = CaseResult(id="c", hidden=False, seed=0, status="passed" if points else "wrong",
                      fraction=1.0 if points else 0.0)
    check = CheckResult("01_gradient_descent", "predict", 20.0, [case])
    return StudentResult(name, "cpu", "v", "s",
                         [AssignmentResult("01_gradient_descent", "gradient_descent", None,
                                           [check])])


def test_export_command_uses_the_ids_recorded_when_canvas_submissions_were_imported(tmp_path,
                                                                                    capsys):
    subs, results = tmp_path / "submissions", tmp_path / "results"
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ngbo_5002_777_gradient_descent.py", "x = 1\n")
    assert main(["import", str(archive), "--into", str(subs)]) == 0
    assert read_ids(subs) == {"ngbo": "5002"}
    book = Gradebook(results / "gradebook.sqlite")
    run = book.start_run("v", "s", "cpu", "test")
    book.record(run, _result("ngbo", 20), "h1")
    book.record(run, _result("jdoe", 0), "h2")
    book.record(run, _result("nobody", 20), "h3")
    book.close()
    source = tmp_path / "canvas.csv"
    source.write_text(canvas_text(), encoding="utf-8", newline="")
    capsys.readouterr()
    assert main(["export", "--results", str(results), "--canvas-gradebook", str(source),
                 "--submissions", str(subs)]) == 0
    out = capsys.readouterr().out
    assert "graded but not found in the Canvas file (1): nobody" in out
    assert "Lee, Al" in out
    _, rows = parse((results / "canvas_gradebook.csv").read_text(encoding="utf-8"))
    assert rows[3][5] == "20" and rows[2][5] == "0"
    assert main(["export", "--results", str(results), "--canvas-gradebook",
                 str(tmp_path / "missing.csv")]) == 2
    assert main(["export", "--results", str(results), "--canvas-gradebook", str(source),
                 "--column", "99_nope=Quiz 1 (103)"]) == 2
    assert "no assignment folder" in capsys.readouterr().err
