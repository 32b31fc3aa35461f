"""``python -m grader``: a thin command line over the library."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.course.cases import SECRET_ENV, SECRET_FILE, needs_torch
from grader.course.loader import CourseError, default_root
from grader.options import (ROOT, UsageError, course_of, expected_store, extensions_of,
                            gradebook_path, open_session, secret_of,
                            selected, student_folder, work_folder)
from grader.worker.device import DeviceError, resolve_device


def _add_course(p: argparse.ArgumentParser) -> None:
    p.add_argument("--course", default=None,
                   help=f"the course folder (default: {default_root().relative_to(ROOT)})")


def _add_secret(p: argparse.ArgumentParser, what: str = "") -> None:
    p.add_argument("--secret-file", help="file holding the hidden-case secret (else "
                   f"${SECRET_ENV}, else {SECRET_FILE}){': ' + what if what else ''}")


def _add_common(p: argparse.ArgumentParser) -> None:
    _add_course(p)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.add_argument("--assignment", action="append", help="grade only this folder (repeatable)")
    p.add_argument("--no-confine", action="store_true",
                   help="run student code without Landlock/seccomp (trusted code only)")
    p.add_argument("--strict-sandbox", action="store_true",
                   help="refuse to grade when the kernel lacks a confinement feature")
    p.add_argument("--workers", type=int, default=max(1, min(os.cpu_count() or 1, 5)),
                   help="fork servers grading at once (default: the cores, at most 5)")
    p.add_argument("-v", "--verbose", action="store_true", help="show passing cases too")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade one student folder")
    g.add_argument("student", help="a name under --submissions, or a path to a folder")
    g.add_argument("--submissions", default=str(ROOT / "submissions"))
    g.add_argument("--results", default=str(ROOT / "results"))
    _add_secret(g)
    g.add_argument("--public-only", action="store_true", help="skip hidden cases")
    g.add_argument("--pictures", choices=("failing", "all", "none"), default="failing",
                   help="which checks report.html draws (default: those that lost points, as a "
                        "batch does; each picture costs ~0.05-0.3 s)")
    g.add_argument("--gradebook", help="whose overrides apply, read only (default: "
                                       "<results>/gradebook.sqlite)")
    _add_extensions(g)
    _add_common(g)
    c = sub.add_parser("check", help="check your own work on the public cases")
    c.add_argument("targets", nargs="*", help="assignment folders or exercise names (default: all)")
    c.add_argument("--dir", help="where your files are: the folder of the assignment folders "
                   "(default: ./assignments, else this copy's assignments/, else the folder "
                   "you are in, or above it when you are in one assignment's folder)")
    c.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    c.add_argument("-v", "--verbose", action="store_true", help="show passing cases too")
    _add_course(c)
    r = sub.add_parser("release", help="build the student bundle (no reference, no secret)")
    r.add_argument("out", nargs="?", default=str(ROOT / "dist" / "student"))
    r.add_argument("--assignments", help="the stubs' folder (default: assignments/)")
    _add_secret(r, "checked absent from every file of the bundle")
    _add_course(r)
    a = sub.add_parser("assign", help="regenerate the student stubs and notebooks from the "
                                      "course's references")
    a.add_argument("--out", help="where the stubs go (default: assignments/, for this "
                                 "repository's course only: --course DIR needs --out)")
    _add_course(a)
    b = sub.add_parser("batch", help="grade every student folder under a folder, in parallel")
    b.add_argument("folder", nargs="?", default=str(ROOT / "submissions"))
    b.add_argument("--results", default=str(ROOT / "results"))
    b.add_argument("--gradebook", help="SQLite file (default: <results>/gradebook.sqlite)")
    _add_secret(b)
    b.add_argument("--public-only", action="store_true")
    b.add_argument("--force", action="store_true", help="re-grade unchanged submissions too")
    b.add_argument("--wait", action="store_true",
                   help="wait for another batch writing the same gradebook (default: refuse)")
    _add_common(b)
    b.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on a Dask cluster: tcp://HOST:PORT of its scheduler, or local:N "
                        "to start N local worker processes (default: this machine's pool)")
    b.add_argument("--pictures", choices=("failing", "all", "none"), default="failing",
                   help="which checks each report.html draws (default: those that lost points; "
                        "pictures are a third of the grader's own work in a batch)")
    b.add_argument("--similarity", action="store_true",
                   help="rank similar pairs of students at the end (see `similarity`)")
    b.add_argument("--dry-run", action="store_true",
                   help="say who would be graded and why, and write nothing")
    _add_extensions(b)

    e = sub.add_parser("export", help="write grades.csv and every results.json from the gradebook")
    e.add_argument("--results", default=str(ROOT / "results"))
    e.add_argument("--gradebook")
    e.add_argument("--csv", help="default: <results>/grades.csv")
    e.add_argument("--canvas-gradebook", metavar="FILE",
                   help="fill this Canvas gradebook export with the grades instead")
    e.add_argument("--out", help="where the filled Canvas file goes "
                                 "(default: <results>/canvas_gradebook.csv)")
    e.add_argument("--column", action="append", default=[], metavar="FOLDER=COLUMN",
                   help="the Canvas column of an assignment folder (repeatable; default: "
                        "matched by the assignment's title or folder)")
    e.add_argument("--submissions",
                   help="where `import` recorded the Canvas user ids (default: the ids the "
                        "batch recorded in the gradebook)")
    _add_extensions(e)

    sm = sub.add_parser("similarity", help="rank pairs of students who share wrong outputs "
                                           "or code (evidence, never a verdict)")
    sm.add_argument("--results", default=str(ROOT / "results"))
    sm.add_argument("--gradebook")
    sm.add_argument("--submissions", default=str(ROOT / "submissions"))
    sm.add_argument("--boilerplate", action="append", default=[], metavar="FILE",
                    help="code every student was given (subtracted; repeatable)")
    sm.add_argument("--top", type=int, default=20, help="pairs shown side by side")
    _add_course(e)
    _add_course(sm)
    i = sub.add_parser("import", help="unpack a Canvas or Gradescope submissions zip")
    i.add_argument("zip")
    i.add_argument("--into", default=str(ROOT / "submissions"))
    _add_course(i)
    gs = sub.add_parser("gradescope", help="build the Gradescope autograder bundle")
    gs.add_argument("--out", default=str(ROOT / "dist" / "gradescope"))
    _add_secret(gs, "required: the bundle grades its hidden cases with it")
    sc = sub.add_parser("secret", help=f"write a new hidden-case secret to {SECRET_FILE}")
    sc.add_argument("--out", default=str(ROOT / SECRET_FILE))
    sc.add_argument("--force", action="store_true", help="replace an existing secret (the "
                    "hidden cases change: grades made with the old one no longer reproduce)")
    _add_course(gs)
    gr = sub.add_parser("gradescope-run", help="(inside Gradescope) grade /autograder/submission")
    gr.add_argument("--root", default="/autograder")
    _add_common(gr)
    _add_validate(parser, sub)
    _add_semester(sub)
    return parser


def _add_extensions(p: argparse.ArgumentParser) -> None:
    p.add_argument("--extensions", metavar="FILE",
                   help="extensions per student and assignment (default: extensions.toml "
                        "beside the gradebook)")


def _add_semester(sub) -> None:
    """``override``, ``history`` and ``feedback``: the instructor's decisions and the
    students' copies (``instructor.semester``)."""
    o = sub.add_parser("override", help="set a student's score on one test, with a reason "
                                        "(kept with who and when; survives regrades)")
    o.add_argument("student", nargs="?")
    o.add_argument("test", nargs="?", help="FOLDER/NAME or the contract name")
    o.add_argument("--score", type=float)
    o.add_argument("--clear", action="store_true", help="withdraw the override in force")
    o.add_argument("--reason", help="why (required; the student's report shows it)")
    o.add_argument("--file", help="a CSV of many: student,test,score,reason (an empty score "
                                  "withdraws)")
    h = sub.add_parser("history", help="every grade and override of a student")
    h.add_argument("student")
    f = sub.add_parser("feedback", help="each student's report.html and results.json, one "
                                        "folder (or zip) each, and a zip for Canvas's "
                                        "Re-Upload Submissions")
    f.add_argument("--out", help="default: <results>/feedback")
    f.add_argument("--zip", action="store_true", help="one zip per student, not a folder")
    f.add_argument("--submissions", default=str(ROOT / "submissions"),
                   help="where `import` recorded the Canvas file names")
    for p in (o, h, f):
        p.add_argument("--results", default=str(ROOT / "results"))
        p.add_argument("--gradebook")
        _add_course(p)
    for p in (o, f):
        _add_extensions(p)


def overrides_of(args, student: str) -> dict:
    """The overrides in force for ``student`` (the gradebook read, never written)."""
    import sqlite3
    from grader.instructor.semester import overrides_of
    path = gradebook_path(args)
    try:
        return overrides_of(path, student)
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"cannot read the overrides in {path}: {exc}") from None


def cmd_grade(args) -> int:
    from grader.instructor import semester
    from grader.report.student import gradescope, terminal, write_atomic, write_results
    from grader.worker.submission import collect, read_folder
    student_dir = student_folder(args.student, args.submissions)
    course = course_of(args)
    extensions = extensions_of(args, course)  # a bad extensions.toml: said before grading
    overrides = overrides_of(args, student_dir.name)  # so is an unreadable gradebook
    secret, real = secret_of(args)
    session = open_session(args, secret, include_hidden=not args.public_only,
                           students=student_dir)
    if not real and not args.public_only:
        session.warnings.append("no hidden-case secret set ($GRADER_SECRET or .grader-secret): "
                                "hidden cases use a development seed")
    store = expected_store(session, args, secret, Path(args.results) / ".expected")
    name = student_dir.name
    try:
        # collected as a batch collects, so the submission time is read as a batch reads
        # it: what `import` recorded beside the student folders, else the graded file's mtime
        try:  # whatever the folder holds: one line, never a traceback
            snapshot = read_folder(student_dir.resolve())
            collected = collect(student_dir.resolve(), session.course, name,
                                snapshot=snapshot)
        except Exception as exc:
            raise UsageError(f"the student folder {name} could not be collected "
                             f"({type(exc).__name__}: {str(exc)[:200]})") from None
        with collected as sub:
            times = semester.collected_times(name, sub, snapshot,
                                             semester.lms_record(student_dir.parent))
            result = session.grade(sub, name)
    finally:
        session.pool.close()
    store.save_from(session.expected, session.diagnoser)
    final = semester.final_graded(gradescope(result), course, times, extensions, overrides)
    print(terminal(result, verbose=args.verbose))
    if final is not None:
        lines = semester.terminal_lines(final)
        if lines:
            print(f"final score {final['score']:g} (the grader's "
                  f"{final['extra_data']['grade']['raw_score']:g}):")
            print("\n".join(lines))
    path = write_results(result, Path(args.results), final)
    from grader.report.html import render
    page = path.parent / "report.html"
    text = render(result, pictures=args.pictures)
    write_atomic(page, text if final is None else semester.with_grade(text, final))
    print(f"results written to {path} and {page}")
    from grader.instructor.validate import course_errors
    for line in course_errors([result], session):  # the instructor's line, not the report's
        print(f"warning: {line}", file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    from grader.judge.diagnose import Diagnoser
    from grader.grade import Session
    from grader.judge.public import PUBLIC_FILE, PublicExpected
    from grader.report.student import terminal
    loaded = course_of(args)
    folder = work_folder(args.dir, loaded)
    if not folder.is_dir():
        raise UsageError(f"no folder {folder}")
    course = selected(loaded, args.targets)
    torch_too = needs_torch(course)
    public = loaded.root / PUBLIC_FILE
    if public.is_file():
        from grader.worker.selfrun import too_old
        old = too_old(torch_too)  # one line, before anything needs the version it names
        if old:
            raise UsageError(old)
    device = resolve_device(args.device) if torch_too else "cpu"
    if public.is_file():  # a student's copy: their own code, here, on any OS (``selfrun``)
        from grader.worker.selfrun import InProcessRunner, student_submission
        runner, expected = InProcessRunner(), PublicExpected(public)
        work = student_submission(folder, course)
    else:  # the instructor's checkout: the reference, computed beside a fork server
        from grader.judge.expected import Expected
        from grader.worker.pool import WorkerPool
        runner, expected, work = WorkerPool(1), Expected(), folder
    session = Session(runner, course, device=device, secret="", include_hidden=False,
                      expected=expected, one_fork_per_student=True, repair_for="selfcheck",
                      diagnoser=None if public.is_file() else Diagnoser())
    try:
        result = session.grade(work, "your work")
    finally:
        runner.close()
    print(terminal(result, verbose=args.verbose))
    print("\nHidden cases with other data will also count in your grade: passing every public "
          "case is necessary, not sufficient.")
    return 0


def _instructor(command: str):
    """An instructor's command (``instructor.commands``), imported only when it runs: a
    student's copy of the grader has no ``instructor`` package."""
    def run(args) -> int:
        from grader.instructor import commands
        return getattr(commands, "cmd_" + command.replace("-", "_"))(args)
    return run


COMMANDS = {"grade": cmd_grade, "check": cmd_check, **{
    name: _instructor(name) for name in ("release", "assign", "batch", "export", "import",
                                         "gradescope", "similarity", "gradescope-run",
                                         "secret", "validate", "override", "history",
                                         "feedback")}}


VALIDATED = ("assign", "release", "gradescope", "batch")
"""The commands that validate the course first (and refuse a course that fails)."""


def _add_validate(parser: argparse.ArgumentParser, sub) -> None:
    """``validate``, and ``--no-validate`` on the commands that validate first."""
    for name in VALIDATED:
        sub.choices[name].add_argument(
            "--no-validate", action="store_true",
            help="skip validating the course first (emergencies only; every report says so)")
    v = sub.add_parser("validate", help="test the course itself: reference, stubs, catalogue, "
                                        "case makers, pictures, lessons; every problem at once")
    v.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    v.add_argument("--secret-file", help="file holding the hidden-case secret (else "
                   "$GRADER_SECRET, else .grader-secret): hidden cases are checked with it")
    v.add_argument("--workers", type=int, default=2,
                   help="fork servers checking assignments at once (default 2)")
    _add_course(v)


def main(argv: list[str] | None = None) -> int:
    """Run a command; whatever it prints is inert (``report.InertStream``): a student's
    name, file name, output or message cannot drive the instructor's terminal."""
    from grader.report.student import inert_output
    with inert_output():
        return _main(argv)


def _main(argv: list[str] | None = None) -> int:
    from grader.signals import Interrupted
    from grader.worker.pool import WorkerStartError
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, DeviceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except CourseError as exc:
        print(f"error: the course is not valid: {exc}", file=sys.stderr)
        return 2
    except WorkerStartError as exc:  # nothing could be graded: the machine, not a student
        print(f"error: the grader could not start its workers: {exc}", file=sys.stderr)
        return 3
    except (Interrupted, KeyboardInterrupt) as exc:  # before any student was finished
        name = str(exc) or "SIGINT"
        print(f"stopped by {name} before anything was graded; nothing was written",
              file=sys.stderr)
        return 143 if name == "SIGTERM" else 130
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("grader."):
            raise
        print(f"error: `{args.command}` is an instructor command; this student copy of the "
              "grader does not include it", file=sys.stderr)
        return 2
