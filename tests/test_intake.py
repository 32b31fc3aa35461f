"""A submission is read, never followed, and nothing a student controls acts on the instructor
(issue 25): links, hard links and FIFOs left out on every path, the graded file decided before
any student code runs, control characters inert in the terminal, formulas inert in every CSV,
two students with one name never merged by `import`."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from nbformat import v4

from conftest import ROOT, SECRET, assignment, reference_source
from grader.grade import Session
from grader.instructor import bundle
from grader.instructor.batch import discover, run_batch
from grader.instructor.canvas import fill
from grader.instructor.export import gradebook_csv
from grader.instructor.gradebook import Gradebook
from grader.instructor.importer import import_zip
from grader.report.student import gradescope, terminal

A01, A02 = "01_gradient_descent", "02_autograd"
COURSE = (assignment(A01), assignment(A02))
REFERENCE = ROOT / "reference" / A01 / "gradient_descent.py"
THE_SECRET = "s3cret-never-to-be-shown-" + "x" * 8


def secret_file(tmp_path) -> Path:
    """The instructor's secret, as a file a link could point at (a Python file: it would
    fail to import with the secret in a NameError, as it once did)."""
    path = tmp_path / "instructor" / ".grader-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(THE_SECRET + "\n")
    return path


def hostile_folder(root: Path, tmp_path: Path) -> Path:
    """A student whose 01 links to the reference, whose 02 links to the secret."""
    (root / A01).mkdir(parents=True)
    (root / A02).mkdir(parents=True)
    os.symlink(REFERENCE, root / A01 / "gradient_descent.py")
    os.symlink(secret_file(tmp_path), root / A02 / "autograd_lr.py")
    return root


def payload_text(payload: dict) -> str:
    return json.dumps(payload)


# --------------------------------------------------------------------------- read, never followed
def test_read_folder_leaves_out_links_hard_links_fifos_and_sockets(tmp_path):
    import socket

    from grader.worker.submission import read_folder
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "own.py").write_text("x = 1\n")
    outside = tmp_path / "outside.py"
    outside.write_text("secret = 1\n")
    os.symlink(outside, folder / "link.py")
    os.symlink(tmp_path, folder / "linked_dir")
    os.link(outside, folder / "hard.py")
    os.link(folder / "own.py", folder / "own_too.py")  # both names inside: kept
    os.mkfifo(folder / "pipe.py")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock"))
    try:
        snap = read_folder(folder)
    finally:
        sock.close()
    assert sorted(snap.files) == ["own.py", "own_too.py"]
    assert snap.left_out == {"hard.py": "a hard link to a file outside the submission",
                             "link.py": "a symbolic link", "linked_dir": "a symbolic link",
                             "pipe.py": "a FIFO (named pipe)", "sock": "a socket"}


def test_a_linked_submission_under_grade_is_left_out_and_says_so(pool, tmp_path):
    student = hostile_folder(tmp_path / "mallory", tmp_path)
    result = Session(pool, COURSE, secret=SECRET, max_timeout=5).grade(student)
    assert result.score == 0
    note = result.assignments[0].note
    assert "gradient_descent.py is a symbolic link and was left out" in note
    payload = gradescope(result)
    left = {e["path"]: e["why"] for e in payload["extra_data"]["submission"]["left_out"]}
    assert left == {f"{A01}/gradient_descent.py": "a symbolic link",
                    f"{A02}/autograd_lr.py": "a symbolic link"}
    assert "symbolic link" in payload["output"]
    assert THE_SECRET not in payload_text(payload) + terminal(result)


def test_gradescope_run_never_follows_a_link_to_the_reference_or_the_secret(pool, tmp_path):
    """`gradescope-run` once copied with shutil.copy: the reference was graded as the
    student's (20/20) and the secret was printed in a NameError line."""
    root = tmp_path / "autograder"
    sub = root / "submission"
    sub.mkdir(parents=True)
    os.symlink(REFERENCE, sub / "gradient_descent.py")
    os.symlink(secret_file(tmp_path), sub / "autograd_lr.py")
    session = Session(pool, COURSE, secret=SECRET, max_timeout=5)
    payload = bundle.run(root, COURSE, lambda folder: gradescope(session.grade(folder)))
    written = (root / "results" / "results.json").read_text()
    assert payload["score"] == 0
    assert THE_SECRET not in written
    assert "left out of the submission: gradient_descent.py (a symbolic link" in payload["output"]
    left = {e["path"] for e in payload["extra_data"]["submission"]["left_out"]}
    assert left == {"gradient_descent.py", "autograd_lr.py"}


def test_batch_leaves_out_links_hard_links_and_fifos_and_grades_the_rest(pool, tmp_path):
    subs = tmp_path / "class"
    hostile_folder(subs / "linker", tmp_path)
    hard = subs / "hardlinker" / A01
    hard.mkdir(parents=True)
    instructors = tmp_path / "instructor" / "solution.py"
    instructors.write_text(reference_source(A01))  # e.g. the instructor's own solution copy
    os.link(instructors, hard / "gradient_descent.py")
    fifo = subs / "fifo" / A01
    fifo.mkdir(parents=True)
    os.mkfifo(fifo / "gradient_descent.py")
    honest = subs / "honest" / A01
    honest.mkdir(parents=True)
    (honest / "gradient_descent.py").write_text(reference_source(A01))
    session = Session(pool, COURSE, secret=SECRET, max_timeout=5, one_fork_per_student=True)
    book = Gradebook(tmp_path / "results" / "gradebook.sqlite")
    try:
        outcome = run_batch(session, discover(subs), book, tmp_path / "results", parallel=2)
    finally:
        book.close()
    assert not outcome.failed
    results = {n: json.loads((tmp_path / "results" / n / "results.json").read_text())
               for n in ("linker", "hardlinker", "fifo", "honest")}
    assert {n: r["score"] for n, r in results.items()} == \
        {"linker": 0, "hardlinker": 0, "fifo": 0, "honest": 20}
    why = {n: {e["path"]: e["why"] for e in r["extra_data"]["submission"]["left_out"]}
           for n, r in results.items()}
    assert why["linker"][f"{A01}/gradient_descent.py"] == "a symbolic link"
    assert why["hardlinker"][f"{A01}/gradient_descent.py"] == \
        "a hard link to a file outside the submission"
    assert why["fifo"][f"{A01}/gradient_descent.py"] == "a FIFO (named pipe)"
    assert why["honest"] == {}
    assert all(THE_SECRET not in payload_text(r) for r in results.values())
    assert "gradient_descent.py is a FIFO (named pipe) and was left out" in \
        results["fifo"]["output"]


def test_the_cluster_payload_carries_no_link(tmp_path):
    from grader.instructor.cluster.payload import pack_student
    student = hostile_folder(tmp_path / "mallory", tmp_path)
    (student / A01 / "helper.py").write_text("x = 1\n")
    os.link(secret_file(tmp_path), student / A01 / "hard.py")
    assert set(pack_student(student)) == {f"{A01}/helper.py"}


# --------------------------------------------------------------------------- the graded file
def worked_notebook(folder: Path) -> None:
    """A notebook holding the work, beside the untouched starter .py."""
    import nbformat
    (folder / A01).mkdir(parents=True)
    (folder / A01 / "gradient_descent.py").write_text(
        (ROOT / "assignments" / A01 / "gradient_descent.py").read_text())
    nb = v4.new_notebook(cells=[v4.new_code_cell(reference_source(A01))])
    (folder / A01 / "gradient_descent.ipynb").write_text(nbformat.writes(nb))


def test_a_redated_notebook_is_still_the_one_graded(grade, tmp_path):
    """A classmate set this notebook's date to 1970 (os.utime): the .py beside it is the
    starter unchanged, so the notebook, where the work is, is graded."""
    worked_notebook(tmp_path / "ann")
    os.utime(tmp_path / "ann" / A01 / "gradient_descent.ipynb", (0, 0))
    result = grade(tmp_path / "ann", A01)
    assert result.score == 20
    assert "gradient_descent.py is the starter file unchanged, so gradient_descent.ipynb " \
           "was graded" in result.assignments[0].note
    graded = gradescope(result)["extra_data"]["submission"]["graded"][A01]
    assert (graded["file"], graded["rule"]) == (f"{A01}/gradient_descent.ipynb", "stub")


def test_a_classmate_redating_a_notebook_during_a_batch_changes_nothing(pool, tmp_path):
    """Even unconfined (a kernel without the metadata rules), what another student's code
    does to a folder during a batch does not change which file a classmate is graded on:
    the choice was made when the class was collected, before anyone's code ran."""
    subs = tmp_path / "class"
    victim = subs / "b_victim" / A01
    victim.mkdir(parents=True)
    (victim / "gradient_descent.py").write_text("# an early attempt\nx = 1\n")
    os.utime(victim / "gradient_descent.py", (1_000_000_000, 1_000_000_000))
    import nbformat
    (victim / "gradient_descent.ipynb").write_text(nbformat.writes(
        v4.new_notebook(cells=[v4.new_code_cell(reference_source(A01))])))
    attacker = subs / "a_attacker" / A01
    attacker.mkdir(parents=True)
    (attacker / "gradient_descent.py").write_text(
        f"import os\nos.utime({str(victim / 'gradient_descent.ipynb')!r}, (0, 0))\n")
    session = Session(pool, (assignment(A01),), secret=SECRET, max_timeout=5, confine=False,
                      one_fork_per_student=True)
    book = Gradebook(tmp_path / "results" / "gradebook.sqlite")
    try:
        run_batch(session, discover(subs), book, tmp_path / "results", parallel=1)
    finally:
        book.close()
    assert os.stat(victim / "gradient_descent.ipynb").st_mtime == 0  # the attack ran
    result = json.loads((tmp_path / "results" / "b_victim" / "results.json").read_text())
    assert result["score"] == 20
    graded = result["extra_data"]["submission"]["graded"][A01]
    assert (graded["file"], graded["rule"]) == (f"{A01}/gradient_descent.ipynb", "dates")


# --------------------------------------------------------------------------- terminal
NOISE = ["\x1b[2J", "\x1b]0;pwned title\x07", "\x1b]52;c;SGVsbG8=\x07", "\x08\x08",
         "\x9b31m", "\rTotal: 100/100"]


def test_the_terminal_report_obeys_no_student_byte_by_byte(tmp_path):
    """Printed output, an exception's message and a file name, each full of escape
    sequences: `grade`'s stdout carries none of them, only their escaped text."""
    folder = tmp_path / "students" / "eve" / A01
    folder.mkdir(parents=True)
    noise = "".join(NOISE)
    (folder / "gradient_descent.py").write_text(
        f"print({noise!r})\n"
        "def mse_loss(params, X, y):\n"
        f"    print({noise!r})\n"
        f"    raise ValueError({noise!r})\n")
    os.symlink(REFERENCE, folder / "\x1b[2Jlink.py")
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(folder.parent), "--assignment", A01,
         "--public-only", "--device", "cpu", "--workers", "1", "--pictures", "none",
         "--results", str(tmp_path / "results")],
        cwd=ROOT, capture_output=True, timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    for byte in (b"\x1b", b"\x07", b"\r", b"\x08", "\x9b".encode()):
        assert byte not in out, (byte, out)
    assert b"\\x1b[2J" in out and b"\\x1b]52;c;" in out and b"\\x0dTotal: 100/100" in out
    assert b"\\x1b[2Jlink.py" in out  # the left-out file's name, escaped too
    starts = [ln for ln in out.split(b"\n") if ln.lstrip().startswith(b"Total:")]
    assert len(starts) == 1 and starts[0].startswith(b"Total: 0/20")  # the only total line


# --------------------------------------------------------------------------- CSV
FORMULA = "=HYPERLINK(\"http://evil\",\"x\")"


def test_a_formula_in_a_student_name_is_inert_in_grades_csv():
    payload = {"score": -1.5, "tests": [{"name": f"{A01}/x", "score": -1.5, "max_score": 20}]}
    text = gradebook_csv([(FORMULA, payload), ("@SUM(A1)", payload), ("-2+3", payload)], [A01])
    import csv
    import io
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [r[0] for r in rows] == ["'" + FORMULA, "'@SUM(A1)", "'-2+3"]
    assert rows[0][1:] == ["-1.5", "-1.5"]  # numbers stay numbers
    from grader.instructor.export import spreadsheet_cell
    assert spreadsheet_cell("-1.5") == "-1.5" and spreadsheet_cell(-3) == -3
    assert spreadsheet_cell("\tx") == "'\tx" and spreadsheet_cell("ann") == "ann"


def test_a_formula_in_a_student_name_is_inert_in_the_canvas_file():
    import csv
    import io
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Gradient Descent (101)"],
            ["    Points Possible", "", "", "", "", "20.00"],
            [FORMULA, "5001", "S1", "jdoe", "+Section", ""],
            ["Ng, Bo", "5002", "S2", "bng", "Section B", "-"]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    payload = {"score": 12, "tests": [{"name": f"{A01}/x", "score": 12, "max_score": 20}]}
    filled = fill(out.getvalue(), [("jdoe", payload)], COURSE)
    got = list(csv.reader(io.StringIO(filled.text)))
    assert got[2] == ["'" + FORMULA, "5001", "S1", "jdoe", "'+Section", "12"]
    assert got[3] == rows[3]  # a grade cell the grader does not fill is kept as it was


def test_a_formula_in_a_student_name_is_inert_in_similarity_csv():
    from grader.instructor.similarity.behaviour import PairBehaviour
    from grader.instructor.similarity.ranking import Pair, Similarity
    from grader.instructor.similarity.report import csv_text
    sim = Similarity([FORMULA, "@bob"], [Pair(FORMULA, "@bob", PairBehaviour(), 0.5,
                                              score=0.25)], [], [], None)
    row = csv_text(sim).splitlines()[1]
    assert row.startswith("1,\"'=HYPERLINK(") and ",'@bob,0.250," in row


# --------------------------------------------------------------------------- import
def test_two_canvas_students_with_one_name_are_never_merged(tmp_path):
    canvas = tmp_path / "canvas.zip"
    with zipfile.ZipFile(canvas, "w") as z:
        z.writestr("smithjohn_2001_900_gradient_descent.py", "# john one\n")
        z.writestr("smithjohn_2002_901_gradient_descent.py", "# john two\n")
        z.writestr("smithjohn_2002_901_autograd_lr.py", "# john two 02\n")
    subs = tmp_path / "subs"
    proc = subprocess.run([sys.executable, "-m", "grader", "import", str(canvas), "--into",
                           str(subs)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "placed 3 files for 2 students" in proc.stdout
    assert "not merged: smithjohn: 2 students share this name; placed as smithjohn_2001, " \
           "smithjohn_2002" in proc.stdout
    assert (subs / "smithjohn_2001" / A01 / "gradient_descent.py").read_text() == "# john one\n"
    assert (subs / "smithjohn_2002" / A01 / "gradient_descent.py").read_text() == "# john two\n"
    ids = json.loads((subs / ".lms_ids.json").read_text())["canvas"]
    assert ids == {"smithjohn_2001": "2001", "smithjohn_2002": "2002"}
    # a later export with one of them: the same folder again, nothing merged
    later = tmp_path / "later.zip"
    with zipfile.ZipFile(later, "w") as z:
        z.writestr("smithjohn_2002_950_gradient_descent.py", "# john two, again\n")
    report = import_zip(later, subs, COURSE, known=ids)
    assert report.placed == [f"smithjohn_2002/{A01}/gradient_descent.py"]
    assert (subs / "smithjohn_2001" / A01 / "gradient_descent.py").read_text() == "# john one\n"


def test_two_gradescope_students_with_one_name_are_never_merged(tmp_path):
    gs = tmp_path / "gs.zip"
    with zipfile.ZipFile(gs, "w") as z:
        z.writestr("export/submission_metadata.yml",
                   "submission_111:\n  :submitters:\n  - :name: Ann Lee\n"
                   "submission_222:\n  :submitters:\n  - :name: Ann Lee\n")
        z.writestr("export/submission_111/gradient_descent.py", "# ann one\n")
        z.writestr("export/submission_222/gradient_descent.py", "# ann two\n")
    report = import_zip(gs, tmp_path / "subs", COURSE)
    assert sorted(report.students) == ["Ann_Lee_111", "Ann_Lee_222"]
    assert (tmp_path / "subs/Ann_Lee_111" / A01 / "gradient_descent.py").read_text() == \
        "# ann one\n"
    assert report.renamed


def test_a_link_inside_an_imported_zip_is_left_out(tmp_path):
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("doejane_123_456_gradient_descent.py")
        info.external_attr = (0o120777 << 16)  # a symbolic link, as zip -y stores one
        z.writestr(info, str(REFERENCE))
    report = import_zip(archive, tmp_path / "subs", COURSE)
    assert report.placed == [] and report.left_out == [
        "doejane_123_456_gradient_descent.py (a symbolic link)"]
    assert not (tmp_path / "subs" / "doejane").exists()


def test_names_that_are_not_utf8_stop_nothing_and_are_said(tmp_path):
    """A file or folder a student named with bytes that are not UTF-8 (a zip from another
    system, or on purpose) once stopped the whole batch with a traceback, nothing graded: it is
    left out and named in the student's report; a student folder so named is one line, its
    classmates graded; `grade` on it is one line too."""
    subs, results = tmp_path / "class", tmp_path / "results"
    for name in ("alice", "bob"):
        (subs / name / A01).mkdir(parents=True)
        (subs / name / A01 / "gradient_descent.py").write_text(reference_source(A01))
    os.rename(subs / "bob", os.fsencode(subs) + b"/b\xffb")
    odd = os.fsencode(subs / "alice" / A01)
    with open(odd + b"/n\xe9otes.py", "w") as f:
        f.write("x = 1\n")
    os.mkdir(odd + b"/d\xfeir")
    with open(odd + b"/d\xfeir/inside.py", "w") as f:
        f.write("y = 2\n")
    cmd = [sys.executable, "-m", "grader", "batch", str(subs), "--results", str(results),
           "--assignment", A01, "--device", "cpu", "--workers", "1", "--pictures", "none"]
    dry = subprocess.run(cmd + ["--dry-run"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert dry.returncode == 0, dry.stderr
    assert "1 of 2 student(s) would be graded" in dry.stdout
    assert "b\\xffb: not graded: the folder's name is not UTF-8 text" in dry.stdout
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "not graded: b\\xffb: the folder's name is not UTF-8 text" in proc.stdout
    report = json.loads((results / "alice" / "results.json").read_text())
    assert report["score"] == 20
    why = {e["path"]: e["why"] for e in report["extra_data"]["submission"]["left_out"]}
    assert why == {f"{A01}/n\\xe9otes.py": "its name is not UTF-8 text",
                   f"{A01}/d\\xfeir": "its name is not UTF-8 text"}
    assert "n\\xe9otes.py" in (results / "alice" / "report.html").read_text()
    one = subprocess.run([sys.executable, "-m", "grader", "grade", os.fsdecode(
        os.fsencode(subs) + b"/b\xffb"), "--results", str(tmp_path / "one")], cwd=tmp_path,
        capture_output=True, text=True, timeout=300)
    assert one.returncode != 0 and "Traceback" not in one.stderr, one.stderr
    assert "is not UTF-8 text" in one.stderr and len(one.stderr.strip().splitlines()) == 1


def _deep(folder: Path, depth: int, name: str = "a") -> None:
    """``depth`` nested folders under ``folder``, made relative to each parent (the whole path
    may pass what the system allows)."""
    fd = os.open(folder, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir(name, dir_fd=fd)
        inner = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    with open(os.open("last.py", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "w") as f:
        f.write("z = 3\n")
    os.close(fd)


def _undeep(folder: Path, name: str = "a") -> None:
    """Remove what ``_deep`` made, one level at a time (``shutil.rmtree`` recurses: on a tree
    1,200 deep it fails, and pytest's clean-up of old temporary folders with it)."""
    top = os.open(folder, os.O_RDONLY)
    try:
        here, step = name, 0
        while True:
            inner = os.open(here, os.O_RDONLY, dir_fd=top)
            try:
                deeper = name in os.listdir(inner)
                if deeper:  # the next level moves up beside this one
                    step += 1
                    os.rename(name, f"up{step}", src_dir_fd=inner, dst_dir_fd=top)
                for left in os.listdir(inner):
                    os.unlink(left, dir_fd=inner)
            finally:
                os.close(inner)
            os.rmdir(here, dir_fd=top)
            if not deeper:
                return
            here = f"up{step}"
    finally:
        os.close(top)


def test_what_one_folder_holds_never_stops_the_class(tmp_path):
    """A red team's folders that each stopped a batch before anyone was graded (a traceback,
    exit 1): a notebook whose cells are not a list beside the .py, and alone; a tree 1,200
    folders deep; a path past the system's 4,096 bytes. Each student is graded on what can
    be read, the rest left out and named; the honest classmate keeps full marks. A file
    saved with a byte-order mark (as some editors do) is graded like any."""
    subs, results = tmp_path / "class", tmp_path / "results"
    for name in ("honest", "beside", "alone", "deep", "long", "bom"):
        (subs / name / A01).mkdir(parents=True)
        (subs / name / A01 / "gradient_descent.py").write_text(reference_source(A01))
    (subs / "beside" / A01 / "gradient_descent.ipynb").write_text('{"cells": 5}')
    (subs / "alone" / A01 / "gradient_descent.py").unlink()
    (subs / "alone" / A01 / "gradient_descent.ipynb").write_text('{"cells": 5}')
    _deep(subs / "deep", 1200)
    _deep(subs / "long", 17, "d" * 250)
    (subs / "bom" / A01 / "gradient_descent.py").write_bytes(
        b"\xef\xbb\xbf" + reference_source(A01).encode())
    try:
        proc = subprocess.run([sys.executable, "-m", "grader", "batch", str(subs),
                               "--results", str(results), "--assignment", A01, "--device",
                               "cpu", "--workers", "1", "--pictures", "none"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)
    finally:
        _undeep(subs / "deep")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "grader failures 0" in proc.stdout and "not graded:" not in proc.stdout, proc.stdout
    scores = {n: json.loads((results / n / "results.json").read_text())["score"]
              for n in ("honest", "beside", "alone", "deep", "long", "bom")}
    assert scores == {"honest": 20, "beside": 20, "alone": 0, "deep": 20, "long": 20,
                      "bom": 20}, scores
    why = {e["why"] for e in json.loads((results / "long" / "results.json").read_text())
           ["extra_data"]["submission"]["left_out"]}
    assert why == {"its path is longer than 1024 bytes"}


def test_grade_on_a_folder_that_cannot_be_collected_is_one_line(tmp_path, monkeypatch,
                                                                 capsys):
    """The one-student command says what went wrong in a line, like the batch, never a
    traceback (a folder the grader's user may not read; root reads any, so it is made so)."""
    from grader.cli import main
    from grader.worker import submission
    (tmp_path / "s" / A01).mkdir(parents=True)
    (tmp_path / "s" / A01 / "gradient_descent.py").write_text(reference_source(A01))

    def refused(folder, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(folder))
    monkeypatch.setattr(submission, "read_folder", refused)
    assert main(["grade", str(tmp_path / "s"), "--assignment", A01, "--results",
                 str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "the student folder s could not be collected (PermissionError" in err
    assert "Traceback" not in err


def test_entries_past_the_cap_are_counted_not_listed(tmp_path):
    """A red team's folder of 20,000 files made 15,000 warning lines and a 3.5 MB
    results.json: past the cap, the first few are named and the rest counted in one line."""
    from grader.worker.submission import MAX_ENTRIES, PAST_NAMED, read_folder
    folder = tmp_path / "s" / A01
    folder.mkdir(parents=True)
    (folder / "gradient_descent.py").write_text(reference_source(A01))
    for i in range(MAX_ENTRIES + 1000):
        (folder / f"z{i:05d}.txt").touch()
    snapshot = read_folder(tmp_path / "s")
    assert f"{A01}/gradient_descent.py" in snapshot.files  # sorted first: read
    assert len(snapshot.left_out) == PAST_NAMED + 1, len(snapshot.left_out)
    past = 1000 + 2  # the files past the cap (the folder and the .py count as entries)
    assert snapshot.left_out[f"{past - PAST_NAMED} more entries"].endswith(
        "not named one by one")
