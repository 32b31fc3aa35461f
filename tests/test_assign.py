"""Stubs come from the reference (the single source) and the committed ones are current."""
import ast

import pytest

from conftest import ROOT
from grader.course.stubs import MarkerError, make_stub, stub_files
from grader.course.loader import load_course

COURSE = load_course()


def test_committed_assignments_match_what_make_assignments_writes():
    pytest.importorskip("nbformat")
    for rel, text in stub_files(COURSE).items():
        path = ROOT / "assignments" / rel
        assert path.is_file(), f"{rel} is missing: run `make assignments`"
        assert path.read_text() == text, f"{rel} is stale: run `make assignments`"


def test_stubs_keep_every_contract_name_and_no_solution():
    pytest.importorskip("nbformat")
    for rel, text in stub_files(COURSE).items():
        if not rel.endswith(".py"):
            continue
        tree = ast.parse(text)
        names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        folder = rel.split("/")[0]
        assert {c.name for c in next(a for a in COURSE if a.folder == folder).checks} <= names
        assert "BEGIN SOLUTION" not in text


def test_a_stub_raises_at_the_region_indentation():
    src = "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    stub = make_stub(src)
    assert '    raise NotImplementedError("f: your code here")' in stub
    assert "return x" not in stub and "'''Doc.'''" in stub


@pytest.mark.parametrize("src", [
    "### BEGIN SOLUTION\nx = 1\n",
    "### END SOLUTION\n",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
])
def test_unbalanced_markers_are_refused(src):
    with pytest.raises(MarkerError):
        make_stub(src)


def test_notebooks_are_lessons_with_a_check_cell_per_exercise():
    nbformat = pytest.importorskip("nbformat")
    for a in COURSE:
        nb = nbformat.reads(stub_files(COURSE)[f"{a.folder}/{a.module}.ipynb"],
                            4)
        markdown = [c for c in nb.cells if c.cell_type == "markdown"]
        checks = [c for c in nb.cells if "self-check" in c.metadata.get("tags", [])]
        assert len(markdown) >= len(a.checks)  # an introduction and a section per exercise
        assert [c.source for c in checks] == [f'from grader import check\ncheck("{c.name}")'
                                              for c in a.checks]
        assert "BEGIN SOLUTION" not in nbformat.writes(nb)
