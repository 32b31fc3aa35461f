"""A course tests itself before any student is graded (``python -m grader validate``).

What a careful instructor would run by hand before every release, with the grading machinery
itself (the worker pool, the judge, the real secret, the device) and every problem reported
at once, one line each, naming the course file and the check, case or entry:

- every case maker runs for every case (hidden ones too) and returns plain data;
- the reference, graded as a student, passes every case of every check, and every property
  its probes declare (a ``Report`` with a hint) holds on it;
- the generated stubs score 0 on every check, with no grader or course error;
- every catalogued mistake (``mistakes.py``) made in the reference fails exactly the checks it
  names (its target and ``also``) and is recognised there by its own hint;
- every output the reference returns is fully compared (no value described as ``other``);
- every ``shares`` key and every key a course probe declares a ``Report`` for is one the
  probe reports; every ``Picture`` can be drawn from the reference's output; every
  ``## name`` heading of a ``lesson.md`` names ``intro`` or an exercise of its assignment.

A course error met here (the reference or a course probe raising) is reported once per check,
not once per case or per student; the checks it breaks are left out of the later steps, so one
mistake is one line.
"""
from __future__ import annotations

import difflib
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from grader.course.loader import Course, strip_markers, top_level_names
from grader.grade import Session
from grader.course.probes import resolve
from grader.judge.expected import CaseMakerError, Expected, ReferenceError, make_cases
from grader.course.spec import Assignment, Check
from grader.course.stubs import make_stub

NO_VALIDATE = ("the course was not validated (--no-validate): a course error may have been "
               "graded")
"""Said in every report a command makes with ``--no-validate``."""


@dataclass
class Validation:
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    checked: dict = field(default_factory=dict)
    """What was run: cases, mistakes (for the closing line)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, line: str) -> None:
        if line not in self.problems:
            self.problems.append(line)


def validate(course: Course, secret: str, device: str = "cpu", pool=None,
             workers: int = 2) -> Validation:
    """Every problem of ``course`` (see the module's docstring)."""
    from grader.worker.pool import WorkerPool
    started = time.perf_counter()
    out = Validation()
    own_pool = pool is None
    pool = pool or WorkerPool(size=max(1, min(workers, len(course))))
    try:
        _validate(course, secret, device, pool, out)
    finally:
        if own_pool:
            pool.close()
    out.seconds = time.perf_counter() - started
    return out


def _validate(course: Course, secret: str, device: str, pool, out: Validation) -> None:
    expected = Expected()
    session = Session(pool, course, device=device, secret=secret, include_hidden=True,
                      one_fork_per_student=True, expected=expected, repair=False)
    _lessons(course, out)
    _cases(course, session, secret, out)
    n_cases = sum(len(session.cases(a, c)) for a in course for c in a.checks)
    session.warm_expected()
    broken = _course_errors(course, session, out)
    _outputs(course, session, broken, out)
    _pictures(course, session, broken, out)
    with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
        tmp = Path(tmp)
        jobs = {"reference": _folder(tmp / "reference", course, _reference_source),
                "stubs": _folder(tmp / "stubs", course, _stub_source)}
        mistakes = [(a, m) for a in course for m in course.mistakes.get(a.folder, ())
                    if m.replace]
        with ThreadPoolExecutor(max_workers=max(1, pool.size)) as ex:
            graded = {name: ex.submit(session.grade, path, name) for name, path in jobs.items()}
            made = []
            for k, (a, m) in enumerate(mistakes):
                source = _mistaken(a, m)
                if source is None:
                    continue  # the loader checked that each `replace` applies
                path = tmp / f"mistake-{k}"
                (path / a.folder).mkdir(parents=True)
                (path / a.folder / f"{a.module}.py").write_text(source)
                one = Session(pool, (a,), device=device, secret=secret, include_hidden=True,
                              one_fork_per_student=True, expected=expected,
                              diagnoser=session.diagnoser, repair=False)
                one._cases = session._cases  # the same cases, made (and checked) once
                made.append((a, m, ex.submit(one.grade, path, path.name)))
            _reference_run(graded["reference"].result(), broken, out)
            _stub_run(graded["stubs"].result(), broken, out)
            for a, m, fut in made:
                _mistake_run(a, m, fut.result(), broken, out)
    for a in course:
        for m in course.mistakes.get(a.folder, ()):
            if m.error:
                try:
                    re.compile(m.error)
                except re.error as exc:
                    out.add(f"{a.folder}/mistakes.py: mistake {m.name!r} ({m.target}): "
                            f"`error` is not a valid regular expression: {exc}")
    out.checked = {"cases": n_cases, "mistakes": len(mistakes),
                   "checks": sum(len(a.checks) for a in course)}


# --------------------------------------------------------------------------- sources
def _reference_source(a: Assignment) -> str:
    return strip_markers(a.reference_path.read_text())


def _stub_source(a: Assignment) -> str:
    return make_stub(a.reference_path.read_text(), str(a.reference_path))


def _folder(path: Path, course: Course, source) -> Path:
    for a in course:
        (path / a.folder).mkdir(parents=True, exist_ok=True)
        (path / a.folder / f"{a.module}.py").write_text(source(a))
    return path


def _mistaken(a: Assignment, m) -> str | None:
    source = _reference_source(a)
    for old, new in m.replace:
        if old not in source:
            return None
        source = source.replace(old, new)
    return source


# --------------------------------------------------------------------------- static parts
def _lessons(course: Course, out: Validation) -> None:
    """A section of ``lesson.md`` starts at a line ``## intro`` or ``## <exercise>``, which
    is usually followed by the section's title (``## A title``). A one-word heading that
    starts no section and is no section's title, but names a definition of the reference, is
    close to an exercise's name or is followed by a title of its own, is a mistyped section
    line: its text silently joins the section before it."""
    for a in course:
        path = a.course_root / a.folder / "lesson.md"
        if not path.is_file():
            continue
        names = {c.name for c in a.checks} | {"intro"}
        try:
            defined = top_level_names(a.reference_path.read_text())
        except SyntaxError:
            defined = set()
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            word = line[3:].strip() if line.startswith("## ") else ""
            if not re.fullmatch(r"[A-Za-z_]\w*", word) or word in names:
                continue
            after_marker = i > 0 and lines[i - 1].startswith("## ") and \
                lines[i - 1][3:].strip() in names
            close = difflib.get_close_matches(word, sorted(names), n=1, cutoff=0.7)
            titled = i + 1 < len(lines) and lines[i + 1].startswith("## ")
            if after_marker or not (word in defined or titled or
                                    (close and close[0].lower() != word.lower())):
                continue
            also = f" (did you mean `## {close[0]}`?)" if close else ""
            out.add(f"{a.folder}/lesson.md: line {i + 1}: the heading `## {word}` names no "
                    f"exercise of {a.folder}{also}: a section starts only at `## intro` or "
                    f"`## <exercise>` ({', '.join(c.name for c in a.checks)}), so its text "
                    "joins the section before it")


def _cases(course: Course, session: Session, secret: str, out: Validation) -> None:
    """Every case maker, every case, one at a time; the cases that fail are left out of the
    grading that follows (``session``'s cases are set here)."""
    for a in course:
        for check in a.checks:
            good = []
            for spec in check.cases:
                try:
                    good += make_cases(a, SimpleNamespace(name=check.name, cases=(spec,)),
                                       secret, include_hidden=True)
                except CaseMakerError as exc:
                    out.add(str(exc))
            session._cases[(a.folder, check.name)] = good


# --------------------------------------------------------------------------- the reference
def _course_errors(course: Course, session: Session, out: Validation) -> set:
    """The course's code failing on cases (computed while warming): one line per check and
    place. Returns the (folder, check) pairs left out of what follows."""
    broken = set()
    for a in course:
        for check in a.checks:
            cases = session.cases(a, check)
            failed: dict[str, list] = {}
            for case in cases:
                failure = session.expected.failures.get(
                    Expected.key(a, check, case, session.device))
                if failure is not None:
                    failed.setdefault(str(failure).split(": ", 1)[1] if ": " in str(failure)
                                      else str(failure), []).append((case, failure))
            for _, fails in failed.items():
                failure = fails[0][1]
                file = failure.where.partition(" line ")[0] or f"{a.folder}/checks.py"
                ids = ", ".join(("hidden " if c.hidden else "") + c.id for c, _ in fails)
                every = "every case" if len(fails) == len(cases) else f"cases {ids}"
                out.add(f"{file}: check {check.name!r}: the course's code fails on {every} "
                        f"({len(fails)} of {len(cases)}): {_detail(failure)}")
                broken.add((a.folder, check.name))
    return broken


def _detail(failure: ReferenceError) -> str:
    """``AttributeError: ... (01_layers/probes.py line 12)``: the instructor's whole line,
    without its case (the same on every case)."""
    text = str(failure)
    head, _, rest = text.partition(": ")
    return rest or head


def _walk(value, path: str):
    """(path, described value) of every described value in a probe's output."""
    if isinstance(value, dict):
        if "kind" in value and isinstance(value.get("kind"), str):
            yield path, value
            for i, item in enumerate(value.get("items") or []):
                yield from _walk(item, f"{path}[{i}]")
            return
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _probe_file(a: Assignment, check: Check) -> str:
    probe = resolve(check.probe)
    return f"{probe.module.replace('.', '/')}.py" if probe.module else f"{a.folder}/checks.py"


def _outputs(course: Course, session: Session, broken: set, out: Validation) -> None:
    """What the reference returns: fully compared, every declared key reported, every
    property it declares holding."""
    for a in course:
        for check in a.checks:
            if (a.folder, check.name) in broken:
                continue
            probe = resolve(check.probe)
            cases = session.cases(a, check)
            outputs = [(c, _derived(probe, session.expected.get(a, check, c, session.device),
                                    c.inputs)) for c in cases]
            if not outputs:
                continue
            keys = set().union(*(o.keys() for _, o in outputs))
            reported = sorted(k for k in keys if not k.startswith("_") and k != "mutated")
            named = [("shares", k) for k in check.shares] + \
                [("tolerances", k) for k in getattr(check, "tolerances", {})]
            for field_name, key in named:
                if key not in keys:
                    close = difflib.get_close_matches(key, reported, n=1)
                    out.add(f"{a.folder}/checks.py: check {check.name!r}: `{field_name}` names "
                            f"{key!r}, which its probe `{probe.name}` never reports"
                            + (f" (did you mean {close[0]!r}?)" if close else "")
                            + f"; it reports: {', '.join(reported)}")
            if probe.module:
                for key in probe.reports:
                    if key != "result" and key not in keys:
                        close = difflib.get_close_matches(key, reported, n=1)
                        out.add(f"{_probe_file(a, check)}: probe `{probe.name}` (check "
                                f"{check.name!r}): a Report is declared for {key!r}, which "
                                "the probe never reports"
                                + (f" (did you mean {close[0]!r}?)" if close else "")
                                + f"; it reports: {', '.join(reported)}")
            others: dict[str, list] = {}
            for case, output in outputs:
                for path, described in _walk({k: v for k, v in output.items()
                                              if not k.startswith("_")}, ""):
                    if described.get("kind") == "other":
                        others.setdefault(f"{path} ({described.get('type', '?')})",
                                          []).append(case.id)
            for key, report in probe.reports.items():
                values = [o.get(key) for _, o in outputs if key in o]
                if report.hint and values and all(_false(v) for v in values):
                    # the reference is at fault (or the probe): one line, and the check is
                    # left out of what follows (its catalogue cannot be judged against it)
                    broken.add((a.folder, check.name))
                    out.add(f"{a.folder}/{a.module}.py: check {check.name!r}: the reference "
                            f"breaks the property {key!r} ({report.label}) that its probe "
                            f"`{probe.name}` ({_probe_file(a, check)}) declares, on every "
                            "case: a student's code that keeps it is failed")
            if others:  # a mistake there cannot fail the check: said once, here
                broken.add((a.folder, check.name))
            for what, ids in others.items():
                out.add(f"{_probe_file(a, check)}: check {check.name!r}: the reference returns "
                        f"a value the check cannot compare at {what}, described only by its "
                        f"type (cases {', '.join(ids[:3])}{'…' if len(ids) > 3 else ''}): any "
                        "student value of that type would pass; return arrays, tensors, "
                        "numbers or lists of them, or describe it in a course probe")


def _derived(probe, output: dict, inputs: dict) -> dict:
    """What the judge compares: the probe's output after its trusted ``derive`` step."""
    from grader.course import probes
    derive = getattr(probes, "derived", None)
    try:
        return derive(probe, output, inputs) if derive else output
    except Exception:
        return output


def _false(value) -> bool:
    if isinstance(value, bool):
        return value is False
    if isinstance(value, dict) and value.get("kind") == "bool":
        return value.get("value") is False
    if isinstance(value, list) and value:
        return any(_false(v) for v in value)
    return False


def _pictures(course: Course, session: Session, broken: set, out: Validation) -> None:
    """Each ``Picture`` drawn from the reference's output on the first public case (the
    functions a picture calls run on it; nothing is drawn)."""
    import numpy as np
    from grader.report.plots import _array
    for a in course:
        for check in a.checks:
            if not check.pictures or (a.folder, check.name) in broken:
                continue
            where = f"{a.folder}/checks.py: check {check.name!r}"
            if check.kind not in ("trajectory", "fit"):
                out.add(f"{where}: pictures are drawn for trajectory and fit checks only, not "
                        f"{check.kind!r}")
                continue
            case = next((c for c in session.cases(a, check) if not c.hidden), None)
            if case is None:
                continue
            e = _array(session.expected.get(a, check, case, session.device).get("result"))
            for picture in check.pictures:
                what = f"{where}: Picture({picture.kind!r}) on case {case.id!r}"
                try:
                    if e is None or e.ndim < 1 or len(e) == 0:
                        raise ValueError("the reference's result is not an array of rows")
                    if picture.kind == "contours":
                        start = _array(picture.start(case.inputs))
                        if start is None or start.shape != (2,) or e.ndim != 2 or \
                                e.shape[1] != 2:
                            raise ValueError("a contours picture needs a start of 2 numbers "
                                             "and a result of rows of 2 parameters")
                        float(picture.loss(e[-1], case.inputs))
                    elif picture.kind == "fit":
                        x, y = (_array(v) for v in picture.data(case.inputs))
                        if x is None or y is None:
                            raise ValueError("`data` returns no pair of arrays (x, y)")
                        np.asarray(picture.model(e[-1], x), dtype=np.float64)
                except Exception as exc:
                    out.add(f"{what}: cannot be drawn: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------- graded runs
def _first_line(text: str) -> str:
    return (text.splitlines() or [""])[0][:200]


def _reference_run(result, broken: set, out: Validation) -> None:
    for a in result.assignments:
        for check in a.checks:
            if (a.folder, check.name) in broken:
                continue
            bad = [c for c in check.cases if c.status != "passed"]
            if not bad:
                continue
            by_message: dict[str, list] = {}
            for c in bad:
                by_message.setdefault(_first_line(c.message) or c.status, []).append(c)
            for message, cases in by_message.items():
                ids = ", ".join(("hidden " if c.hidden else "") + c.id for c in cases)
                out.add(f"{a.folder}/{a.module}.py: check {check.name!r}: the reference, graded "
                        f"as a student, does not pass case(s) {ids}: {message}")


def _stub_run(result, broken: set, out: Validation) -> None:
    for a in result.assignments:
        for check in a.checks:
            if (a.folder, check.name) in broken:
                continue
            if check.score > 0:
                out.add(f"{a.folder}/{a.module}.py: check {check.name!r}: the generated stub "
                        f"earns {check.score:g} of {check.max_score:g} points (a solution "
                        "region does not cover what the check grades)")
            for c in check.cases:
                if c.status in ("grader_error", "course_error"):
                    out.add(f"{a.folder}/{a.module}.py: check {check.name!r}: the generated "
                            f"stub is not graded on case {c.id}: {_first_line(c.message)}")
                    break


def _mistake_run(a: Assignment, m, result, broken: set, out: Validation) -> None:
    where = f"{a.folder}/mistakes.py: mistake {m.name!r} ({m.target})"
    named = {m.target, *m.also}
    if any((a.folder, n) in broken for n in named):
        return
    checks = [c for ar in result.assignments if ar.folder == a.folder for c in ar.checks]
    failing = {c.name for c in checks if c.score < c.max_score - 1e-9
               and (a.folder, c.name) not in broken}
    if not failing & named:
        out.add(f"{where}: made in the reference, it fails no check it names "
                f"({', '.join(sorted(named))}): it does not reproduce")
        return
    # A name in `also` may pass: a loop over a wrong gradient keeps its points when it is
    # right on its own (the own-loop rule); the target must fail, and nothing unnamed may.
    extra = failing - named
    if m.target not in failing:
        out.add(f"{where}: made in the reference, it does not fail {m.target}, its target "
                f"(it fails {', '.join(sorted(failing))})")
    if extra:
        out.add(f"{where}: made in the reference, it also fails {', '.join(sorted(extra))}: "
                "name them in `also` (or the change does more than the mistake)")
    target = next((c for c in checks if c.name == m.target), None)
    if target is not None and m.target in failing:
        hints = {c.hint for c in target.cases if c.status in ("wrong", "partial", "error")}
        if m.hint not in hints:
            said = "; ".join(sorted(h[:80] for h in hints if h)) or "no hint"
            out.add(f"{where}: made in the reference, it is not recognised by its own "
                    f"diagnosis on {m.target} (said: {said})")


# --------------------------------------------------------------------------- before a command
CACHE_ENV = "GRADER_CACHE"


def cache_dir() -> Path:
    """Where passed validations are remembered (``$GRADER_CACHE``, else the user's cache)."""
    import os
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pytorch-grader")
    return Path(base) / "validated"


def cache_key(course: Course, secret: str, device: str) -> str:
    """Changes with any file of the course (code, lessons), of the engine, the secret (by its
    fingerprint) or the device: a course validates again whenever what was checked changed."""
    import hashlib
    from grader.course.cases import secret_id
    from grader.course.fingerprint import ROOT as ENGINE_ROOT, tree_hash
    parts = [tree_hash(course.root, (".py", ".toml", ".md")),
             tree_hash(ENGINE_ROOT / "grader", (".py",)), secret_id(secret), device]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def validate_once(course: Course, secret: str, device: str = "cpu", pool=None,
                  again: bool = False) -> Validation:
    """``validate``, skipped where the same course, engine, secret and device passed before
    (a batch, a release and a bundle each validate first; twenty seconds each time would be
    paid for nothing). ``again``: run it whatever was remembered."""
    stamp = cache_dir() / cache_key(course, secret, device)
    if not again and _cached(stamp):
        return Validation(checked={"cached": True})
    result = validate(course, secret, device, pool)
    if result.ok:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            tmp = stamp.with_suffix(".tmp")
            tmp.write_text(f"{course.root}\n{result.seconds:.1f} s\n")
            tmp.replace(stamp)
        except OSError:  # no cache: validated again next time, nothing lost
            pass
    return result


def _cached(stamp: Path) -> bool:
    """Whether a passed validation is remembered; a cache this user cannot read (another
    user's home, a folder made private) is no cache: the course is validated again."""
    try:
        return stamp.is_file()
    except OSError:
        return False


def course_errors(results, session=None) -> list[str]:
    """The course errors of graded students, once per check and message (not once per
    student): only a change to the course helps, which a re-run alone does not make. With the
    ``session`` that graded them, a check whose case maker failed is told with the
    instructor's whole line (the exception's message too, which students are not shown)."""
    told = {f"{folder}/{name}": str(exc) for (folder, name), exc in
            (getattr(session, "case_errors", None) or {}).items()}
    seen: dict[tuple, list] = {}
    for r in results:
        for check in r.checks():
            for c in check.cases:
                if c.status == "course_error":
                    key = (check.test_name, _first_line(c.message))
                    if r.student not in seen.setdefault(key, []):
                        seen[key].append(r.student)
    return [f"course error on {name} ({len(students)} student(s), not graded, not charged): "
            f"{told.get(name) or message.removeprefix('not graded: ').split('. Not charged')[0]}"
            "; fix the course, run `python -m grader validate`, then grade again"
            for (name, message), students in seen.items()]
