"""Notebook submissions: how they are read and what students are told about running them.

A ``.ipynb`` runs in a real Jupyter kernel driven by nbclient (``provisioner.py``), and that
kernel is the confined worker itself, forked warm (``kernel.py``). Decisions, as documented
for students:
- cells run in order, like "Run all", but execution goes on past a cell that raises (as
  nbclient's ``allow_errors``): a name defined before the error, or in a later cell, is still
  graded; each failing cell is named in the report;
- a cell has a time limit (``CELL_SECONDS``, interrupted like Jupyter's stop button) and
  the notebook one in all (the import limit); a cell past its limit is reported and the next
  one runs;
- cells tagged ``self-check`` (the check cells of the released notebooks) are skipped;
- saved outputs are ignored: only the sources run; old nbformat versions are converted;
- ``!`` shell lines fail (no new processes in the worker) and are reported like any
  failing cell; magics, prints and plots work as in Jupyter.
"""
from __future__ import annotations

import os

CELL_SECONDS = 30.0
SELF_CHECK_TAG = "self-check"


class NotebookError(Exception):
    """The file is not a notebook we can read."""


def read(path: str):
    """The notebook as nbformat v4 (older versions converted), or a NotebookError."""
    try:
        import nbformat
    except ImportError:
        raise NotebookError("grading notebooks needs nbformat, which this machine lacks "
                            "(pip install -r requirements.lock)") from None
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # invalid JSON, not a notebook, unknown version
        raise NotebookError(f"{os.path.basename(path)} is not a notebook Jupyter can open: "
                            f"{type(exc).__name__}: {str(exc)[:300]}") from None
