"""Notebook submissions (issue 4): graded exactly like modules, realities handled per cell."""
import os

import pytest

from conftest import ROOT, broken, messages, reference_source
from grader.course.stubs import reference_notebook
from grader.course.loader import load_course

COURSE = load_course()
assignment = COURSE.assignment

nbformat = pytest.importorskip("nbformat")  # a GPU host's image may lack Jupyter's packages
A01 = "01_gradient_descent"
v4 = nbformat.v4


def write_nb(root, folder, cells, version=4):
    a = assignment(folder)
    path = root / folder / f"{a.module}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = v4.new_notebook(cells=cells)
    if version == 3:
        nb = nbformat.convert(nb, 3)
        path.write_text(nbformat.writes(nb, version=3))
    else:
        path.write_text(nbformat.writes(nb))
    return root


def test_reference_notebooks_score_100(grade, tmp_path):
    for a in COURSE:
        (tmp_path / a.folder).mkdir()
        (tmp_path / a.folder / f"{a.module}.ipynb").write_text(reference_notebook(a))
    result = grade(tmp_path)
    assert result.score == 100, [messages(result, n) for n in broken(result)]
    assert all(x.source.endswith(".ipynb") for x in result.assignments)


def test_released_stub_notebooks_score_zero(grade, tmp_path):
    for a in COURSE:
        (tmp_path / a.folder).mkdir()
        (tmp_path / a.folder / f"{a.module}.ipynb").write_text(
            (ROOT / "assignments" / a.folder / f"{a.module}.ipynb").read_text())
    result = grade(tmp_path)
    assert result.score == 0
    assert "not implemented" in messages(result, "mse_grad")


def test_reference_notebooks_run_end_to_end_in_a_real_kernel(tmp_path):
    """nbclient, a real ipykernel, every cell in order (check cells included)."""
    nbclient = pytest.importorskip("nbclient")
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env_path}"
    try:
        for a in COURSE[:2]:  # the NumPy and the autograd lessons (the others: same code path)
            nb = nbformat.reads(reference_notebook(a), 4)
            nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                    resources={"metadata": {"path": str(tmp_path)}}).execute()
            errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                      if o.get("output_type") == "error"]
            assert errors == [], errors
    finally:
        os.environ["PYTHONPATH"] = env_path


def test_notebook_realities_are_reported_per_cell_and_grading_goes_on(grade, tmp_path):
    src = reference_source(A01)
    head, rest = src.split("def gradient_descent", 1)
    stale = v4.new_code_cell("print('old')")
    stale.outputs = [v4.new_output("stream", text="stale output from last week\n")]
    cells = [
        v4.new_markdown_cell("# my work"),
        v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\n%time x = 1"),
        v4.new_code_cell("!pip install something"),
        v4.new_code_cell(head),
        v4.new_code_cell("print('noise ' * 100)\nplt.plot([1, 2, 3]); plt.show()"),
        v4.new_code_cell("undefined_name + 1"),
        stale,
        v4.new_code_cell("def gradient_descent" + rest),
        v4.new_code_cell("def broken(:\n    pass"),
    ]
    result = grade(write_nb(tmp_path, A01, cells), A01)
    assert result.score == 20, broken(result)
    note = result.assignments[0].note
    assert "code cell 2 raised" in note  # the ! line: no processes in the worker
    assert "code cell 5 raised NameError" in note
    assert "code cell 8 raised SyntaxError" in note


def test_an_endless_cell_is_stopped_and_the_next_cells_run(grade, tmp_path):
    cells = [v4.new_code_cell("while True:\n    pass"), v4.new_code_cell(reference_source(A01))]
    result = grade(write_nb(tmp_path, A01, cells), A01, max_timeout=1.5)
    assert result.score == 20
    assert "code cell 1 raised CellTimeout" in result.assignments[0].note


def test_invalid_json_scores_zero_with_a_clear_message(grade, tmp_path):
    (tmp_path / A01).mkdir()
    (tmp_path / A01 / "gradient_descent.ipynb").write_text('{"cells": [ oops')
    result = grade(tmp_path, A01)
    assert result.score == 0
    assert "is not a notebook Jupyter can open" in messages(result, "predict")


def test_an_old_nbformat_version_is_converted_and_graded(grade, tmp_path):
    result = grade(write_nb(tmp_path, A01, [v4.new_code_cell(reference_source(A01))],
                            version=3), A01)
    assert result.score == 20


def test_with_both_files_the_report_says_which_was_graded(grade, tmp_path):
    folder = tmp_path / A01
    write_nb(tmp_path, A01, [v4.new_code_cell(reference_source(A01))])
    (folder / "gradient_descent.py").write_text("this is not python")
    os.utime(folder / "gradient_descent.py", (1, 1))  # the .py is older: the notebook wins
    result = grade(tmp_path, A01)
    assert result.score == 20
    assert "gradient_descent.ipynb, modified last, was graded" in result.assignments[0].note


def test_a_notebook_is_as_confined_as_a_module(grade, tmp_path):
    target = ROOT / "reference" / A01 / "gradient_descent.py"
    cells = [v4.new_code_cell(reference_source(A01)),
             v4.new_code_cell(f"secret = open({str(target)!r}).read()")]
    result = grade(write_nb(tmp_path, A01, cells), A01)
    assert result.score == 20
    assert "code cell 2 raised PermissionError" in result.assignments[0].note


def test_cells_run_in_a_real_jupyter_kernel(grade, tmp_path):
    """nbclient drives an ipykernel: the shell is the kernel's, display and magics work."""
    cells = [v4.new_code_cell("assert type(get_ipython()).__name__ == 'ZMQInteractiveShell'\n"
                              "import ipykernel.kernelapp\n"
                              "assert ipykernel.kernelapp.IPKernelApp.initialized()"),
             v4.new_code_cell("from IPython.display import display\ndisplay({'a': 1})\n"
                              "%timeit -n1 -r1 sum(range(10))"),
             v4.new_code_cell("input('your name? ')"),
             v4.new_code_cell(reference_source(A01))]
    result = grade(write_nb(tmp_path, A01, cells), A01)
    assert result.score == 20, broken(result)
    note = result.assignments[0].note
    assert "code cell 1" not in note and "code cell 2" not in note, note
    assert "code cell 3 raised StdinNotImplementedError" in note  # no one types in a batch


def test_a_kernel_cannot_open_a_socket_though_it_speaks_over_its_own(grade, tmp_path):
    import socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = str(tmp_path / "listener.sock")
    listener.bind(path)
    listener.listen(1)
    listener.settimeout(0.5)
    cells = [v4.new_code_cell(reference_source(A01)),
             v4.new_code_cell(f"import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({path!r})"),
             v4.new_code_cell("import socket\nsocket.socket(socket.AF_INET).connect(('127.0.0.1', 9))")]
    try:
        result = grade(write_nb(tmp_path / "s", A01, cells), A01)
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()
    assert result.score == 20, broken(result)
    note = result.assignments[0].note
    assert "code cell 2 raised PermissionError" in note, note
    assert "code cell 3 raised PermissionError" in note, note


def test_a_file_named_like_a_module_the_kernel_imports_runs_only_after_sockets_are_banned(
        grade, tmp_path):
    """IPython imports modules as its kernel starts (``pdb``, ``code``…). A red team's
    ``pdb.py`` beside the notebook ran there, while sockets were still allowed, and kept
    one connected to a listener on the host for its cells. The student's folder is off
    ``sys.path`` until the kernel's sockets are bound and new ones forbidden."""
    import socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = str(tmp_path / "listener.sock")
    listener.bind(path)
    listener.listen(1)
    listener.settimeout(0.5)
    root = write_nb(tmp_path / "s", A01, [v4.new_code_cell(reference_source(A01))])
    for name in ("pdb", "code", "cmd", "bdb", "argcomplete"):
        (root / A01 / f"{name}.py").write_text(f"""
import builtins, socket
try:
    s = socket.socket(socket.AF_UNIX)
    s.connect({path!r})
    builtins.SMUGGLED = getattr(builtins, "SMUGGLED", []) + [({name!r}, s)]
except OSError:
    pass
""")
    try:
        result = grade(root, A01)
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()
    assert result.score == 20, broken(result)


def test_a_cell_makes_no_socket_file_where_the_kernel_made_its_own(grade, tmp_path):
    """The kernel's sockets are files in the scratch folder, outside the capped tmpfs: a red
    team filled it with 20,000 more in under a second. Once the kernel is up, no ``bind()``
    and no ``mknod`` of a socket; a FIFO in the work folder is still the student's to make."""
    scratch = "os.path.dirname(os.getcwd())"
    cells = [v4.new_code_cell(reference_source(A01)),
             v4.new_code_cell(f"import os, socket\na, b = socket.socketpair()\n"
                              f"a.bind(os.path.join({scratch}, 'pair.sock'))"),
             v4.new_code_cell(f"import os, stat\n"
                              f"os.mknod(os.path.join({scratch}, 'node.sock'), "
                              f"stat.S_IFSOCK | 0o600)"),
             v4.new_code_cell("import os\nos.mkfifo('pipe')\nassert os.path.exists('pipe')")]
    result = grade(write_nb(tmp_path / "s", A01, cells), A01)
    assert result.score == 20, broken(result)
    note = result.assignments[0].note
    assert "code cell 2 raised PermissionError" in note, note
    assert "code cell 3 raised PermissionError" in note, note
    assert "code cell 4" not in note, note


def test_a_cell_deaf_to_interrupts_meets_the_notebook_limit_and_grading_goes_on(grade, tmp_path):
    a02 = COURSE[1]
    deaf = [v4.new_code_cell(reference_source(A01)),
            v4.new_code_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                             "while True:\n    pass")]
    write_nb(tmp_path, A01, deaf)
    (tmp_path / a02.folder).mkdir()
    (tmp_path / a02.folder / f"{a02.module}.py").write_text(reference_source(a02.folder))
    result = grade(tmp_path, A01, a02.folder, max_timeout=2.0)
    by_folder = {x.folder: x for x in result.assignments}
    assert by_folder[a02.folder].score == a02.points, broken(result)
    assert by_folder[A01].score == 0
    assert ("code cell 2 ran past its 2 s limit and did not stop when interrupted"
            in messages(result, "predict"))


def test_a_kernel_that_crashes_is_reported_with_its_cell(grade, tmp_path):
    cells = [v4.new_code_cell(reference_source(A01)),
             v4.new_code_cell("import ctypes\nctypes.string_at(0)")]
    result = grade(write_nb(tmp_path, A01, cells), A01)
    assert result.score == 0
    assert "kernel died while running code cell 2" in messages(result, "mse_grad")


def test_modules_and_notebooks_of_one_student_in_one_batch_fork_request(pool, expected, tmp_path):
    """Batch mode puts a student's modules in one fork; a notebook gets its own after them."""
    from grader.grade import Session
    from conftest import SECRET
    a01, a02 = COURSE[0], COURSE[1]
    write_nb(tmp_path, A01, [v4.new_code_cell(reference_source(A01))])
    (tmp_path / a02.folder).mkdir()
    (tmp_path / a02.folder / f"{a02.module}.py").write_text(reference_source(a02.folder))
    session = Session(pool, (a01, a02), secret=SECRET, expected=expected,
                      one_fork_per_student=True, max_timeout=5.0)
    result = session.grade(tmp_path)
    assert result.score == a01.points + a02.points, broken(result)


def test_running_a_notebook_leaves_no_thread_behind(tmp_path):
    """Forking with a live thread can deadlock: nbclient's threads must all be gone once a
    notebook ran (a local runner forks again from the same process)."""
    import subprocess
    import sys
    write_nb(tmp_path, A01, [v4.new_code_cell("print('hi')")])
    path = tmp_path / A01 / "gradient_descent.ipynb"
    code = f"""
import tempfile, threading
from grader.worker.supervisor import run_job
from grader.worker.zygote import warm_up
warm_up(torch_too=False)
job = {{"student_dir": {str(tmp_path)!r}, "device": "cpu", "cell_seconds": 5,
       "modules": [{{"module_path": {str(path)!r}, "module_name": "m", "calls": []}}]}}
out, finished = run_job(job, tempfile.mkdtemp())
finished.finish()
assert out["modules"][0]["imported"], out
assert "hi" in out["output"], out
print(threading.active_count())
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["1"], done.stdout + done.stderr


def test_once_its_cells_have_run_a_notebook_gets_seconds_not_a_second_import_limit(
        monkeypatch):
    """A notebook's cells may take what is left of its import limit; after them, handing
    its names over as a module takes seconds. The worker was given a whole import limit
    again (code of the student's holding the lock then doubled the notebook's time)."""
    import time
    from grader.worker import provisioner, supervisor
    monkeypatch.setattr(provisioner, "execute", lambda *args: provisioner.NotebookRun())
    request = {"kernel": {"connection_file": "k.json"}, "import_timeout": 120.0,
               "modules": [{"module_path": "nb.ipynb"}]}
    outcome = {"modules": [{"imported": None}]}
    started = time.monotonic()
    deadline = supervisor._run_notebook(request, outcome, [0, None], 0, started + 1.0, -1,
                                        lambda data: None)
    assert deadline - started <= supervisor.HANDOVER_SECONDS + 1.0
    assert outcome["modules"][0].get("imported") is None  # nothing failed: the import goes on
