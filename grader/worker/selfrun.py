"""A student's self-check runs their code in its own process, on any machine.

The student release checks a student's work on their own laptop: Linux, macOS or Windows,
Python 3.10 to 3.13, a terminal, Jupyter, VS Code or Colab. There is nothing to protect
there from the student's own code, so it runs unconfined and in the check's own process
(``InProcessRunner``): no fork (Windows has none, and macOS's system libraries are not
safe to fork), no fork server, no seccomp, Landlock or rlimits (Linux-only, the
instructor's side). What it runs is the grader's own code for a call
(``worker.student.call_event``), and what comes back goes through the same encoding and the
same judge as grading, so a verdict is the one grading gives on that case.

Differences a student may notice, none of which changes a verdict of code that finishes:
- a call past its time limit is stopped by an exception raised in it (at its next Python
  line: one long NumPy or torch operation ends first) and reported as a timeout, like
  grading; code that swallows every exception in an endless loop needs Ctrl-C;
- a crash of the interpreter itself (a segfault, ``os._exit``) ends the check;
- a notebook (checked from the terminal) runs its code cells in order in a fresh
  namespace, like "Run all" going on past a failing cell, the ``self-check`` cells skipped
  and magic (``%``) and shell (``!``) lines left out; in Jupyter, ``check()`` reads the
  notebook's own namespace instead (``selfcheck``).

A failing definition of a ``.py`` file gets the verified-fix search of grading
(``grade.Session.repairs``) on the public cases only, its candidates run by this runner
like the student's own code: what it shows is the course's ``[feedback] repair_selfcheck``
(default: the line only), and a fix is said to pass "every public case", never more.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import re
import sys
import threading
import time
import types
from pathlib import Path

from grader.worker import wire
from grader.worker.submission import Snapshot, Submission, choose
from grader.worker import messages
from grader.worker.notebook import CELL_SECONDS, SELF_CHECK_TAG
from grader.worker.pool import Runner, read_outcome
from grader.worker.sandbox import Limits
from grader.worker.student import (_forget_student_modules, call_event, describe_error,
                                   import_course_probes, load_module)

SUPPORTED = {"python": (3, 10), "numpy": (1, 24), "torch": (2, 0)}
"""The oldest versions a student's self-check supports (the README states the range)."""


def version_tuple(text: str) -> tuple[int, ...]:
    """``"2.13.0+cpu"`` -> ``(2, 13, 0)``: the leading number of each of the first parts."""
    out = []
    for part in text.split("+")[0].split(".")[:3]:
        number = re.match(r"\d+", part)
        if number is None:
            break
        out.append(int(number.group()))
    return tuple(out)


def too_old(torch_too: bool = True) -> str | None:
    """One line naming the first library (or Python) older than ``SUPPORTED``, or None."""
    found = {"python": ".".join(map(str, sys.version_info[:3]))}
    import numpy
    found["numpy"] = numpy.__version__
    if torch_too:
        try:
            import torch
        except ImportError:
            return ("torch is not installed in this environment; the self-check needs torch "
                    f">= {'.'.join(map(str, SUPPORTED['torch']))} (pip install torch)")
        found["torch"] = torch.__version__
    for name, version in found.items():
        if version_tuple(version) < SUPPORTED[name]:
            want = ".".join(map(str, SUPPORTED[name]))
            how = "a newer Python" if name == "python" else f"pip install -U {name}"
            return (f"{name} {version} is too old for this course's self-check: it needs "
                    f"{name} >= {want} ({how})")
    return None


# --------------------------------------------------------------------------- the submission
def student_submission(folder: Path, course, name: str = "your work") -> Submission:
    """The student's own folder as a submission, graded in place: each assignment's
    ``.py`` and notebook read with plain ``open`` (any OS), the file to check chosen as
    grading chooses it (``submission.choose``)."""
    folder = Path(folder).resolve()
    files = {}
    for a in course:
        for suffix in (".py", ".ipynb"):
            rel = f"{a.folder}/{a.module}{suffix}"
            path = folder / a.folder / f"{a.module}{suffix}"
            if path.is_file():
                files[rel] = (path.read_bytes(), path.stat().st_mtime)
    snapshot = Snapshot(files)
    return Submission(name, folder, {}, {a.folder: choose(snapshot, a) for a in course},
                      snapshot.digest())


# --------------------------------------------------------------------------- time limits
class _OutOfTime(BaseException):
    """Raised in the student's code when its time limit passed (never caught by ``except
    Exception``)."""


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in thread ``thread_id`` at its next Python line (None: cancel one not
    raised yet). CPython's C API through ``ctypes.pythonapi``: every OS has it."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None)


class _Watchdog:
    """Raises ``_OutOfTime`` in the thread that made it once ``seconds`` have passed (and
    again every second while it is not stopped: code may catch the first)."""

    def __init__(self, seconds: float):
        self.thread_id = threading.get_ident()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.fired = False
        threading.Thread(target=self._watch, args=(max(float(seconds), 0.0),),
                         daemon=True).start()

    def _watch(self, seconds: float) -> None:
        wait = seconds
        while not self.done.wait(wait):
            with self.lock:
                if self.done.is_set():
                    return
                self.fired = True
                _raise_in(self.thread_id, _OutOfTime)
            wait = 1.0

    def stop(self) -> bool:
        """Stop watching; whether the time ran out."""
        with self.lock:
            self.done.set()
            if self.fired:
                _raise_in(self.thread_id, None)
            return self.fired


def _timed(seconds: float, run):
    """``(run(), False)``, or ``(None, True)`` when ``run`` ran past ``seconds``."""
    try:
        dog = _Watchdog(seconds)
        try:
            value = run()
        finally:
            fired = dog.stop()
        return (None, True) if fired else (value, False)
    except _OutOfTime:
        return None, True


# --------------------------------------------------------------------------- notebooks
def _cells(path: Path) -> list[tuple[int, str, bool]]:
    """A notebook's code cells: (number, source, tagged self-check)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("nbformat", 4) < 4:
        try:  # an old notebook: nbformat converts it, where it is installed
            import nbformat
            data = json.loads(nbformat.writes(nbformat.read(str(path), as_version=4)))
        except ImportError:
            raise ValueError(f"{path.name} is an old notebook (nbformat < 4): open and save "
                             "it in Jupyter once") from None
    out, number = [], 0
    for cell in data.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        source = "".join(map(str, source)) if isinstance(source, list) else str(source)
        tags = (cell.get("metadata") or {}).get("tags") or []
        out.append((number, source, SELF_CHECK_TAG in tags))
    return out


def _display(*objects, **_) -> None:
    """``display`` outside Jupyter: printed."""
    for obj in objects:
        print(repr(obj))


def load_notebook(path: str, name: str, cell_seconds: float) -> tuple[types.ModuleType, list]:
    """Run a notebook's code cells in a fresh module, going on past a failing cell; the
    module and the notes on the cells that failed (worded as grading words them)."""
    module = types.ModuleType(name)
    module.__file__ = path
    module.__dict__["display"] = _display
    sys.modules[name] = module
    notes = []
    for number, source, self_check in _cells(Path(path)):
        if self_check:
            continue
        code = "\n".join(ln for ln in source.splitlines()
                         if not ln.lstrip().startswith(("%", "!")))
        try:
            compiled = compile(code, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            notes.append(f"code cell {number} raised SyntaxError: {exc.msg}, line "
                         f"{exc.lineno}; the next cells still ran")
            continue

        def cell(compiled=compiled):
            try:
                exec(compiled, module.__dict__)
            except (_OutOfTime, KeyboardInterrupt):
                raise
            except BaseException as exc:
                return exc
            return None
        failed, out_of_time = _timed(cell_seconds, cell)
        if out_of_time:
            notes.append(f"code cell {number} raised CellTimeout: ran past its "
                         f"{cell_seconds:g} s limit and was interrupted; the next cells "
                         "still ran")
        elif failed is not None:
            lines = [f.lineno for f in _frames(failed) if f.filename == path]
            where = f", line {lines[-1]}" if lines else ""
            notes.append(f"code cell {number} raised {type(failed).__name__}: "
                         f"{str(failed)[:200]}{where}; the next cells still ran")
    return module, notes


def _frames(exc: BaseException):
    import traceback
    return traceback.extract_tb(exc.__traceback__)


# --------------------------------------------------------------------------- the runner
class InProcessRunner(Runner):
    """Runs a request's calls here, one after the other, each under its time limit; what
    it returns is what a fork server returns (``pool.read_outcome`` decodes it), so the
    pool's re-run and skip rules and the judge apply unchanged."""

    def close(self) -> None:
        """Nothing to end: no process was started."""

    def _request(self, request: dict) -> dict:
        request = wire.loads(wire.dumps(request))  # the inputs as a fork decodes them
        limits = Limits(**request.get("limits", {}))
        student_dir = os.path.abspath(request["student_dir"])
        course_root = request.get("course", {}).get("root", "")
        modules = request["modules"]
        outcome = {"modules": [{"imported": None, "import_error": None, "notes": [],
                                "results": [None] * len(m["calls"])} for m in modules],
                   "output": "", "output_dropped": 0, "exit": "finished", "killed": None,
                   "running": None, "cpu": 0.0}
        parts: list[bytes] = []
        printed = io.StringIO()
        base_path, before = list(sys.path), set(sys.modules)
        started = time.process_time()
        import_course_probes(request)
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                for mi, spec in enumerate(modules):
                    if not self._module(request, mi, spec, outcome["modules"][mi], parts,
                                        student_dir, course_root, limits, base_path, before):
                        # a fork past its time is killed: the calls left run in a fresh one
                        outcome.update(exit="was stopped", killed="timeout")
                        break
        finally:
            sys.path[:] = base_path
            _forget_student_modules(student_dir, before)
        text = printed.getvalue().encode("utf-8", errors="replace")
        outcome["output"] = text[:limits.output_bytes].decode("utf-8", errors="replace")
        outcome["output_dropped"] = max(len(text) - limits.output_bytes, 0)
        outcome["cpu"] = time.process_time() - started
        return read_outcome(wire.join_parts(outcome, parts))

    @staticmethod
    def _module(request: dict, mi: int, spec: dict, slot: dict, parts: list, student_dir: str,
                course_root: str, limits: Limits, base_path: list, before: set) -> bool:
        """Import one module and make its calls; False when one ran out of time (the
        request ends there, as a fork is killed there)."""
        _forget_student_modules(student_dir, before)
        path = spec["module_path"]
        sys.path[:] = [os.path.dirname(path)] + base_path
        notebook = path.endswith(".ipynb")

        def load():
            if notebook:
                return load_notebook(path, spec["module_name"],
                                     float(request.get("cell_seconds", CELL_SECONDS)))
            return load_module(path, spec["module_name"]), []
        limit = float(request.get("import_timeout", 120.0))
        try:
            loaded, out_of_time = _timed(limit, load)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            slot["imported"] = False
            slot["import_error"] = _plain(describe_error(exc, student_dir))
            return True
        if out_of_time:
            slot["imported"] = False
            slot["import_error"] = {"kind": "timeout", "type": "TimeoutError", "frames": [],
                                    "origin": "", "message": "importing the module took "
                                                             f"longer than {limit:g} s"}
            return False
        module, notes = loaded
        slot["imported"], slot["notes"] = True, notes[:50]
        for i, call in enumerate(spec["calls"]):
            got, out_of_time = _timed(float(call["timeout"]), lambda call=call, i=i: call_event(
                module, call, mi, i, request["device"], path, student_dir, course_root,
                limits.result_bytes))
            if out_of_time:
                slot["results"][i] = {"status": "timeout", "limit": call["timeout"]}
                return False
            head, payload = got
            if head["event"] == "result":
                slot["results"][i] = {"status": "ok", "part": len(parts),
                                      "seconds": messages.seconds(head.get("seconds"))}
                parts.append(payload)
                continue
            error = _plain(head["error"])
            if error.get("type") == "KeyboardInterrupt":  # the student's Ctrl-C: stop here
                raise KeyboardInterrupt
            slot["results"][i] = {"status": "error", "error": error}
        return True


def _plain(error) -> dict:
    """An error report as the grader reads one from a fork (its declared shape)."""
    return messages.error_report(json.loads(json.dumps(error, default=str)))
