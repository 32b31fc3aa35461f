"""Notebook submissions (issue 4): graded exactly like modules, realities handled per cell."""
import os

import pytest

from conftest import ROOT, broken, messages, reference_source
from grader.assign import reference_notebook
from grader.course import COURSE, assignment

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
        (tmp_path / a.folder / f"{a.module}.ipynb").write_text(reference_notebook(ROOT / "reference", a))
    result = grade(tmp_path)
    assert result.score == 100, broken(result)
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
            nb = nbformat.reads(reference_notebook(ROOT / "reference", a), 4)
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
    assert result.score == 25, broken(result)
    note = result.assignments[0].note
    assert "code cell 2 raised" in note  # the ! line: no processes in the worker
    assert "code cell 5 raised NameError" in note
    assert "code cell 8 raised SyntaxError" in note


def test_an_endless_cell_is_stopped_and_the_next_cells_run(grade, tmp_path):
    cells = [v4.new_code_cell("while True:\n    pass"), v4.new_code_cell(reference_source(A01))]
    result = grade(write_nb(tmp_path, A01, cells), A01, max_timeout=1.5)
    assert result.score == 25
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
    assert result.score == 25


def test_with_both_files_the_report_says_which_was_graded(grade, tmp_path):
    folder = tmp_path / A01
    write_nb(tmp_path, A01, [v4.new_code_cell(reference_source(A01))])
    (folder / "gradient_descent.py").write_text("this is not python")
    os.utime(folder / "gradient_descent.py", (1, 1))  # the .py is older: the notebook wins
    result = grade(tmp_path, A01)
    assert result.score == 25
    assert "gradient_descent.ipynb, modified last, was graded" in result.assignments[0].note


def test_a_notebook_is_as_confined_as_a_module(grade, tmp_path):
    target = ROOT / "reference" / A01 / "gradient_descent.py"
    cells = [v4.new_code_cell(reference_source(A01)),
             v4.new_code_cell(f"secret = open({str(target)!r}).read()")]
    result = grade(write_nb(tmp_path, A01, cells), A01)
    assert result.score == 25
    assert "code cell 2 raised PermissionError" in result.assignments[0].note
