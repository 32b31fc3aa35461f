"""Timing under load (issue 14): output racing the end of a call, busy cores, dying workers.

Every test here makes its own hostile timing: CPU hogs on every core (separate processes, so
the GIL does not tame them) and students whose output is still arriving when their last call
ends. On the code before the fix, the flooding student crashed the fork server on about one
run in three (`BlockingIOError` after "done", then `EOFError` in the grader).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, reference_source, write_submission
from grader.course.loader import load_course

assignment = load_course().assignment
from grader.grade import Session
from grader.worker.pool import ATTEMPTS, Call, Job, ModuleCalls, Runner, WorkerPool

A01 = "01_gradient_descent"
HOG = "import time\nend = time.time() + 600\nwhile time.time() < end: pass\n"


@pytest.fixture
def busy_cores():
    """Every core busy with a CPU-bound process for the length of the test."""
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(os.cpu_count() or 2)]
    yield
    for h in hogs:
        h.kill()
        h.wait()


CHATTY_PREAMBLES = {
    # A thread that never stops printing: output is always pending when "done" arrives.
    "flood-thread": ("import sys, threading\n"
                     "def _chatter():\n"
                     "    i = 0\n"
                     "    while True:\n"
                     "        i += 1\n"
                     "        sys.stdout.write(f'progress {i}\\n')\n"
                     "threading.Thread(target=_chatter, daemon=True).start()\n"),
    # Partial lines, no newline, on both streams, from a thread racing every call's end.
    "partial-lines": ("import sys, threading\n"
                      "def _dots():\n"
                      "    while True:\n"
                      "        sys.stdout.write('.')\n"
                      "        sys.stderr.write('#')\n"
                      "threading.Thread(target=_dots, daemon=True).start()\n"),
    # Printing at import time, a lot, unflushed.
    "import-print": "for _i in range(20000):\n    print('loading', _i, end=' ')\n",
}


def chatty(source: str, preamble: str) -> str:
    """The reference, plus a preamble and one progress line at the start of every function."""
    lines = []
    for line in source.splitlines():
        lines.append(line)
        if line.startswith("def ") and line.rstrip().endswith(":"):
            lines.append("    print('step', flush=True)")
    return preamble + "\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("style", sorted(CHATTY_PREAMBLES))
def test_a_correct_student_who_prints_is_graded_under_load(style, busy_cores, pool, expected,
                                                           tmp_path):
    source = chatty(reference_source(A01), CHATTY_PREAMBLES[style])
    root = write_submission(tmp_path / "s", A01, source)
    session = Session(pool, (assignment(A01),), secret="t", expected=expected, max_timeout=10)
    for _ in range(2):
        result = session.grade(root)
        assert result.score == result.max_score, [
            (c.name, c.cases[0].message) for c in result.checks() if not c.passed]


def test_the_grade_command_survives_a_flooding_student_on_busy_cores(busy_cores, tmp_path):
    source = chatty(reference_source(A01), CHATTY_PREAMBLES["flood-thread"])
    root = write_submission(tmp_path / "flood", A01, source)
    for run in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "grader", "grade", str(root), "--assignment", A01,
             "--results", str(tmp_path / "results"), "--device", "cpu"],
            cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        full = assignment(A01).points
        assert f"Total: {full:g}/{full:g}" in proc.stdout
        assert (tmp_path / "results" / "flood" / "results.json").is_file()


class FlakyRunner(Runner):
    """A runner whose machinery fails the first ``failures`` requests (a fork server dying)."""

    def __init__(self, pool: WorkerPool, failures: int):
        self.pool, self.failures, self.requests = pool, failures, 0

    def _request(self, request):
        self.requests += 1
        if self.requests <= self.failures:
            raise EOFError("the fork server went away")
        return self.pool._request(request)


def _job(tmp_path) -> Job:
    (tmp_path / "m.py").write_text("def f(x):\n    return x + 1\n")
    calls = [Call("call", "f", {"args": [i]}, seed=1, timeout=10.0) for i in range(3)]
    return Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls)], str(tmp_path))


def test_a_machinery_failure_is_retried_in_a_fresh_worker(pool, tmp_path):
    runner = FlakyRunner(pool, failures=ATTEMPTS - 1)
    out = runner.run(_job(tmp_path))
    assert [r["status"] for r in out.modules[0].results] == ["ok"] * 3
    assert runner.requests == ATTEMPTS


def test_a_machinery_failing_every_try_is_a_grader_error_never_a_crash(pool, tmp_path):
    runner = FlakyRunner(pool, failures=ATTEMPTS)
    out = runner.run(_job(tmp_path))
    statuses = [r["status"] for r in out.modules[0].results]
    assert statuses == ["grader_error"] * 3
    assert "went away" in out.modules[0].results[0]["reason"]


def test_output_still_pending_when_done_arrives_is_kept_not_a_crash(tmp_path):
    """The worst moment, made certain: the child's output and its "done" are both waiting
    when the supervisor first looks, the channel first (the order epoll then reports)."""
    from grader.worker import wire
    from grader.worker import child, supervisor
    sleeper = subprocess.Popen(["sleep", "60"])
    r_req, w_req = os.pipe()
    r_chan, w_chan = os.pipe()
    r_out, w_out = os.pipe()
    wire.write_frame(w_chan, {"event": "done"})
    os.write(w_out, b"progress 1\nprogress 2\npartial line without newline")
    spare = child.Spare(sleeper.pid, str(tmp_path), w_req, r_chan, r_out)
    try:
        outcome, finished = supervisor.run_job({"modules": [], "device": "cpu"},
                                               str(tmp_path), spare)
    finally:  # the child's ends stay open until it exits, as a live child's do
        for fd in (r_req, w_chan, w_out):
            os.close(fd)
    finished.finish()
    assert outcome["exit"] == "finished"
    assert outcome["output"] == "progress 1\nprogress 2\npartial line without newline"


def _batch_cmd(subs, results, *extra):
    return [sys.executable, "-m", "grader", "batch", str(subs), "--results", str(results),
            "--assignment", A01, "--device", "cpu", "--workers", "1", *extra]


def _class_of(tmp_path, n: int, slow: bool = False) -> Path:
    subs = tmp_path / "submissions"
    source = reference_source(A01)
    if slow:  # each student takes a moment, so a signal finds some of them in flight
        source = source.replace("import numpy as np", "import time\nimport numpy as np\n"
                                "time.sleep(0.4)", 1)
    for i in range(n):
        write_submission(subs / f"s{i:02d}", A01, source)
    return subs


def _descendants(pid: int) -> list:
    import psutil
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_sigterm_mid_batch_keeps_finished_students_and_a_rerun_resumes(tmp_path):
    import psutil

    from grader.instructor.gradebook import Gradebook
    subs, results = _class_of(tmp_path, 8, slow=True), tmp_path / "results"
    proc = subprocess.Popen(_batch_cmd(subs, results), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(results.glob("*/results.json"))) < 2:
        time.sleep(0.02)
    helpers = _descendants(proc.pid)  # the fork server and the student's fork in flight
    assert helpers
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Run the same command again" in err
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(helpers, timeout=5)
    assert not alive, [p.cmdline() for p in alive]
    book = Gradebook(results / "gradebook.sqlite")
    recorded = {name for name, _ in book.latest()}
    book.close()
    written = {p.parent.name for p in results.glob("*/results.json")}
    assert 2 <= len(recorded) < 8 and recorded == written  # nothing half-saved
    assert not list(results.rglob("*.tmp*"))
    # An export now hands out part of the class: it says who is missing, and goes on.
    left = sorted({f"s{i:02d}" for i in range(8)} - recorded)
    export = _export(results)
    assert export.returncode == 0, export.stderr
    assert "stopped before grading" in export.stderr and "run it again" in export.stderr
    assert f"no grade, so not in this export: {', '.join(left)}" in export.stderr
    assert "older grade" not in export.stderr
    # A batch of another folder into the same gradebook (late submissions) settles nothing.
    late = tmp_path / "late"
    write_submission(late / "late1", A01, reference_source(A01))
    other = subprocess.run(_batch_cmd(late, results), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert other.returncode == 0, other.stderr
    export = _export(results)
    assert f"no grade, so not in this export: {', '.join(left)}" in export.stderr
    rerun = subprocess.run(_batch_cmd(subs, results), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"graded {8 - len(recorded)}, unchanged {len(recorded)}" in rerun.stdout
    book = Gradebook(results / "gradebook.sqlite")
    assert [len(book.history(f"s{i:02d}")) for i in range(8)] == [1] * 8  # nobody twice
    book.close()
    export = _export(results)
    assert export.returncode == 0 and "warning" not in export.stderr, export.stderr
    # A batch killed outright (no chance to say so) after setting out to regrade s03: its
    # row in the export is the old grade, and the export says so.
    book = Gradebook(results / "gradebook.sqlite")
    forged = "evil\n  no grade, so not in this export: alice\x1b[1A"
    book.plan(book.start_run("v", "secret", "cpu", "batch", str(subs.resolve())),
              ["s03", forged])
    book.close()
    export = _export(results)
    assert "has not finished (still running, or killed)" in export.stderr, export.stderr
    assert "an older grade is in this export for: s03" in export.stderr
    assert "s03," in (results / "grades.csv").read_text()
    # A name cannot forge a line of the warning, nor reach the terminal as an escape.
    assert ascii(forged) in export.stderr and "\x1b" not in export.stderr
    assert not any(line.startswith("  no grade, so not in this export: alice")
                   for line in export.stderr.splitlines())


def _export(results):
    return subprocess.run([sys.executable, "-m", "grader", "export", "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


SIGNAL_MID_WAIT = """
import concurrent.futures._base as base, os, signal, sys
fired = []

def acquire_all(self):  # as concurrent.futures does, a SIGTERM landing after the first lock
    for future in self.futures:
        future._condition.acquire()
        if not fired:
            fired.append(1)
            signal.raise_signal(signal.SIGTERM)

base._AcquireFutures.__enter__ = acquire_all
from grader.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_signal_while_the_batch_waits_for_its_students_stops_it_never_hangs(tmp_path):
    """SIGTERM landing while ``concurrent.futures.wait`` acquires its futures' locks one by
    one (the batch's wait for its students). Raised there, it left a lock held: every thread
    that finished a student waited for it, and the batch hung for good (seen after a
    benchmark was killed). Now a signal is only recorded while the batch waits, and the
    batch stops at once, with what it saved."""
    subs, results = _class_of(tmp_path, 4, slow=True), tmp_path / "results"
    cmd = [sys.executable, "-c", SIGNAL_MID_WAIT, *_batch_cmd(subs, results)[3:]]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("the batch hung after a signal during its wait") from None
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err


def test_a_second_batch_on_the_same_gradebook_refuses_in_one_line_or_waits(tmp_path):
    from grader.instructor.gradebook import Gradebook
    subs, results = _class_of(tmp_path, 4, slow=True), tmp_path / "results"
    first = subprocess.Popen(_batch_cmd(subs, results), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lock = results / "gradebook.sqlite.lock"
    deadline = time.time() + 60
    while time.time() < deadline and not (lock.is_file() and lock.read_text()):
        time.sleep(0.02)
    second = subprocess.run(_batch_cmd(subs, results), cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert second.returncode == 2
    assert second.stderr.strip().count("\n") == 0, second.stderr
    assert "another batch is writing" in second.stderr and "--wait" in second.stderr
    waiting = subprocess.run(_batch_cmd(subs, results, "--wait"), cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    assert first.wait(timeout=300) == 0
    assert waiting.returncode == 0, waiting.stderr
    assert "graded 0, unchanged 4" in waiting.stdout  # it saw the first batch's work
    book = Gradebook(results / "gradebook.sqlite")
    assert book.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert [len(book.history(f"s{i:02d}")) for i in range(4)] == [1] * 4
    book.close()


def test_a_read_only_results_folder_is_one_line_and_nothing_is_lost(tmp_path):
    import shutil
    # Root writes anywhere: the second batch runs as root without the two capabilities that
    # let it (it still owns, and reads, this checkout and the test's folder wherever they
    # are; another user might not be able to, e.g. a clone under a private folder).
    as_user = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and no `setpriv` to drop root's right to write "
                        "anywhere: a read-only folder cannot be made here")
        as_user = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    env = {**os.environ, "GRADER_CACHE": str(tmp_path / "cache")}
    subs, results = _class_of(tmp_path, 2), tmp_path / "results"
    first = subprocess.run(_batch_cmd(subs, results), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = {p: p.read_bytes() for p in results.rglob("*") if p.is_file()}
    os.chmod(results, 0o555)
    try:
        proc = subprocess.run([*as_user, *_batch_cmd(subs, results, "--force")], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(results, 0o755)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: cannot write results in")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert {p: p.read_bytes() for p in results.rglob("*") if p.is_file()} == before


def test_a_disk_filling_up_mid_batch_stops_cleanly_and_keeps_what_was_saved(
        expected, tmp_path, monkeypatch):
    import errno
    import io

    from grader.report import student as report
    from grader.instructor import batch
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.progress import Progress
    subs, results = _class_of(tmp_path, 5), tmp_path / "results"
    real, saved = batch.write_atomic, []

    def filling(path, text):
        if len(saved) >= 4:  # two students' results.json and report.html fit, no more
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)
        saved.append(path)
    monkeypatch.setattr(batch, "write_atomic", filling)
    monkeypatch.setattr(report, "write_atomic", filling)
    book = Gradebook(results / "gradebook.sqlite")
    with WorkerPool(1) as own:  # the batch stops its pool when it stops
        session = Session(own, (assignment(A01),), secret="t", expected=expected,
                          one_fork_per_student=True, max_timeout=5)
        outcome = batch.run_batch(session, batch.discover(subs), book, results,
                                  progress=Progress(5, io.StringIO()), parallel=1)
    recorded = {name for name, _ in book.latest()}
    book.close()
    assert "No space left on device" in outcome.save_error
    assert len(recorded) == 2 and len(outcome.left) == 3
    assert all(json_ok(results / n / "results.json") for n in recorded)


def json_ok(path: Path) -> bool:
    import json
    return json.loads(path.read_text())["score"] == assignment(A01).points


def test_notebooks_in_a_row_on_busy_cores_never_retire_the_fork_server(busy_cores, expected,
                                                                        tmp_path):
    """nbclient's heartbeat thread, joined but not yet gone from /proc/self/task, used to
    make the fork server retire (a 3-s restart) about once in twenty notebooks."""
    from grader.course.stubs import reference_notebook
    a = assignment(A01)
    (tmp_path / A01).mkdir()
    (tmp_path / A01 / f"{a.module}.ipynb").write_text(reference_notebook(a))
    with WorkerPool(1) as own:
        own.wait_ready()
        server = own._all[0].proc.pid
        session = Session(own, (a,), secret="t", expected=expected, one_fork_per_student=True)
        for _ in range(15):
            assert session.grade(tmp_path).score == a.points
        assert [z.proc.pid for z in own._all] == [server]


def test_a_fork_server_killed_mid_student_costs_that_student_nothing(tmp_path):
    import threading
    (tmp_path / "m.py").write_text("import time\n\ndef f(x):\n    time.sleep(0.3)\n"
                                   "    return x + 1\n")
    calls = [Call("call", "f", {"args": [i]}, seed=1, timeout=10.0) for i in range(4)]
    job = Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls)], str(tmp_path))
    with WorkerPool(1) as own:
        own.wait_ready()
        victim = own._all[0].proc
        threading.Timer(0.5, victim.kill).start()
        out = own.run(job)
        assert victim.poll() is not None and own._all[0].proc is not victim
    assert [r["status"] for r in out.modules[0].results] == ["ok"] * 4
    assert [r["output"]["result"]["value"] for r in out.modules[0].results] == [1, 2, 3, 4]


def test_no_worker_at_all_is_one_line_and_exit_3(monkeypatch, tmp_path, capsys):
    from grader import cli
    from grader.worker import pool as pool_module

    def broken(*args, **kwargs):
        raise pool_module.WorkerStartError("the worker process did not start (exit status 1)")
    monkeypatch.setattr(pool_module, "Zygote", broken)
    code = cli.main(["grade", str(ROOT / "submissions" / "demo"), "--assignment", A01,
                     "--results", str(tmp_path), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.strip().splitlines()[-1].startswith("error: the grader could not start its "
                                                   "workers: the worker process did not start")
    assert not list(tmp_path.iterdir())
