"""Words for a student: one-line verdicts and per-case explanations of a check."""
from __future__ import annotations

import builtins
import re
from itertools import groupby

from grader.judge.compare import Comparison
from grader.judge.results import CheckResult

ERROR_WORDS = {
    "not_implemented": "is not implemented yet (it raises NotImplementedError)",
    "missing": "is missing",
    "memory": "ran out of memory",
    "exit": "called exit() instead of returning",
}


HIDDEN_NOTE = "(hidden case: its inputs and expected values are not shown)"

SAFE_TYPES = frozenset(n for n, v in vars(builtins).items()
                       if isinstance(v, type) and issubclass(v, BaseException)) | {
    "LinAlgError", "AxisError", "OutOfMemoryError"}
"""Exception types a hidden case names: Python's own and a few of NumPy's and torch's. Any
other name came from the student's process and could be made of the case's inputs (a class
made at run time with ``type(f"{X[0]}", (Exception,), {})``)."""


def hidden_error(name: str, error: dict, module_file: str) -> tuple[str, int | None]:
    """What a hidden case says of an error: its type (if a known one) and the line of the
    graded file it was raised at, never its message or any text the student's process sent
    (a student who ``raise ValueError(f"{X[:8]}")`` would read the hidden inputs). Returns the
    words and that line, said later, with its code read by the grader from the graded file,
    only where a public case shows it too (``hidden_line``)."""
    kind = error.get("kind")
    if kind in ("missing", "not_implemented", "memory", "exit"):
        return f"`{name}` {ERROR_WORDS[kind]}", None
    if kind == "too_large":
        return f"`{name}` returned too much data to send back to the grader", None
    kind_of = error.get("type")
    what = kind_of if isinstance(kind_of, str) and kind_of in SAFE_TYPES else \
        "an exception of its own type"
    return f"`{name}` raised {what} (its message is not shown on a hidden case)", \
        error_line(error, module_file)


def error_line(error: dict, module_file: str) -> int | None:
    """The line of the graded file an error was raised at (its innermost frame there)."""
    frames = error.get("frames")
    last = frames[-1] if isinstance(frames, list) and frames else None
    line = last.get("line") if isinstance(last, dict) and last.get("file") == module_file \
        else None
    return line if isinstance(line, int) and not isinstance(line, bool) and \
        0 < line < 10**6 else None


def hidden_line(module_file: str, line: int, shown: bool, code: str, name: str) -> str:
    """Where a hidden case's error was raised. A line number is a number the student's code
    chooses (code compiled with ``"\\n" * X[0]`` before a ``raise`` puts it anywhere), so
    only a line a public case of the check shows anyway (``shown``) is named, with its
    ``code``."""
    if not shown:
        return (f"\n    at a line of {module_file} that no public case of `{name}` reached (a "
                "hidden case names only lines its public cases show)")
    return f"\n    at {module_file}, line {line}" + (f"\n        {code}" if code else "")


def describe_student_error(name: str, error: dict) -> str:
    """``f raised ZeroDivisionError: ... (module.py, line 12)`` and the offending line."""
    kind = error.get("kind")
    if kind == "missing":
        return error.get("message", f"`{name}` is missing")
    if kind == "not_implemented":
        return f"`{name}` {ERROR_WORDS['not_implemented']}"
    if kind == "too_large":
        return f"`{name}` returned too much data: {error.get('message', '')}"
    head = f"`{name}` {ERROR_WORDS[kind]}" if kind in ERROR_WORDS else \
        f"`{name}` raised {error.get('type', 'an error')}: {error.get('message', '')}".rstrip(": ")
    frames = error.get("frames") or []
    if _mixes_devices(error.get("message", "")):
        head += ("\n    the inputs live on the GPU, but this line uses a tensor on the CPU: a tensor "
                 "made with torch.tensor(...), torch.zeros(...) and the like is created on the "
                 "CPU unless you pass device=X.device (or call .to(X.device))")
    if frames:
        f = frames[-1]
        head += f"\n    at {f['file']}, line {f['line']}, in {f['function']}"
        if f.get("code"):
            head += f"\n        {f['code']}"
    return head


def _mixes_devices(message: str) -> bool:
    """PyTorch's complaint about a CPU tensor meeting a CUDA one."""
    m = message.lower()
    return ("same device" in m or "device type" in m or "cuda" in m) and "cpu" in m


def describe_crash(name: str, result: dict, timeout: float, hidden: bool = False) -> str:
    if result["status"] == "skipped":
        return (f"not run: an earlier case of `{name}` ran past its time limit of "
                f"{timeout:g} s")
    if result["status"] == "timeout":
        return (f"`{name}` did not finish within {timeout:g} s (an endless loop, or far too "
                "much work); it was stopped")
    why = result.get("killed") or ""
    exit_text = result.get("exit", "stopped")
    if hidden:  # its exit status and the reason were chosen by the student's process
        return f"the worker running `{name}` stopped" + (
            " (perhaps it used more memory than allowed)"
            if "SIGKILL" in str(exit_text) and not why else "")
    if "SIGKILL" in exit_text and not why:
        exit_text += " (perhaps it used more memory than allowed)"
    if "SIGSYS" in exit_text or "SIGSEGV" in exit_text:
        exit_text += " (a crash in native code or a forbidden system call)"
    return f"the worker running `{name}` {exit_text}{': ' + why if why else ''}"


def describe_comparison(cmp: Comparison) -> str:
    groups: dict[str, list[str]] = {}  # the same problem in several places: said once
    for p in cmp.problems:
        groups.setdefault(p.text, []).append(p.where)
    lines = []
    for text, places in groups.items():
        where = places[0] if len(places) == 1 else (
            ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
            + f" ({len(places)} places)")
        lines.append(f"{where}: " + text.replace("\n", "\n    "))
    return "\n".join(lines)


HIDDEN_WORDS = (  # (how a problem's text starts, what a hidden case says of it)
    ("modified its input", "modified an input in place; a function must leave its arguments "
                           "unchanged"),
    ("was not reported", "was not reported"),
    ("could not be read", "could not be read"),
    ("the shape does not match", "has the wrong shape"),
    ("has the wrong number of entries", "has the wrong number of entries"),
    ("the dtype does not match", "has the wrong dtype"),
    ("contains NaN", "contains NaN"),
    ("contains infinity", "contains infinity"),
    ("does not hold", "does not hold"),
    ("holds but should not", "holds but should not"),
    ("leaves the reference", "leaves the reference (a trajectory: the step is not shown)"),
)
_HIDDEN_INDEX = re.compile(r"\[[^\]]*\]")


def describe_hidden_comparison(cmp: Comparison) -> str:
    """A hidden case's differences in fixed words: which quantity (the course's label, never
    an index) and what kind of difference, never a number, shape, type name or count, which
    could be the case's inputs or the student's output made of them."""
    lines = []
    for p in cmp.problems:
        text = p.text if isinstance(p.text, str) else ""
        said = next((words for start, words in HIDDEN_WORDS if text.startswith(start)), None)
        if said is None and re.match(r"expected \d+ entries", text):
            said = "has the wrong number of entries"
        elif said is None and re.match(r"expected (a|an) ", text):
            said = "is not of the expected type"
        elif said is None:
            said = "differs from the expected value"
        line = f"{_HIDDEN_INDEX.sub('[…]', p.where)}: {said}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines + [HIDDEN_NOTE])


def verdict_line(check: CheckResult) -> str:
    """One line: ``all 6 cases pass`` or the first failure."""
    n = len(check.cases)
    good = sum(c.status == "passed" for c in check.cases)
    if good == n:
        return "the one case passes" if n == 1 else f"all {n} cases pass"
    first = next(c for c in check.cases if c.status != "passed")
    headline = first.message.split("\n")[0] if first.message else first.status  # a "\r" stays
    hint = f" (hint: {first.hint})" if first.hint else ""
    return (f"{good}/{n} cases pass; {'hidden case' if first.hidden else 'case'} {first.id}: "
            f"{headline}{hint}")


def _cases_label(cases: list, total: int) -> str:
    if len(cases) == 1:
        c = cases[0]
        return f"hidden case {c.id}" if c.hidden else f"case {c.id} (seed {c.seed})"
    names = ", ".join(("hidden " if c.hidden else "") + c.id for c in cases)
    return f"cases {names} ({'all ' if len(cases) == total else ''}{len(cases)} cases)"


def check_text(check: CheckResult) -> str:
    """The full feedback of a check, short: cases with the same verdict and message are
    said once ("on all 5 cases"), and each hint once, after them."""
    lines, total = [], len(check.cases)
    blocks: dict[tuple, list] = {}
    for c in check.cases:
        mark = {"passed": "PASS", "partial": "PART", "grader_error": "NOT GRADED",
                "course_error": "NOT GRADED"}.get(
            c.status, "FAIL")
        message = c.message if c.status != "passed" else ""
        blocks.setdefault((mark, message), []).append(c)
    for (mark, message), cases in blocks.items():
        lines.append(f"[{mark}] {_cases_label(cases, total)}")
        lines += ["    " + ln for ln in _collapse(message.split("\n"))]
    hints: dict[str, list] = {}
    for c in check.cases:
        if c.hint:
            hints.setdefault(c.hint, []).append(c)
    for hint, cases in hints.items():
        on = "" if total == 1 else (f" (all {total} cases)" if len(cases) == total else
                                    f" ({', '.join(c.id for c in cases)})")
        lines.append(f"hint{on}: {hint}")
    lines += [f"note: {n}" for n in check.notes]
    return "\n".join(lines)


def _collapse(lines: list[str]) -> list[str]:
    """Runs of one repeated line said once, with their count."""
    return [f"{line}  (×{n})" if (n := len(list(run))) > 1 else line
            for line, run in groupby(lines)]
