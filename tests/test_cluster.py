"""Batch grading on a Dask cluster (issues 17, 28): a real scheduler and two workers, each its
own process on loopback, started as docs/cluster.md says (the environment's own ``dask``
commands, from a folder outside the repository, no PYTHONPATH), grade a mixed class exactly
as the local pool does."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from conftest import ROOT, mutate, reference_source, write_submission
from grader.instructor.gradebook import Gradebook

A01 = "01_gradient_descent"
SECRET = "cluster-test-secret"
BIN = Path(sys.executable).parent
"""The virtual environment's commands: ``dask``, ``python``."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    """This environment without PYTHONPATH: the grader is found because it is installed."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **extra}


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes as docs/cluster.md starts them (a
    worker killed with its process group is gone, nanny included)."""

    def __init__(self, cwd: Path, workers: int = 2, scheduler: list[str] | None = None,
                 worker_env: dict | None = None):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        common = dict(cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                      start_new_session=True)
        self.scheduler = subprocess.Popen(
            [*(scheduler or [str(BIN / "dask"), "scheduler"]), "--host", "127.0.0.1",
             "--port", str(self.port), "--dashboard-address", ":0", "--no-show"],
            env=_env(), **common)
        self.workers = [subprocess.Popen(
            [str(BIN / "dask"), "worker", self.address, "--nworkers", "1", "--nthreads", "1",
             "--memory-limit", "4GiB", "--host", "127.0.0.1", "--dashboard-address", ":0",
             "--name", f"w{i}"], env=_env(**(worker_env or {})), **common)
            for i in range(workers)]
        from distributed import Client
        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("nodes"))
    yield c
    c.close()


def _mixed_class(root):
    """About ten students: correct, wrong, crashing, looping, hostile, missing."""
    subs = root / "submissions"
    ref = reference_source(A01)
    students = {
        "correct_a": ref,
        "correct_b": ref.replace("residual = y - b - w * X", "residual = -(b + w * X - y)"),
        "wrong_factor": mutate(ref, [("np.mean(2 * residual * -X)", "np.mean(residual * -X)")]),
        "wrong_start": mutate(ref, [("    path = []\n    for _ in range(n_steps):",
                                     "    path = [p]\n    for _ in range(n_steps - 1):")]),
        "crashes": mutate(ref, [("    residual = y - b - w * X\n",
                                 "    residual = y - b - w * X\n    raise ValueError('oops')\n")]),
        "syntax": ref.replace("def predict(params, X):", "def predict(params, X)"),
        "segfault": mutate(ref, [("def predict(params, X):\n",
                                  "def predict(params, X):\n    import ctypes\n"
                                  "    ctypes.string_at(0)\n")]),
        "exits": mutate(ref, [("def mse_loss(params, X, y):\n",
                               "def mse_loss(params, X, y):\n    import os\n    os._exit(3)\n")]),
        "loops": mutate(ref, [("def minibatch_gd(params0, X, y, lr, n_epochs, batches):\n",
                               "def minibatch_gd(params0, X, y, lr, n_epochs, batches):\n"
                               "    while True:\n        pass\n")]),
        "kills_parent": mutate(ref, [("def mse_grad(params, X, y):\n",
                                      "def mse_grad(params, X, y):\n    import os, signal\n"
                                      "    os.kill(os.getppid(), signal.SIGKILL)\n")]),
    }
    for name, source in students.items():
        write_submission(subs / name, A01, source)
    (subs / "nothing" / A01).mkdir(parents=True)
    return subs


def _batch(subs, results, *extra, timeout=600):
    secret = results.parent / f"{results.name}.secret"
    secret.write_text(SECRET)
    cmd = [sys.executable, "-m", "grader", "batch", str(subs), "--results", str(results),
           "--assignment", A01, "--secret-file", str(secret), "--device", "cpu", *extra]
    return subprocess.run(cmd, cwd=results.parent, env=_env(), capture_output=True, text=True,
                          timeout=timeout)


def _verdicts(results):
    """Per student and test: score and feedback, time limits' numbers left out (each run
    measures its own reference time)."""
    out = {}
    for path in sorted(results.glob("*/results.json")):
        data = json.loads(path.read_text())
        out[path.parent.name] = {t["name"]: (t["score"], re.sub(r"\d+(\.\d+)? s\b", "N s",
                                                                  t["output"]))
                                 for t in data["tests"]}
    return out


def _stored_diagnoses(results) -> set:
    """The diagnoser outputs a batch's expected-value store holds, by what they are of."""
    [store] = (results / ".expected").glob("expected-*.json")
    rows = json.loads(json.loads(store.read_text())["body"])["diagnoses"]
    return {tuple(row[:8]) for row in rows}


def test_a_cluster_grades_a_mixed_class_as_the_local_pool_does(cluster, tmp_path):
    subs = _mixed_class(tmp_path)
    local = _batch(subs, tmp_path / "local", "--workers", "2")
    assert local.returncode == 0, local.stderr
    remote = _batch(subs, tmp_path / "remote", "--cluster", cluster.address)
    assert remote.returncode == 0, remote.stderr
    assert "Traceback" not in remote.stderr
    ours, theirs = _verdicts(tmp_path / "local"), _verdicts(tmp_path / "remote")
    assert len(ours) == 11 and set(ours) == set(theirs)
    for student in ours:
        assert theirs[student] == ours[student], student
    scores = {s: sum(v[0] for v in tests.values()) for s, tests in theirs.items()}
    assert scores["correct_a"] == scores["correct_b"] == 20
    assert scores["nothing"] == 0 and scores["syntax"] == 0
    assert 0 < scores["segfault"] < 20 and 0 < scores["exits"] < 20
    assert 0 < scores["wrong_factor"] < 20 and 0 < scores["loops"] < 20
    assert (tmp_path / "remote" / "correct_a" / "report.html").is_file()
    # what the workers' diagnosers computed came back to the driver's store, as a local
    # batch keeps its own: the next batch ships it instead of every worker computing it
    assert _stored_diagnoses(tmp_path / "remote") == _stored_diagnoses(tmp_path / "local")
    assert _stored_diagnoses(tmp_path / "remote")  # the wrong factor is a catalogued mistake
    # the driver wrote the gradebook; unchanged students are skipped on the cluster too
    again = _batch(subs, tmp_path / "remote", "--cluster", cluster.address)
    assert again.returncode == 0 and "graded 0, unchanged 11" in again.stdout
    # no worker kept a student's files
    assert not list(tmp_path.glob("**/grader-dask-*"))


def test_a_worker_killed_mid_batch_loses_no_student_and_records_nobody_twice(tmp_path):
    c = Cluster(tmp_path)
    try:
        subs = tmp_path / "submissions"
        slow = reference_source(A01).replace(
            "import numpy as np", "import time\nimport numpy as np\ntime.sleep(1.0)", 1)
        for i in range(10):
            write_submission(subs / f"s{i:02d}", A01, slow)
        results = tmp_path / "results"
        secret = tmp_path / "secret"
        secret.write_text(SECRET)
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader", "batch", str(subs), "--results", str(results),
             "--assignment", A01, "--secret-file", str(secret), "--cluster", c.address],
            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 180
        while time.time() < deadline and not list(results.glob("*/results.json")):
            time.sleep(0.05)
        assert list(results.glob("*/results.json")), "no student finished"
        os.killpg(c.workers[0].pid, signal.SIGKILL)  # the worker and its fork servers
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "graded 10" in out, out
        book = Gradebook(results / "gradebook.sqlite")
        try:
            assert [len(book.history(f"s{i:02d}")) for i in range(10)] == [1] * 10
            assert all(p["score"] == 20 for _, p in book.latest())
        finally:
            book.close()
    finally:
        c.close()


def test_the_scheduler_going_away_stops_the_batch_and_a_rerun_grades_the_rest(tmp_path):
    subs, results = tmp_path / "submissions", tmp_path / "results"
    slow = reference_source(A01).replace(
        "import numpy as np", "import time\nimport numpy as np\ntime.sleep(1.0)", 1)
    for i in range(8):
        write_submission(subs / f"s{i:02d}", A01, slow)
    c = Cluster(tmp_path)
    try:
        secret = tmp_path / "results.secret"  # the one _batch uses: the re-run matches it
        secret.write_text(SECRET)
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader", "batch", str(subs), "--results", str(results),
             "--assignment", A01, "--secret-file", str(secret), "--device", "cpu",
             "--cluster", c.address],
            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 180
        while time.time() < deadline and not list(results.glob("*/results.json")):
            time.sleep(0.05)
        os.killpg(c.scheduler.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        c.close()
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert "error: lost the Dask scheduler" in err and "Run the same command again" in err
    book = Gradebook(results / "gradebook.sqlite")
    done = {name for name, _ in book.latest()}
    book.close()
    assert 1 <= len(done) < 8
    c = Cluster(tmp_path, workers=1)
    try:
        rerun = _batch(subs, results, "--cluster", c.address)
    finally:
        c.close()
    assert rerun.returncode == 0, rerun.stderr
    assert f"graded {8 - len(done)}, unchanged {len(done)}" in rerun.stdout
    book = Gradebook(results / "gradebook.sqlite")
    assert [len(book.history(f"s{i:02d}")) for i in range(8)] == [1] * 8
    book.close()


def test_an_unreachable_cluster_is_one_line_and_exit_2(tmp_path):
    run = _batch(tmp_path, tmp_path / "results", "--cluster", f"tcp://127.0.0.1:{_free_port()}",
                 timeout=120)
    assert run.returncode == 2
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "cannot reach the Dask scheduler" in errors[0]
    assert "Traceback" not in run.stderr
    bad = _batch(tmp_path, tmp_path / "results", "--cluster", "local:zero", timeout=120)
    assert bad.returncode == 2 and "local:N" in bad.stderr


def test_cuda_students_go_only_to_gpu_workers(cluster, tmp_path):
    """The test cluster's workers offer no GPU: a --device cuda batch refuses before it
    starts (one line, exit 2) rather than leave the students waiting or send them to CPUs."""
    write_submission(tmp_path / "submissions" / "s", A01, reference_source(A01))
    run = _batch(tmp_path / "submissions", tmp_path / "results", "--cluster", cluster.address)
    assert run.returncode == 0, run.stderr
    cuda = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(tmp_path / "submissions"), "--results",
         str(tmp_path / "cuda"), "--assignment", A01, "--device", "cuda", "--cluster",
         cluster.address], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert cuda.returncode == 2
    assert "no worker of the cluster offers a GPU" in cuda.stderr
    assert "--resources GPU=1" in cuda.stderr and "Traceback" not in cuda.stderr
    assert not list((tmp_path / "cuda").glob("*/results.json"))


def test_a_node_without_this_grader_stops_the_batch_in_one_line_before_any_student(tmp_path):
    """The scheduler's environment has Dask but not the grader (it reads every task, so every
    student would fail to deserialise), a worker imports another release: the batch names
    both nodes and both versions in one line, exit 2, and marks nobody."""
    import grader
    site = sysconfig.get_paths()["purelib"]
    bare = [sys.executable, "-S", "-c",  # site-packages without their .pth: no grader
            f"import sys; sys.path.append({site!r}); sys.argv[0] = 'dask-scheduler'; "
            "from distributed.cli.dask_scheduler import main; main()"]
    other = tmp_path / "other"
    shutil.copytree(ROOT / "grader", other / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "grader" / "course" / "fingerprint.py"
    init.write_text(init.read_text().replace(f'"{grader.__version__}"', '"0.1.9"'))
    write_submission(tmp_path / "submissions" / "s", A01, reference_source(A01))
    c = Cluster(tmp_path, workers=1, scheduler=bare, worker_env={"PYTHONPATH": str(other)})
    try:
        run = _batch(tmp_path / "submissions", tmp_path / "results", "--cluster", c.address,
                     timeout=180)
    finally:
        c.close()
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: "), run.stderr
    line = run.stderr
    assert f"this machine runs grader {grader.__version__}+" in line
    assert f"the scheduler at {c.address} cannot import the grader" in line
    assert "No module named 'grader'" in line
    assert re.search(r"worker tcp://127\.0\.0\.1:\d+ runs grader 0\.1\.9\+", line), line
    assert not list((tmp_path / "results").glob("*/results.json"))
    book = Gradebook(tmp_path / "results" / "gradebook.sqlite")
    try:
        assert book.latest() == []
    finally:
        book.close()


def test_a_batchs_workers_share_their_repair_searches_and_another_batch_sees_none():
    """A wrong definition many students share is searched once on the cluster, not once per
    worker (``SharedRepairs``): what one worker found (a fix, or that none passes), another
    of the same batch reads instead of searching; another batch reads nothing."""
    from distributed import Client, LocalCluster

    from grader.instructor.cluster.worker import SharedRepairs
    from grader.judge.diagnose.repair import Relative

    fix = Relative(2, "return a - b", "return a + b", ((4, "x = 1", "x = 2"),))
    key, other = ("01", "mse_grad", "body-digest"), ("01", "mse_grad", "another body")

    def found_here(batch):
        shared = SharedRepairs(batch)
        shared[key] = fix
        shared[other] = None  # searched: no small edit passes
        return True

    def seen_there(batch):
        shared = SharedRepairs(batch)
        return [k in shared and shared[k] for k in (key, other)] + [
            ("01", "mse_grad", "never searched") in shared]

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        first, second = list(client.scheduler_info()["workers"])
        assert client.submit(found_here, "b1", workers=[first], pure=False).result()
        got = client.submit(seen_there, "b1", workers=[second], pure=False).result()
        assert got[0] == fix and got[0].also == fix.also
        assert got[1] is None and got[2] is False  # "none passes" is known, not searched again
        assert client.submit(seen_there, "b2", workers=[second], pure=False).result() == \
            [False, False, False]
    assert ("a", "b", "c") not in SharedRepairs("b1")  # outside a task: searched here
