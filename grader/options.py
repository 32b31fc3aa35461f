"""From command-line options to what a command works with: the course, the secret, the
students' folders, a ``grade.Session`` over warm workers, the gradebook. Shared by the
student's commands (``cli``) and the instructor's (``instructor.commands``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.course.cases import SecretError, load_secret, needs_torch
from grader.course.fingerprint import ROOT
from grader.course.loader import default_root, load_course
from grader.worker.device import DeviceError, cluster_device, resolve_device
from grader.worker import sandbox



class UsageError(Exception):
    """A mistake in how the grader was called: one line, exit code 2."""


def secret_of(args) -> tuple[str, bool]:
    """The secret a command was given (``--secret-file``, ``$GRADER_SECRET``,
    ``.grader-secret``); an unusable one is a usage error, never the development secret."""
    try:
        return load_secret(getattr(args, "secret_file", None), ROOT)
    except SecretError as exc:
        raise UsageError(str(exc)) from None


def course_of(args):
    """The course the command works on (``--course``, else this repository's)."""
    if args.course and not Path(args.course).is_dir():
        raise UsageError(f"no course folder {args.course}")
    return load_course(args.course)


def stubs_folder(args, given, command: str, option: str) -> Path:
    """The students' stubs folder: ``given``, else ``assignments/``, which holds this
    repository's course's stubs, so another course must name its own (a release of it
    would otherwise ship this course's assignments)."""
    if given:
        return Path(given)
    if args.course and Path(args.course).resolve() != default_root().resolve():
        raise UsageError(f"`{command} --course {args.course}` needs {option} DIR: the default, "
                         f"assignments/, holds the stubs of {default_root().relative_to(ROOT)}/")
    return ROOT / "assignments"


def assignments_of(args):
    course = course_of(args)
    if not args.assignment:
        return course.assignments
    try:
        return tuple(course.assignment(n) for n in args.assignment)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def student_folder(student: str, submissions: str) -> Path:
    path = Path(student)
    if not path.is_dir():
        path = Path(submissions) / student
    if not path.is_dir():
        raise UsageError(f"no student folder {student!r} (looked in {submissions})")
    from grader.worker.submission import not_text, shown_name
    if not_text(path.name):
        raise UsageError(f"the student folder's name {shown_name(path.name)} is not UTF-8 "
                         "text (it names the student in every report and the gradebook): "
                         "rename it")
    return path


def open_session(args, secret: str, include_hidden: bool, one_fork: bool = False,
                 remote: bool = False, students: Path | None = None):
    """The session that grades; ``remote``: another machine grades (no local fork servers,
    the device is the workers'). ``students``: the folder graded, whose files decide what
    the fork servers import before forking (default: everything a course may need). The
    fork servers start first: they take the longest to be ready."""
    from grader.grade import Session
    from grader.worker.pool import WorkerPool
    course = assignments_of(args)
    warm = warm_for(course, students) if students is not None else None
    pool = WorkerPool(size=0 if remote else pool_size(args, course), warm=warm)
    try:
        device = cluster_device(args.device) if remote else resolve_device(args.device)
    except DeviceError:
        pool.stop()
        raise
    warnings = []
    features = sandbox.probe_features()
    missing = sandbox.missing_features(features)
    if args.no_confine:
        warnings.append("confinement is off (--no-confine): student code runs unconfined")
    elif sandbox.refusal(features):
        pool.stop()
        raise UsageError(sandbox.refusal(features))
    elif missing:
        if args.strict_sandbox:
            pool.stop()
            raise UsageError("this kernel lacks " + "; ".join(missing) + " (--strict-sandbox)")
        line = "this kernel lacks " + "; ".join(missing) + ": grading goes on without it"
        print(f"warning: {line}", file=sys.stderr)
        warnings.append(line)
    return Session(pool, course, device=device, secret=secret, include_hidden=include_hidden,
                   confine=not args.no_confine, warnings=warnings, one_fork_per_student=one_fork)


def pool_size(args, course) -> int:
    """Fork servers for this run: no more than asked, than cores, or than assignments (each
    one imports torch: on two cores, five of them only fight over the CPU)."""
    return max(1, min(args.workers, os.cpu_count() or 1, len(course)))


def warm_for(course, folder: Path):
    """What grading the students under ``folder`` needs imported ahead: torch only where a
    selected check hands out tensors or torch objects, the notebook machinery only where
    there is a notebook."""
    from grader.worker.pool import Warm
    return Warm(torch=needs_torch(course), notebooks=_any_notebook(folder))


def _any_notebook(folder: Path) -> bool:
    """Whether a notebook lies under ``folder`` (a class or one student), looked for as deep
    as a submission is read and no deeper, never following a link, whatever the students'
    folders hold (a tree 1,200 deep or a path past the system's limit once stopped the batch
    here, before any student was graded)."""
    from grader.worker.submission import MAX_DEPTH
    todo = [(os.fspath(folder), 0)]
    while todo:
        path, depth = todo.pop()
        try:
            with os.scandir(path) as it:
                for entry in it:
                    if entry.name.endswith(".ipynb"):
                        return True
                    if depth <= MAX_DEPTH and entry.is_dir(follow_symlinks=False):
                        todo.append((entry.path, depth + 1))
        except OSError:  # unreadable, or its path too long: the batch says so per student
            continue
    return False


def expected_store(session, args, secret: str, folder: Path):
    """The expected values kept on disk for this course, secret and device, given to the
    session (see ``expected_store``)."""
    from grader.judge.store import ExpectedStore
    root = session.course[0].course_root
    store = ExpectedStore(folder, root, secret, session.device)
    store.load_into(session.expected, session.diagnoser)
    return store


def selected(course, targets: list[str]):
    """The course cut down to the named folders or exercises."""
    import dataclasses
    if not targets:
        return course.assignments
    chosen = []
    for a in course:
        if a.folder in targets:
            chosen.append(a)
            continue
        checks = tuple(c for c in a.checks if c.name in targets)
        if checks:
            chosen.append(dataclasses.replace(a, checks=checks,
                                              points=sum(c.points for c in checks)))
    known = {a.folder for a in course} | {c.name for a in course for c in a.checks}
    unknown = [t for t in targets if t not in known]
    if unknown:
        raise UsageError(f"unknown assignment or exercise: {', '.join(unknown)}")
    return tuple(chosen)


def work_folder(given: str | None, course) -> Path:
    """Where a self-check finds the student's files: ``--dir``, else ``./assignments``,
    else this copy's ``assignments/`` (the checkout or the unzipped release), else the
    folder the student is in (or its parent, when it is one assignment's folder)."""
    if given:
        return Path(given)
    here = Path.cwd()
    folders = {a.folder for a in course}
    for candidate in (here / "assignments", ROOT / "assignments"):
        if candidate.is_dir():
            return candidate
    return here.parent if here.name in folders else here


def gradebook_path(args) -> Path:
    return Path(args.gradebook) if args.gradebook else Path(args.results) / "gradebook.sqlite"


def extensions_of(args, course):
    """The extensions in force (``--extensions``, else ``extensions.toml`` beside the
    gradebook), checked against the course: a bad entry is a usage error."""
    from grader.course.deadlines import DeadlineError, load_extensions
    given = getattr(args, "extensions", None)
    path = Path(given) if given else gradebook_path(args).parent / "extensions.toml"
    if given and not path.is_file():
        raise UsageError(f"no extensions file {path}")
    try:
        return load_extensions(path, course.late, [a.folder for a in course])
    except DeadlineError as exc:
        raise UsageError(str(exc)) from None
