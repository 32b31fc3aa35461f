"""Running a student's notebook inside the confined worker, cell by cell.

The cells run in an IPython ``InteractiveShell`` — the object a Jupyter kernel runs cells
with — inside the same confined fork as a ``.py`` submission. No kernel process is started
and no socket is opened: the confinement forbids both, and skipping the kernel's start makes
a notebook cost what the same code costs as a ``.py``. Magics and display work as in
Jupyter; ``!`` shell lines fail (no processes) and are reported like any failing cell.

Decisions, as documented for students:
- cells run in order, like "Run all", but execution goes on past a cell that raises (as
  nbclient's ``allow_errors``): a name defined before the error, or in a later cell, is still
  graded; each failing cell is named in the report;
- a cell has a time limit (``CELL_SECONDS``) and the notebook one in all; a cell past its
  limit is stopped and reported, and the next one runs;
- cells tagged ``self-check`` (the check cells of the released notebooks) are skipped;
- saved outputs are ignored: only the sources run.
"""
from __future__ import annotations

import os
import signal
import types

CELL_SECONDS = 30.0
SELF_CHECK_TAG = "self-check"
_shell = None


class CellTimeout(Exception):
    """A cell ran past its time limit."""


class NotebookError(Exception):
    """The file is not a notebook we can read."""


def shell():
    """One InteractiveShell per process (the fork server makes it before forking)."""
    global _shell
    if _shell is None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config
        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "nocolor"
        config.InteractiveShell.autocall = 0
        _shell = InteractiveShell.instance(config=config)
    return _shell


def preload() -> None:
    """Import nbformat (and its validator) and make the shell, before any fork. Without
    them (a bare GPU image, say) modules still grade; a notebook then says what is missing."""
    try:
        import nbformat
    except ImportError:
        return
    nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")]))
    shell()


def read(path: str):
    try:
        import nbformat
    except ImportError:
        raise NotebookError("grading notebooks needs nbformat and IPython, which this "
                            "machine lacks (pip install -r requirements.lock)") from None
    try:
        return nbformat.read(path, as_version=4)  # older versions are converted
    except Exception as exc:  # invalid JSON, not a notebook, unknown version
        raise NotebookError(f"{os.path.basename(path)} is not a notebook Jupyter can open: "
                            f"{type(exc).__name__}: {str(exc)[:300]}") from None


def _on_alarm(signum, frame):
    raise CellTimeout(f"ran past its {CELL_SECONDS:g} s limit")


def _where(error: BaseException) -> str:
    import traceback
    lines = [fs.lineno for fs in traceback.extract_tb(error.__traceback__)
             if fs.filename.startswith("<ipython-input") or "ipykernel" in fs.filename
             or fs.filename.startswith("<cell")]
    if isinstance(error, SyntaxError) and error.lineno:
        lines.append(error.lineno)
    return f", line {lines[-1]}" if lines else ""


def load_notebook(path: str, name: str, cell_seconds: float = CELL_SECONDS):
    """Run every code cell; returns the module of the names it defined and the cell notes."""
    global CELL_SECONDS
    CELL_SECONDS = cell_seconds  # this fork's own copy: read by the alarm handler
    nb = read(path)
    sh = shell()
    sh.user_ns.update({"__name__": "__main__", "__file__": path})
    notes = []
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        number = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            number += 1
            if SELF_CHECK_TAG in cell.get("metadata", {}).get("tags", []):
                continue
            signal.setitimer(signal.ITIMER_REAL, cell_seconds)
            try:
                result = sh.run_cell(cell.source, store_history=False, silent=False)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                notes.append(f"code cell {number} raised {type(error).__name__}: "
                             f"{str(error)[:200]}{_where(error)}; the next cells still ran")
    finally:
        signal.signal(signal.SIGALRM, previous)
    module = types.ModuleType(name)
    module.__file__ = path
    module.__dict__.update({k: v for k, v in sh.user_ns.items() if not k.startswith("_")})
    return module, notes
