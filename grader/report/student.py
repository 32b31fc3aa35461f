"""Reports: the terminal summary and Gradescope's ``results.json``, written atomically."""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from grader.judge.feedback import check_text, verdict_line
from grader.judge.results import StudentResult


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                      "\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """``text`` as a terminal shows it and never obeys it: every control character but
    newline and tab (ESC, BEL, backspace, carriage return, C1 controls, bidirectional
    overrides) written out visibly, ``\\x1b`` for ESC."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


class InertStream:
    """A text stream that writes through ``inert``: what a command prints cannot drive the
    terminal, wherever the text came from. ``raw`` is the stream itself, for the grader's own
    control characters (a progress bar's carriage return)."""

    def __init__(self, raw):
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(inert(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self.raw, name)


@contextlib.contextmanager
def inert_output():
    """``sys.stdout`` and ``sys.stderr`` made inert (``InertStream``) for the duration."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = InertStream(out), InertStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def terminal(result: StudentResult, verbose: bool = False) -> str:
    """Per contract name its score and a one-line verdict; failures in full below it.
    Whatever a student controls in it (printed output, messages, file names, notes) is
    inert: control characters are shown escaped, never sent to the terminal."""
    lines = [f"Grading {result.student} on {result.device} (grader {result.grader_version})"]
    lines += [f"warning: {w}" for w in result.warnings]
    for a in result.assignments:
        lines.append("")
        lines.append(f"{a.folder}  {a.score:g}/{a.max_score:g}"
                     + (f"   [{a.source}]" if a.source else ""))
        for note in filter(None, a.note.split("\n")):
            lines.append(f"  note: {note}")
        width = max(len(c.name) for c in a.checks)
        for c in a.checks:
            mark = "ok " if c.passed else "FAIL"
            lines.append(f"  {mark} {c.name:<{width}}  {c.score:5.2f}/{c.max_score:g}  "
                         f"{verdict_line(c)}")
            if not c.passed or verbose:
                lines += ["        " + ln for ln in check_text(c).split("\n")]
        if a.output.strip():  # from forks of public cases only (pool.JobOutcome.output)
            shown = a.output.strip().split("\n")
            lines.append(f"  printed {len(shown)} line(s); first: {shown[0][:100]}")
    lines.append("")
    tail = " (public cases only: hidden cases will also count)" if result.public_only else ""
    lines.append(f"Total: {result.score:g}/{result.max_score:g}{tail}   "
                 f"[{result.seconds:.2f} s]")
    return inert("\n".join(lines))


def gradescope(result: StudentResult) -> dict:
    """Gradescope's autograder schema: ``score`` and ``tests`` with name, score, output."""
    tests = []
    for check in result.checks():
        tests.append({
            "name": check.test_name, "score": check.score, "max_score": check.max_score,
            "output": f"{verdict_line(check)}\n\n{check_text(check)}", "visibility": "visible",
            "extra_data": {"cases": [{"id": c.id, "hidden": c.hidden, "seed": c.seed,
                                      "status": c.status, "first_step": c.first_step,
                                      "seconds": c.seconds, "diagnosis": c.diagnosis}
                                     for c in check.cases]}})
    # what was left out of the folder and which file was graded, for the student to read
    notes = [f"{a.folder}: {n}" for a in result.assignments for n in a.note.split("\n") if n]
    notes += [w for w in result.warnings if w.startswith("left out of the submission")]
    return {
        "score": result.score,
        "output": "\n".join([f"{result.score:g}/{result.max_score:g} points, graded on "
                             f"{result.device}", *notes]),
        "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
        "extra_data": {"student": result.student, "device": result.device,
                       "grader_version": result.grader_version, "secret_id": result.secret_id,
                       "public_only": result.public_only, "seconds": result.seconds,
                       "cpu_seconds": round(result.cpu, 4),
                       "sources": {a.folder: a.source for a in result.assignments},
                       "submission": result.submission},
    }


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_results(result: StudentResult, results_root: Path, payload: dict | None = None) -> Path:
    """``<results>/<student>/results.json``, Gradescope's schema. One line of JSON: the C
    encoder is ten times faster than an indented dump (``python -m json.tool`` shows it
    indented)."""
    path = results_root / result.student / "results.json"
    write_atomic(path, json.dumps(payload or gradescope(result)))
    return path
