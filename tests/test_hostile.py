"""Hostile submissions (issue 5): every attack fails, and grading of everything else goes on.

Run as root by `make test`; `test_the_hostile_suite_passes_unprivileged` runs this same file
again as uid 65534.
"""
import glob
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import ROOT, broken, messages, reference_source
from grader.course.loader import load_course

assignment = load_course().assignment
from grader.grade import Session
from grader.judge.expected import Expected
from grader.worker.pool import WorkerPool

HOSTILE = Path(__file__).resolve().parent / "hostile"
A01 = "01_gradient_descent"
SECRET = "s3cret-for-hostile-tests"


class Listener:
    """TCP and UDP on one loopback port; records every byte that arrives."""

    def __init__(self):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen()
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.received = []
        self.tcp.settimeout(0.2)
        self.udp.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.tcp.accept()
                self.received.append(conn.recv(100) or b"<connected>")
                conn.close()
            except OSError:
                pass
            try:
                self.received.append(self.udp.recv(100))
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.tcp.close()
        self.udp.close()


@pytest.fixture(scope="module")
def hostile_pool():
    os.environ["GRADER_SECRET"] = SECRET  # the workers must not inherit it
    try:
        with WorkerPool(size=2) as pool:
            yield pool
    finally:
        del os.environ["GRADER_SECRET"]


@pytest.fixture
def world(tmp_path):
    """A class folder, a gradebook, a secret file and a listener to attack."""
    listener = Listener()
    subs = tmp_path / "submissions"
    other = subs / "other" / A01
    other.mkdir(parents=True)
    (other / "gradient_descent.py").write_text("# another student's work\n")
    results = tmp_path / "results"
    results.mkdir()
    (results / "gradebook.sqlite").write_bytes(b"SQLite format 3\x00 grades")
    (results / ".expected").mkdir()
    (results / ".expected" / "expected-0.json").write_text('{"key": "k", "body": "[]"}')
    (tmp_path / ".grader-secret").write_text(SECRET)
    targets = {
        "reference": str(ROOT / "reference" / A01 / "gradient_descent.py"),
        "secret": SECRET, "secret_file": str(tmp_path / ".grader-secret"),
        "gradebook": str(results / "gradebook.sqlite"),
        "expected_store": str(results / ".expected" / "expected-0.json"),
        "other_student": str(other / "gradient_descent.py"), "submissions": str(subs),
        "outside": str(tmp_path / "outside.txt"), "port": listener.port,
        "results_file": str(results / "hostile" / "results.json"),
        "marker": str(tmp_path / "marker.txt"), "grader_pid": os.getpid(),
    }
    yield tmp_path, subs, targets, listener
    listener.close()


def grade_hostile(pool, subs, targets, name, max_timeout=5.0):
    folder = subs / name / A01
    folder.mkdir(parents=True)
    shutil.copy(HOSTILE / f"{name}.py", folder / "gradient_descent.py")
    shutil.copy(HOSTILE / "_attack.py", folder / "_attack.py")
    (folder / "honest.py").write_text(reference_source(A01))
    (folder / "targets.json").write_text(json.dumps(targets))
    session = Session(pool, (assignment(A01),), secret=SECRET, max_timeout=max_timeout,
                      expected=EXPECTED)
    return session.grade(subs / name)


EXPECTED = Expected()
ATTACKS = ["read_reference", "read_secret", "read_gradebook", "read_expected",
           "read_other_student",
           "write_outside", "network", "fork_bomb", "memory_hog", "fake_results",
           "snoop_memory", "kill_grader"]


@pytest.mark.parametrize("name", ATTACKS)
def test_attack_fails_and_the_rest_still_grades(hostile_pool, world, name):
    tmp, subs, targets, listener = world
    result = grade_hostile(hostile_pool, subs, targets, name)
    assert broken(result) == {"predict"}, messages(result, "predict")
    assert result.score == 18 and result.grader_errors == 0
    assert not Path(targets["outside"]).exists()
    assert not (subs / name / A01 / "x.txt").exists()
    assert not Path(targets["results_file"]).exists()
    assert listener.received == []


def test_forged_results_earn_nothing_and_are_never_the_graders_failure(hostile_pool, world):
    """A student's code can write to its own result channel. A forged output that is not
    plain data once failed the whole message in the grader: retried, then counted as the
    grader's error, which charges the student nothing (full marks on every call left)."""
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "forge_results")
    assert result.grader_errors == 0
    # The forged calls (five, from predict's first public case on: public cases run first,
    # in a fork of their own) and the one after, charged with the exit that followed; the
    # names past them grade as usual.
    assert {"predict"} <= broken(result) <= {"predict", "mse_loss", "mse_grad"}
    assert result.score < 18
    assert "not plain data" in messages(result, "predict")


def test_events_written_out_of_turn_never_restart_a_calls_clock(hostile_pool, world):
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "extend_deadline", max_timeout=2.0)
    assert result.grader_errors == 0
    assert broken(result) == {"predict"}
    assert "did not finish within" in messages(result, "predict")


def test_results_too_large_fail_their_calls_and_nothing_else(hostile_pool, world):
    """A result that would weigh on every process that holds it (the fork, its server, the
    grader) fails its call; so do the results that push one fork's total past its limit
    (the calls left run in a fresh fork). Once, a 160 MB result made the message to the
    grader too large: every name was a grader error, charged nothing."""
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "huge_result")
    assert result.grader_errors == 0
    assert broken(result) == {"predict", "mse_loss"}
    assert "`predict` returned too much data: the result is 50.9 MiB once encoded; at most " \
        "32 MiB can be sent back" in messages(result, "predict")
    assert "the results of one run come to" in messages(result, "mse_loss")


def test_evil_objects_earn_nothing_and_run_nothing_in_the_grader(hostile_pool, world):
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "evil_objects")
    # honest.py's loops use honest.py's own mse_grad, so only the three overridden names break.
    assert broken(result) == {"predict", "mse_loss", "mse_grad"}
    assert not Path(targets["marker"]).exists()
    assert "got an object of type" in messages(result, "predict")


def test_monkeypatching_fakes_nothing_and_never_reaches_the_next_student(hostile_pool, world):
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "monkeypatch")
    assert result.checks().__next__().score == 0  # predict: patched allclose did not help
    assert glob.glob(os.path.join(tempfile.gettempdir(), "grader-scratch-*", "*",
                                  "leftover.txt")) == []
    after = Session(hostile_pool, (assignment(A01),), secret=SECRET, expected=EXPECTED)
    assert after.grade(ROOT / "reference").score == 20


def test_exiting_early_costs_only_the_functions_that_exit(hostile_pool, world):
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "exit_early")
    assert broken(result) == {"predict", "mse_loss"}
    assert "exited with status 0" in messages(result, "predict")
    assert "called exit()" in messages(result, "mse_loss")


def test_a_crashing_worker_costs_only_the_check_it_was_running(hostile_pool, world):
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "segfault")
    assert broken(result) == {"predict"}
    assert "killed by signal 11 (SIGSEGV)" in messages(result, "predict")


def test_a_missing_kernel_feature_is_one_line_or_an_error_when_strict(monkeypatch, capsys):
    from grader import cli
    from grader.worker import sandbox
    monkeypatch.setattr(sandbox, "probe_features",
                        lambda: {"landlock": 0, "seccomp": True, "rlimits": True})
    code = cli.main(["grade", str(ROOT / "reference"), "--device", "cpu", "--strict-sandbox",
                     "--assignment", A01])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "lacks Landlock (filesystem confinement)" in err


def test_output_flood_is_capped_and_costs_nothing(hostile_pool, world):
    tmp, subs, targets, _ = world
    result = grade_hostile(hostile_pool, subs, targets, "output_flood")
    assert result.score == 20
    assert len(result.assignments[0].output) <= 64 * 1024 * 2


def test_the_pool_survives_every_attack(hostile_pool):
    session = Session(hostile_pool, (assignment(A01),), secret=SECRET, expected=EXPECTED)
    assert session.grade(ROOT / "reference").score == 20


@pytest.mark.skipif(os.geteuid() != 0 or os.environ.get("GRADER_UNPRIVILEGED") == "1",
                    reason="runs only as root, to re-run this file as an unprivileged user")
def test_the_hostile_suite_passes_unprivileged():
    import subprocess
    import sys
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    # uid 65534 with no capability but read-search: this machine's Python lives under /root.
    cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
           "--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search",
           "--bounding-set=-all,+dac_read_search",
           sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           str(Path(__file__)), "-k", "not unprivileged"]
    env = {**os.environ, "GRADER_UNPRIVILEGED": "1", "HOME": "/tmp",
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
