"""A grade is earned only by the student's own outputs (issue 24): forged messages cost the
forger only, no fork ever holds another student's data, the fork server's memory stays
bounded whatever a student sends, and nothing unreadable stops the grader."""
import json
import secrets
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, broken, messages, reference_source
from grader.worker import wire
from grader.course.loader import load_course
from grader.grade import Session
from grader.judge.expected import Expected
from grader.worker import messages as shapes
from grader.worker.pool import Call, Job, ModuleCalls, WorkerPool, read_outcome

HOSTILE = Path(__file__).resolve().parent / "hostile"
A01 = "01_gradient_descent"
SECRET = "integrity-test-secret"
EXPECTED = Expected()
assignment = load_course().assignment


def _student(root: Path, name: str, source: str, extra: dict | None = None) -> Path:
    folder = root / name / A01
    folder.mkdir(parents=True)
    (folder / "gradient_descent.py").write_text(source)
    for file, text in (extra or {}).items():
        (folder / file).write_text(text)
    return root / name


def _hostile(root: Path, name: str) -> Path:
    return _student(root, name, (HOSTILE / f"{name}.py").read_text(), {
        "_attack.py": (HOSTILE / "_attack.py").read_text(),
        "honest.py": reference_source(A01), "targets.json": "{}"})


def _session(pool) -> Session:
    return Session(pool, (assignment(A01),), secret=SECRET, max_timeout=5.0,
                   expected=EXPECTED)


def test_forged_numbers_and_types_cost_the_forger_only(tmp_path):
    """A time of 10**400, a call numbered 0.0, an error kind that is a list, CPU seconds of
    10**400: each once killed the fork server, and its death paid full marks."""
    with WorkerPool(size=1) as pool:
        result = _session(pool).grade(_hostile(tmp_path, "forge_numbers"))
        assert result.grader_errors == 0
        assert broken(result) == {"predict"}, broken(result)
        assert result.score == 18
        # The same server grades the next student as usual: it never died.
        server = pool._all[0]
        assert server.proc.poll() is None and not server.dead
        assert _session(pool).grade(ROOT / "reference").score == 20


LEAKER = '''
MARK = "LEAK" + "{hex}" + "KAEL"
print("a classmate's work:", MARK)


def mse_loss(params, X, y):
    raise ValueError("the marker again: " + MARK)
'''


@pytest.mark.parametrize("size,batch", [(1, False), (2, True)])
def test_no_fork_inherits_an_earlier_students_output(tmp_path, size, batch):
    """Students graded one after the other on the same fork servers: the last one searches
    all the memory its fork inherited for what the first two printed and raised (once found
    there, with their results: a student replayed classmates' hidden-case results). With
    ``batch``, as a local batch and a Dask worker grade (one fork per student, a pool of two
    forked from a template)."""
    leak = LEAKER.format(hex=secrets.token_hex(8))
    with WorkerPool(size=size) as pool:
        session = _session(pool)
        session.one_fork_per_student = batch
        for name in ("a_leaker", "b_leaker"):
            student = _student(tmp_path, name, reference_source(A01) + leak)
            graded = session.grade(student)
            assert "LEAK" in graded.assignments[0].output  # it did go through the grader
        replay = session.grade(_hostile(tmp_path, "replay_memory"))
    assert "predict" in broken(replay), "an earlier student's output was found in memory"
    assert replay.grader_errors == 0


def test_the_forker_holds_nothing_a_student_sends(tmp_path):
    """An output flood, results near their limit and an oversized message head: the peak
    memory of the forker (the process children are forked from) does not move (it never
    reads them); the fork server, which does, stays bounded."""
    flood = '''
import os, struct, sys
from honest import *  # noqa: F401,F403
from _attack import channels, running_call

def mse_loss(params, X, y):
    chunk = "x" * (1 << 20)
    for _ in range(200):  # 200 MiB of output
        sys.stdout.write(chunk)
    mi, i = running_call()
    for fd in channels():  # a head of 30 MiB, refused before it is parsed
        head = b'{"event":"result","module":%d,"index":%d,"x":[' % (mi, i) + b"0," * (15 << 20)
        os.write(fd, struct.pack(">I", len(head) + 2) + head + b"0]")
    return 0.0
'''
    student = _student(tmp_path, "flood", flood, {
        "_attack.py": (HOSTILE / "_attack.py").read_text(), "honest.py": reference_source(A01),
        "targets.json": "{}"})
    calls = [Call("call", "mse_loss", {}, seed=1, timeout=30.0, encoded_inputs=wire.Raw(
        {"args": [np.ones(2), np.ones(3), np.ones(3)]}))]
    job = Job([ModuleCalls(str(student / A01 / "gradient_descent.py"), "m", calls)],
              str(student))
    with WorkerPool(size=1) as pool:
        pool.wait_ready()
        pid = pool._all[0].forker
        before = _peak(pid)
        seen = {}
        original = read_outcome

        import grader.worker.pool as pool_module

        def spy(payload):
            out = original(payload)
            seen["peak"] = out.get("supervisor_peak")
            return out
        pool_module.read_outcome = spy
        try:
            out = pool.run(job)
        finally:
            pool_module.read_outcome = original
        after = _peak(pid)
    result = out.modules[0].results[0]
    assert result["status"] == "died" and "message" in str(result.get("killed")), result
    assert after - before < 16 << 20, (before, after)
    assert seen["peak"] < before + (400 << 20), (seen["peak"], before)
    assert len(out.output) <= 64 * 1024 and out.output_dropped >= 199 << 20


def _peak(pid: int) -> int:
    """A process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("value", [
    {"result": {"kind": "ndarray", "dtype": "weird", "shape": [1], "value": np.zeros(1)}},
    {"result": {"kind": ["ndarray"], "shape": [1]}},
    {"result": {"kind": "tensor", "dtype": "float64", "shape": [2], "value": np.zeros(2),
                "device": 0}},
    {"result": {"kind": "list", "items": 3}},
])
def test_a_described_output_not_in_its_declared_shape_is_refused(value):
    assert shapes.probe_output(value) is None


@pytest.mark.parametrize("text", [
    b'{"__ndarray__":{"dtype":"float64","shape":[1],"data":5}}',
    b'{"__ndarray__":{"dtype":["float64"],"shape":[1],"data":""}}',
    b'{"__ndarray__":{"dtype":"float64","shape":[1.0],"data":""}}',
    b"[" * 100000 + b"]" * 100000,
])
def test_malformed_plain_data_is_a_wire_error_never_a_crash(text):
    with pytest.raises(wire.WireError):
        wire.loads(text)


def test_malformed_outputs_fail_their_calls_and_the_grader_goes_on(tmp_path):
    """A result part whose array data is a number, a dtype nobody declares, an array nested
    deeper than JSON allows: each once stopped the grader (a traceback, exit 1)."""
    parts = [b'{"result":{"__ndarray__":{"dtype":"float64","shape":[1],"data":5}}}',
             b'{"result":{"kind":"ndarray","dtype":"quux","shape":[1],"value":'
             b'{"__ndarray__":{"dtype":"float64","shape":[1],"data":"AAAAAAAAAAA="}}}}',
             b'{"result":' + b"[" * 100000 + b"]" * 100000 + b"}"]
    head = {"modules": [{"imported": True, "import_error": None,
                         "results": [{"status": "ok", "part": k, "seconds": 0.1}
                                     for k in range(len(parts))]}],
            "output": "", "output_dropped": 0, "exit": "finished", "killed": None,
            "running": None}
    out = read_outcome(wire.join_parts(head, parts))
    for r in out["modules"][0]["results"]:
        assert r["status"] == "error" and r["error"]["type"] == "UnreadableResult", r


def test_a_deeply_nested_notebook_is_the_students_error_not_the_graders(tmp_path):
    """A notebook nested 100,000 levels deep was "grader failure… re-run" on every run: that
    student could never be graded."""
    folder = tmp_path / "deep" / A01
    folder.mkdir(parents=True)
    (folder / "gradient_descent.ipynb").write_text("[" * 100000 + "]" * 100000)
    with WorkerPool(size=1) as pool:
        result = _session(pool).grade(tmp_path / "deep")
    assert result.grader_errors == 0 and result.score == 0
    assert "not a notebook" in messages(result, "predict")


def test_grader_errors_earn_nothing(tmp_path):
    """A case whose fork the machinery lost on every try is not graded: 0 points, and the
    student is listed for a re-run."""
    from grader.judge.verdict import Judge
    session = _session(None)
    a = assignment(A01)
    check = a.checks[0]
    case = session.cases(a, check)[0]
    judge = Judge(EXPECTED, None, "cpu", lambda *args: 1.0)
    verdict = judge.case(a, check, case, {"status": "grader_error", "reason": "lost"}, [])
    assert verdict.status == "grader_error" and verdict.fraction == 0.0
    assert "not graded" in verdict.message


def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v)


def test_no_fork_that_runs_a_public_case_holds_a_hidden_cases_inputs(tmp_path):
    """Public cases show what the student printed and raised; a fork that ran them beside
    hidden cases, or inherited hidden inputs its server kept, let a student print them."""
    import hashlib
    with WorkerPool(size=1) as pool:
        session = _session(pool)
        session.grade(ROOT / "reference")  # the server has seen every case once
        result = session.grade(_hostile(tmp_path, "steal_hidden"))
    a = assignment(A01)
    hidden = {hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()
              for check in a.checks for case in session.cases(a, check) if case.hidden
              for x in _arrays(case.inputs) if x.size > 1}
    public = {hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()
              for check in a.checks for case in session.cases(a, check) if not case.hidden
              for x in _arrays(case.inputs) if x.size > 1}
    printed = set(result.assignments[0].output.split())
    assert hidden and not hidden & printed
    assert public & printed  # the attack works where it may: public inputs are no secret
    assert result.score == 20


def test_a_hidden_case_names_no_line_its_public_cases_do_not_show(tmp_path):
    """A line number is a number the student's code chooses: raised from code compiled with
    ``"\\n" * X[0]`` first, it once read a hidden input back to five digits."""
    with WorkerPool(size=1) as pool:
        result = _session(pool).grade(_hostile(tmp_path, "line_leak"))
    check = next(c for c in result.checks() if c.name == "mse_loss")
    hidden = [c for c in check.cases if c.hidden]
    public = [c for c in check.cases if not c.hidden]
    assert hidden and all(c.status == "error" for c in check.cases)
    assert all(", line " in c.message for c in public)  # public cases keep their lines
    for case in hidden:
        assert ", line " not in case.message and "no public case" in case.message, case.message


def test_a_source_nested_too_deep_to_parse_stops_nothing(tmp_path):
    """``return ------…1`` (7000 signs) cannot be compiled nor parsed: the grader's own
    parsing of the source (attribution, repair) once crashed `grade`, and a batch never
    graded that student."""
    with WorkerPool(size=1) as pool:
        result = _session(pool).grade(_hostile(tmp_path, "deep_source"))
    assert result.grader_errors == 0
    assert result.score == 0  # the file cannot be imported: every name is charged, once


def test_a_cuda_fork_reads_no_other_device_than_the_gpus():
    """On CUDA the fork once read all of /dev, /dev/shm included, where a batch keeps every
    student's collected copy: a student copied a classmate's work (20/20)."""
    from grader.worker.sandbox import readable_roots
    roots = [Path(r) for r in readable_roots("/tmp/student", cuda=True)]
    for private in (Path("/dev/shm/grader-copies-x/s/bob"), Path("/dev/mqueue/x")):
        assert not any(private == r or r in private.parents for r in roots), roots


def test_a_classmates_collected_copy_is_out_of_reach_on_cuda_too(tmp_path):
    """A batch collects the whole class into RAM before anyone runs; on CUDA the fork could
    read all of /dev, and with it a classmate's copy in /dev/shm (the sandbox takes its CUDA
    path whatever the machine: NumPy's assignment 01 grades on "cuda" without a GPU)."""
    from grader.worker.submission import Copies, collect
    a = assignment(A01)
    _student(tmp_path, "bob", reference_source(A01).replace('"""', '"""BOB-SECRET-WORK ', 1))
    _student(tmp_path, "eve", (HOSTILE / "shm_classmate.py").read_text())
    copies = Copies()
    try:
        subs = [collect(tmp_path / n, (a,), n, copies.folder(10000)) for n in ("bob", "eve")]
        if not str(subs[0].root).startswith("/dev/"):
            pytest.skip("the copies are not kept under /dev on this machine")
        with WorkerPool(size=1) as pool:
            session = Session(pool, (a,), device="cuda", secret=SECRET, max_timeout=5.0,
                              expected=EXPECTED, one_fork_per_student=True)
            result = session.grade(subs[1], "eve")
    finally:
        copies.remove()
    assert "FOUND" not in result.assignments[0].output
    assert result.score == 0


def test_a_repair_search_ends_at_the_first_candidate_that_waits_out_its_limit(tmp_path):
    """Candidates are the student's own code, edited: code that knows it is being repaired
    can sleep to each candidate's limit, which costs no CPU: a search once took 40 s instead
    of 0.4 s for each failing definition of each such student in a batch."""
    from grader.grade import REPAIR_CHUNK
    with WorkerPool(size=1) as pool:
        session = _session(pool)
        student = _student(tmp_path, "stall", (HOSTILE / "repair_stall.py").read_text())
        result = session.grade(student)
    assert result.grader_errors == 0 and "mse_grad" in broken(result)
    searched = {name: tried for name, tried, *_ in session.repair_log}
    assert 0 < searched["mse_grad"] <= REPAIR_CHUNK  # one chunk, then it stopped


ERROR_FLOOD = '''
kernel = get_ipython().kernel
for _ in range(3000):  # forged error outputs, 84 kB each: once all kept by the supervisor
    kernel.session.send(kernel.iopub_socket, "error",
                        {"ename": "E", "evalue": "v" * 4000, "traceback": ["x" * 4000] * 20},
                        parent=kernel.get_parent("shell"), ident=b"error")
'''


COMM_FLOOD = '''
from comm import create_comm
block = b"\\0" * (1 << 20)
for i in range(400):  # widget messages, 1 MiB of buffer each: nbclient kept them all
    create_comm(target_name=f"w{i}", data={"state": {}, "buffer_paths": [["b"]]},
                buffers=[block])
'''
DISPLAY_FLOOD = '''
from IPython.display import display, update_display
for i in range(60):  # small displays, each updated in place with 4 MiB: all kept
    display("x", display_id=f"d{i}")
for i in range(60):
    update_display("y" * (4 << 20), display_id=f"d{i}")
'''
STDIN_FLOOD = '''
import time
kernel = get_ipython().kernel
ident, blob = kernel._parent_ident["shell"][0], b"x" * (15 << 20)
for _ in range(60):  # on the stdin channel, which nothing read: ZeroMQ queued them all
    kernel.stdin_socket.send_multipart([ident, b"<IDS|MSG>", blob], copy=False)
time.sleep(2)
'''
FLOODS = {"error outputs": ERROR_FLOOD, "comms": COMM_FLOOD, "display updates": DISPLAY_FLOOD,
          "stdin messages": STDIN_FLOOD}


@pytest.mark.parametrize("flood", FLOODS)
def test_a_notebook_cannot_grow_its_supervisor_with_forged_error_outputs(tmp_path, flood):
    """A cell raises once; error outputs past the first of a cell count against the
    notebook's output budget like any output (3000 forged ones grew the supervisor by
    ~225 MiB, 50,000 would have taken gigabytes). So do the updates of a displayed output,
    and widget messages are not kept at all (a red team's, with buffers, ran the fork server
    out of memory: the student's wrong work came back "not graded")."""
    import nbformat
    import grader.worker.pool as pool_module
    peaks = []
    original = pool_module.read_outcome

    def spy(payload):
        out = original(payload)
        peaks.append(out.get("supervisor_peak"))
        return out
    with WorkerPool(size=1) as pool:
        for name, extra in (("quiet", "x = 1"), ("flood", FLOODS[flood])):
            folder = tmp_path / name / A01
            folder.mkdir(parents=True)
            nb = nbformat.v4.new_notebook()
            nb.cells = [nbformat.v4.new_code_cell(reference_source(A01)),
                        nbformat.v4.new_code_cell(extra)]
            nbformat.write(nb, str(folder / "gradient_descent.ipynb"))
            calls = [Call("call", "predict", {}, seed=1, timeout=10.0, encoded_inputs=wire.Raw(
                {"args": [np.ones(2), np.ones(3)]}))]
            job = Job([ModuleCalls(str(folder / "gradient_descent.ipynb"), "m", calls)],
                      str(tmp_path / name), cell_seconds=60.0)
            pool_module.read_outcome = spy
            try:
                out = pool.run(job)
            finally:
                pool_module.read_outcome = original
            assert out.modules[0].results[0]["status"] == "ok", out.modules[0]
    quiet, flood = peaks
    # Kept, they weigh ~330 MiB; dropped, what remains is ZeroMQ's queue of messages not yet
    # read (~70 MiB at most, seen on two busy cores).
    assert flood - quiet < 160 << 20, (quiet, flood)


def test_hidden_inputs_come_only_after_every_public_call_whatever_the_fork_says(tmp_path):
    """A fork's hidden calls get their inputs on its request pipe once its public calls are
    done and what it printed is cut. A thread of the student's says "public calls done"
    every millisecond from its import on (its writes locked against the worker's own) and
    reads that pipe: inputs sent on its word would be printed by the next public call."""
    import hashlib
    with WorkerPool(size=1) as pool:
        session = _session(pool)
        result = session.grade(_hostile(tmp_path, "early_hidden"))
    a = assignment(A01)

    def digests(hidden):
        return {hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()
                for check in a.checks for case in session.cases(a, check)
                if case.hidden == hidden for x in _arrays(case.inputs) if x.size > 1}
    printed = set(result.assignments[0].output.split())
    assert digests(True) and not digests(True) & printed
    assert digests(False) & printed  # the attack works where it may
    predict = next(c for c in result.checks() if c.name == "predict")
    assert all(c.status == "passed" for c in predict.cases if not c.hidden)
    assert result.grader_errors == 0


STALL = '''
import time
import grader.worker.wire

def f(x):
    grader.worker.wire.read_frame = lambda stream: time.sleep(3600)  # never reads hidden ones
    return float(x.sum())
'''


def test_a_fork_that_never_reads_its_hidden_inputs_times_out_on_them(tmp_path):
    """Hidden inputs larger than a pipe holds, to a fork whose worker was made never to read
    them: its supervisor writes no longer than the first hidden call's limit, then charges
    that call a time-out; the public call keeps its result."""
    (tmp_path / "m.py").write_text(STALL)
    big = np.ones(1 << 18)  # 2 MiB once encoded: more than a pipe's buffer
    calls = [Call("call", "f", {"args": [np.ones(3)]}, seed=1, timeout=2.0),
             Call("call", "f", {"args": [big]}, seed=1, timeout=2.0, hidden=True)]
    job = Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls)], str(tmp_path))
    with WorkerPool(size=1) as pool:
        out = pool.run(job)
        assert pool.run(Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls[:1])],
                            str(tmp_path))).modules[0].results[0]["status"] == "ok"
    public, hidden = out.modules[0].results
    assert public["status"] == "ok" and public["output"]["result"]["value"] == 3.0
    assert hidden["status"] == "timeout", hidden


def test_no_fork_finds_the_request_the_fork_server_read_last(tmp_path):
    """The fork server once read each request whole (a student's folder, the hidden cases'
    inputs) and forked the next supervisor with it still in its frame: the next student's
    public call printed all 36 hidden inputs and scored 20/20. Now every child is forked by
    the forker, which reads notices of course data only (``forker``); the server, which
    reads the requests, forks nothing after it."""
    import hashlib
    with WorkerPool(size=1) as pool:
        session = _session(pool)
        session.grade(ROOT / "reference")
        result = session.grade(_hostile(tmp_path, "serve_frame"))
    a = assignment(A01)
    hidden = {hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()
              for check in a.checks for case in session.cases(a, check) if case.hidden
              for x in _arrays(case.inputs) if x.size > 1}
    printed = result.assignments[0].output
    assert "SERVE FRAME SEEN" in printed  # the attack reached the server's frame
    assert hidden and not hidden & set(printed.split())


def test_a_hidden_case_records_no_time_the_student_could_choose():
    """A hidden call's ``seconds`` is the student's (a forged event, a sleep): it once went
    into results.json, about 50 bits of a hidden input per case."""
    from grader.report.student import gradescope
    with WorkerPool(size=1) as pool:
        result = _session(pool).grade(ROOT / "reference")
    cases = [c for ch in result.checks() for c in ch.cases]
    assert all(c.seconds is None for c in cases if c.hidden)
    assert all(c.seconds is not None for c in cases if not c.hidden)
    shown = [c for t in gradescope(result)["tests"] for c in t["extra_data"]["cases"]
             if c.get("hidden")]
    assert shown and all(c["seconds"] is None for c in shown)


HANG = '''
import json, sys
sys.path.insert(0, {tests!r})
from conftest import SECRET, assignment
from grader.grade import Session
from grader.judge.expected import Expected
from grader.worker.pool import WorkerPool
with WorkerPool(size=1) as pool:
    result = Session(pool, (assignment("01_gradient_descent"),), secret=SECRET,
                     max_timeout=5.0, expected=Expected()).grade({student!r})
print(json.dumps([result.score, result.grader_errors,
                  sorted({{c.message[:120] for ch in result.checks() for c in ch.cases}})]))
'''


def test_a_reply_too_large_to_read_never_hangs_the_notebooks_grading(tmp_path):
    """A cell raising an error of 17 MiB: its reply is over the largest message read, so
    ZeroMQ dropped the connection; the cell met its limit, and the next request to the
    kernel blocked the loop that drives the notebook, its deadlines with it: the grade, and
    a whole batch, waited for good (a red team's). The notebook is now charged, in time."""
    import nbformat
    folder = tmp_path / "s" / A01
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(reference_source(A01)),
                nbformat.v4.new_code_cell('raise ValueError("x" * (17 << 20))')]
    nbformat.write(nb, str(folder / "gradient_descent.ipynb"))
    script = HANG.format(tests=str(ROOT / "tests"), student=str(tmp_path / "s"))
    out, err = tmp_path / "out", tmp_path / "err"  # files: a hung server keeps no pipe open
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=o, stderr=e)
    try:
        proc.wait(timeout=240)
    except subprocess.TimeoutExpired:
        import psutil
        for p in [*psutil.Process(proc.pid).children(recursive=True), proc]:
            p.kill()  # the server stuck in its send too (it is in a session of its own)
        proc.wait()
        raise AssertionError("the notebook's grading hung") from None
    assert proc.returncode == 0, err.read_text()
    score, grader_errors, said = json.loads(out.read_text().strip().splitlines()[-1])
    assert grader_errors == 0 and score == 0, said  # the notebook failed: its own doing
    assert any("notebook" in s for s in said), said
