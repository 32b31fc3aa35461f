"""``python -m grader``: a thin command line over the library."""
from __future__ import annotations

import argparse
import csv
import os
import sys
import threading
from pathlib import Path

from grader.course.cases import (MAKE_SECRET, SECRET_ENV, SECRET_FILE, SecretError,
                                 load_secret, needs_torch)
from grader.course.loader import CourseError, default_root, load_course
from grader.worker.device import DeviceError, cluster_device, resolve_device
from grader.worker import sandbox

ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """A mistake in how the grader was called: one line, exit code 2."""


def _add_course(p: argparse.ArgumentParser) -> None:
    p.add_argument("--course", default=None,
                   help=f"the course folder (default: {default_root().relative_to(ROOT)})")


def _add_secret(p: argparse.ArgumentParser, what: str = "") -> None:
    p.add_argument("--secret-file", help="file holding the hidden-case secret (else "
                   f"${SECRET_ENV}, else {SECRET_FILE}){': ' + what if what else ''}")


def _secret(args) -> tuple[str, bool]:
    """The secret a command was given (``--secret-file``, ``$GRADER_SECRET``,
    ``.grader-secret``); an unusable one is a usage error, never the development secret."""
    try:
        return load_secret(getattr(args, "secret_file", None), ROOT)
    except SecretError as exc:
        raise UsageError(str(exc)) from None


def _add_common(p: argparse.ArgumentParser) -> None:
    _add_course(p)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.add_argument("--assignment", action="append", help="grade only this folder (repeatable)")
    p.add_argument("--no-confine", action="store_true",
                   help="run student code without Landlock/seccomp (trusted code only)")
    p.add_argument("--strict-sandbox", action="store_true",
                   help="refuse to grade when the kernel lacks a confinement feature")
    p.add_argument("--workers", type=int, default=max(1, min(os.cpu_count() or 1, 5)))
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


def _load(args):
    """The course the command works on (``--course``, else this repository's)."""
    if args.course and not Path(args.course).is_dir():
        raise UsageError(f"no course folder {args.course}")
    return load_course(args.course)


def _stubs_folder(args, given, command: str, option: str) -> Path:
    """The students' stubs folder: ``given``, else ``assignments/``, which holds this
    repository's course's stubs, so another course must name its own (a release of it
    would otherwise ship this course's assignments)."""
    if given:
        return Path(given)
    if args.course and Path(args.course).resolve() != default_root().resolve():
        raise UsageError(f"`{command} --course {args.course}` needs {option} DIR: the default, "
                         f"assignments/, holds the stubs of {default_root().relative_to(ROOT)}/")
    return ROOT / "assignments"


def _course(args):
    course = _load(args)
    if not args.assignment:
        return course.assignments
    try:
        return tuple(course.assignment(n) for n in args.assignment)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def _student_dir(student: str, submissions: str) -> Path:
    path = Path(student)
    if not path.is_dir():
        path = Path(submissions) / student
    if not path.is_dir():
        raise UsageError(f"no student folder {student!r} (looked in {submissions})")
    return path


def open_session(args, secret: str, include_hidden: bool, one_fork: bool = False,
                 remote: bool = False, students: Path | None = None):
    """The session that grades; ``remote``: another machine grades (no local fork servers,
    the device is the workers'). ``students``: the folder graded, whose files decide what
    the fork servers import before forking (default: everything a course may need). The
    fork servers start first: they take the longest to be ready."""
    from grader.grade import Session
    from grader.worker.pool import WorkerPool
    course = _course(args)
    warm = _warm_for(course, students) if students is not None else None
    pool = WorkerPool(size=0 if remote else _pool_size(args, course), warm=warm)
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


def _pool_size(args, course) -> int:
    """Fork servers for this run: no more than asked, than cores, or than assignments (each
    one imports torch: on two cores, five of them only fight over the CPU)."""
    return max(1, min(args.workers, os.cpu_count() or 1, len(course)))


def _warm_for(course, folder: Path):
    """What grading the students under ``folder`` needs imported ahead: torch only where a
    selected check hands out tensors or torch objects, the notebook machinery only where
    there is a notebook."""
    from grader.worker.pool import Warm
    notebooks = any(True for _ in Path(folder).rglob("*.ipynb"))
    return Warm(torch=needs_torch(course), notebooks=notebooks)


def _expected_store(session, args, secret: str, folder: Path):
    """The expected values kept on disk for this course, secret and device, given to the
    session (see ``expected_store``)."""
    from grader.judge.store import ExpectedStore
    root = session.course[0].course_root
    store = ExpectedStore(folder, root, secret, session.device)
    store.load_into(session.expected, session.diagnoser)
    return store


def _preload_pictures() -> threading.Thread:
    """matplotlib imported while the workers run (the report draws with it afterwards)."""
    def load():
        try:
            from grader.report import plots
            plots.pyplot()
        except Exception:  # the report says so when it draws; nothing to do here
            pass
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    return thread


def cmd_grade(args) -> int:
    from grader.instructor import semester
    from grader.report.student import gradescope, terminal, write_atomic, write_results
    from grader.worker.submission import collect, read_folder
    student_dir = _student_dir(args.student, args.submissions)
    course = _load(args)
    extensions = _extensions(args, course)  # a bad extensions.toml: said before grading
    overrides = _overrides_of(args, student_dir.name)  # so is an unreadable gradebook
    secret, real = _secret(args)
    session = open_session(args, secret, include_hidden=not args.public_only,
                           students=student_dir)
    if not real and not args.public_only:
        session.warnings.append("no hidden-case secret set ($GRADER_SECRET or .grader-secret): "
                                "hidden cases use a development seed")
    store = _expected_store(session, args, secret, Path(args.results) / ".expected")
    pictures = _preload_pictures() if args.pictures != "none" else None
    name = student_dir.name
    try:
        # collected as a batch collects, so the submission time is read as a batch reads
        # it: what `import` recorded beside the student folders, else the graded file's mtime
        snapshot = read_folder(student_dir.resolve())
        with collect(student_dir.resolve(), session.course, name, snapshot=snapshot) as sub:
            times = semester.collected_times(name, sub, snapshot,
                                             semester.lms_record(student_dir.parent))
            result = session.grade(sub, name)
    finally:
        session.pool.close()
    store.save_from(session.expected, session.diagnoser)
    if pictures is not None:
        pictures.join()
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


def _overrides_of(args, student: str) -> dict:
    """The overrides in force for ``student`` (the gradebook read, never written)."""
    import sqlite3
    from grader.instructor.semester import overrides_of
    path = _gradebook_path(args)
    try:
        return overrides_of(path, student)
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"cannot read the overrides in {path}: {exc}") from None


def _selected(course, targets: list[str]):
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


def _work_folder(given: str | None, course) -> Path:
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


def cmd_check(args) -> int:
    from grader.judge.diagnose import Diagnoser
    from grader.grade import Session
    from grader.judge.public import PUBLIC_FILE, PublicExpected
    from grader.report.student import terminal
    loaded = _load(args)
    folder = _work_folder(args.dir, loaded)
    if not folder.is_dir():
        raise UsageError(f"no folder {folder}")
    course = _selected(loaded, args.targets)
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


def cmd_release(args) -> int:
    from grader.instructor.release import build_release
    target = Path(args.out)
    secret, real = _secret(args)
    _validate_first(args, _load(args))
    course = _load(args)
    stubs = _stubs_folder(args, args.assignments, "release", "--assignments")
    missing = [a.folder for a in course.assignments if not (stubs / a.folder).is_dir()]
    if missing:
        raise UsageError(f"{stubs} has no stubs for {', '.join(missing)}: run `python -m grader "
                         f"assign --course {args.course or default_root()} --out {stubs}` first")
    zip_path = build_release(target, course, stubs)
    if real:  # by construction it is not there; a secret pasted into a course file would be
        from grader.instructor.release import find_text
        leaked = find_text(target, zip_path, secret)
        if leaked:
            raise UsageError(f"the hidden-case secret is written in {leaked}, which the student "
                             f"bundle ships: remove it from there (and make a new secret with "
                             f"`{MAKE_SECRET} --force`)")
    print(f"wrote {target} and {zip_path}")
    return 0


def cmd_assign(args) -> int:
    from grader.course.stubs import write_assignments
    course = _load(args)
    out = _stubs_folder(args, args.out, "assign", "--out")
    _validate_first(args, course)
    for path in write_assignments(course, out):
        print(f"wrote {path}")
    return 0


def _gradebook_path(args) -> Path:
    return Path(args.gradebook) if args.gradebook else Path(args.results) / "gradebook.sqlite"


def cmd_batch(args) -> int:
    from grader.instructor import summary
    from grader.instructor.batch import discover, run_batch
    from grader.instructor.gradebook import Gradebook, GradebookBusy, WriterLock
    from grader.report.student import write_atomic
    from grader.signals import StopSignals
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"no folder {folder}")
    students = discover(folder)
    results = Path(args.results)
    extensions = _extensions(args, _load(args))
    if args.dry_run:
        return _dry_run(args, students)
    unchecked = _validate_first(args, _load(args),
                                "cpu" if args.cluster else resolve_device(args.device))
    try:
        lock = WriterLock(_gradebook_path(args), wait=args.wait)
    except GradebookBusy as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write results in {results}: {exc.strerror or exc}") from None
    signals = StopSignals().install()
    client = None
    cluster_errors: tuple = ()
    if args.cluster:
        from grader.instructor.cluster.driver import ClusterError
        cluster_errors = (ClusterError,)
    try:
        with lock:
            secret, real = _secret(args)
            if not real and not args.public_only:
                print("warning: no hidden-case secret set: hidden cases use a development seed",
                      file=sys.stderr)
            session = open_session(args, secret, include_hidden=not args.public_only,
                                   one_fork=True, remote=bool(args.cluster), students=folder)
            session.warnings += unchecked
            runner = None
            if args.cluster:
                from grader.instructor.cluster.driver import DaskRunner, connect
                client = connect(args.cluster)
                runner = DaskRunner(client, session, pictures=args.pictures)
            gradebook = Gradebook(_gradebook_path(args))
            from grader.instructor.canvas import read_ids
            named = {p.name for p in students}
            gradebook.record_lms_ids({k: v for k, v in read_ids(folder).items() if k in named})
            store = _expected_store(session, args, secret, results / ".expected")
            from grader.instructor import semester
            try:
                before = semester.test_scores(gradebook.latest())
                outcome = run_batch(session, students, gradebook, results, force=args.force,
                                    command=" ".join(sys.argv), parallel=session.pool.size + 1,
                                    signals=signals, runner=runner, pictures=args.pictures,
                                    lms=semester.lms_record(folder))
                raw = gradebook.latest()
                finals = semester.final_latest(gradebook, _load(args), extensions)
                semester.refresh(results, finals)
                _regrade_report(before, raw, outcome, results)
            finally:
                session.pool.close()
                gradebook.close()
                store.save_from(session.expected, session.diagnoser)
    except cluster_errors as exc:  # unreachable, no workers, no GPU worker: one line
        raise UsageError(str(exc)) from None
    finally:
        signals.restore()
        if client is not None:
            from grader.instructor.cluster.driver import close
            close(client)
    print(f"graded {len(outcome.graded)}, unchanged {len(outcome.skipped)} (use --force to "
          f"re-grade), grader failures {len(outcome.failed)} in {outcome.seconds:.1f} s")
    for name, why in outcome.failed:
        print(f"  grader failure on {name} (not charged; re-run to retry): {why}")
    from grader.instructor.validate import course_errors
    retried = [r.student for r in outcome.graded if any(
        c.status == "grader_error" for ch in r.checks() for c in ch.cases)]
    for line in course_errors(outcome.graded, session):  # once per check: a re-run cannot help
        print(f"  {line}")
    if retried:
        print(f"  {len(retried)} student(s) with cases not graded (no points for them until "
              f"a re-run grades them): {', '.join(retried)}")
    if outcome.interrupted:
        print(f"stopped by {outcome.interrupted}: {len(outcome.graded)} student(s) graded and "
              f"saved, {len(outcome.left)} not graded. Run the same command again to grade "
              "the rest (finished students are skipped).", file=sys.stderr)
    if outcome.lost:
        print(f"error: {outcome.lost}: {len(outcome.graded)} student(s) graded and saved, "
              f"{len(outcome.left)} not graded. Run the same command again when the cluster "
              "is back (finished students are skipped).", file=sys.stderr)
        return 3
    if outcome.save_error:
        print(f"error: {outcome.save_error}; stopped with {len(outcome.left)} student(s) not "
              "graded. Everything saved before is intact; free the space or fix the folder "
              "and run the same command again.", file=sys.stderr)
        return 2
    latest = [p for _, p in finals]  # the summary shows final scores, as every export does
    print(summary.terminal(latest))
    adjusted = [(n, semester.terminal_lines(p)) for n, p in finals]
    adjusted = [(n, lines) for n, lines in adjusted if lines]
    if adjusted:
        print(f"final grades differ from the grader's for {len(adjusted)} student(s) (late "
              "penalties, overrides; grades.csv and every export use the final grade):")
        for name, lines in adjusted:
            print(f"{name}:")
            print("\n".join(lines))
    write_atomic(results / "summary.html", summary.html_page(latest))
    print(f"class summary written to {results / 'summary.html'}")
    if args.similarity and not outcome.interrupted:
        _similarity(args, folder)
    return {"SIGTERM": 143, "SIGINT": 130}.get(outcome.interrupted, 0)


def _extensions(args, course):
    """The extensions in force (``--extensions``, else ``extensions.toml`` beside the
    gradebook), checked against the course: a bad entry is a usage error."""
    from grader.course.deadlines import DeadlineError, load_extensions
    given = getattr(args, "extensions", None)
    path = Path(given) if given else _gradebook_path(args).parent / "extensions.toml"
    if given and not path.is_file():
        raise UsageError(f"no extensions file {path}")
    try:
        return load_extensions(path, course.late, [a.folder for a in course])
    except DeadlineError as exc:
        raise UsageError(str(exc)) from None


def _dry_run(args, students) -> int:
    """``batch --dry-run``: who would be graded and why; nothing is written."""
    from grader.course.cases import secret_id
    from grader.course.fingerprint import grader_version
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.semester import why_regraded
    secret, _ = _secret(args)
    device = cluster_device(args.device) if args.cluster else resolve_device(args.device)
    course = _load(args)
    path = _gradebook_path(args)
    book = None
    if path.is_file():
        import sqlite3
        book = Gradebook.__new__(Gradebook)  # read only: nothing created, nothing migrated
        book.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        plan = why_regraded(book, students, grader_version(course.root), secret_id(secret),
                            device, args.public_only, args.force)
    finally:
        if book is not None:
            book.db.close()
    todo = [(n, why) for n, why in plan if why]
    print(f"dry run: {len(todo)} of {len(plan)} student(s) would be graded, "
          f"{len(plan) - len(todo)} skipped as unchanged; nothing was written")
    for name, why in todo:
        print(f"  {name}: {'; '.join(why)}")
    return 0


def _regrade_report(before: dict, raw, outcome, results: Path) -> None:
    """After a batch: per student regraded, the tests whose score the grader moved, old ->
    new (overrides and late penalties are the instructor's and move nothing here), printed
    and written to ``results/regrade.csv`` (kept from the last batch that regraded anyone)."""
    from grader.instructor import semester
    from grader.report.student import write_atomic
    graded = {r.student for r in outcome.graded}
    again = graded & set(before)
    if not again:
        return
    rows = semester.moved(before, semester.test_scores(raw), again)
    write_atomic(results / "regrade.csv", semester.regrade_csv(rows))
    who = sorted({r[0] for r in rows})
    print(f"regraded {len(again)} student(s) graded before: {len(who)} with a test whose "
          f"score moved (written to {results / 'regrade.csv'})")
    for name, test, a, b in rows:
        old = "-" if a is None else f"{a:g}"
        new = "-" if b is None else f"{b:g}"
        print(f"  {name}  {test}: {old} -> {new}")


def _open_gradebook(args):
    from grader.instructor.gradebook import Gradebook
    path = _gradebook_path(args)
    if not path.is_file():
        raise UsageError(f"no gradebook at {path} (run `make grade-all` first)")
    return Gradebook(path)


def _similarity(args, submissions: Path, boilerplate: list[str] = (), top: int = 20) -> None:
    from grader.instructor.similarity.ranking import rank
    from grader.instructor.similarity.report import csv_text, html_page
    from grader.report.student import write_atomic
    for f in boilerplate:
        if not Path(f).is_file():
            raise UsageError(f"no boilerplate file {f}")
    gradebook = _open_gradebook(args)
    try:
        students = [name for name, _ in gradebook.latest()]
        rows = gradebook.wrong_outputs()
    finally:
        gradebook.close()
    sim = rank(_load(args), rows, students, submissions, [Path(f) for f in boilerplate])
    results = Path(args.results)
    write_atomic(results / "similarity.csv", csv_text(sim))
    write_atomic(results / "similarity.html", html_page(sim, detailed=top))
    print(f"similarity: {len(sim.pairs)} pairs share something beyond the given code; "
          f"{len(sim.common)} common mistakes. Most similar first:")
    for i, pair in enumerate(sim.pairs[:5], 1):
        print(f"  {i}. {pair.a} & {pair.b} ({pair.score:.2f}): {pair.evidence()}")
    print(f"written to {results / 'similarity.html'} and {results / 'similarity.csv'}")


def cmd_similarity(args) -> int:
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        raise UsageError(f"no submissions folder {submissions}")
    _similarity(args, submissions, args.boilerplate, args.top)
    return 0


def cmd_export(args) -> int:
    from grader.instructor.export import write_exports
    from grader.instructor.semester import final_latest
    course = _load(args)
    extensions = _extensions(args, course)
    gradebook = _open_gradebook(args)
    try:  # the final grades: overrides and late penalties applied
        latest, ids = final_latest(gradebook, course, extensions), gradebook.lms_ids()
    finally:
        gradebook.close()
    if args.canvas_gradebook:
        return _export_canvas(args, latest, ids)
    csv_path = Path(args.csv) if args.csv else Path(args.results) / "grades.csv"
    write_exports(latest, [a.folder for a in _load(args)], Path(args.results), csv_path)
    print(f"wrote {csv_path} ({len(latest)} students) and their results.json files")
    return 0


def _export_canvas(args, latest, recorded: dict[str, str]) -> int:
    """``recorded``: the Canvas ids the batches kept in the gradebook; ``--submissions``, when
    given, wins over them (else the default folder's fill in for students they lack)."""
    from grader.instructor.canvas import CanvasError, fill, read_ids
    from grader.report.student import write_atomic
    source = Path(args.canvas_gradebook)
    if not source.is_file():
        raise UsageError(f"no Canvas gradebook file {source}")
    explicit = {}
    for item in args.column:
        folder, sep, column = item.partition("=")
        if not sep or not column.strip():
            raise UsageError(f"--column {item!r}: write FOLDER=COLUMN, e.g. "
                             "01_intro='Homework 1 (1234)'")
        explicit[folder.strip()] = column
    course = _load(args)
    unknown = sorted(set(explicit) - {a.folder for a in course.assignments})
    if unknown:
        raise UsageError(f"--column names no assignment folder of the course: {', '.join(unknown)}")
    try:
        text = source.read_text(encoding="utf-8")
        ids = ({**recorded, **read_ids(Path(args.submissions))} if args.submissions else
               {**read_ids(ROOT / "submissions"), **recorded})
        filled = fill(text, latest, course.assignments, explicit, ids)
    except (CanvasError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{source}: {exc}") from None
    out = Path(args.out) if args.out else Path(args.results) / "canvas_gradebook.csv"
    write_atomic(out, filled.text)
    print(f"wrote {out}: {len(filled.updated)} students' grades in "
          f"{len(filled.columns)} columns")
    for folder, column in filled.columns.items():
        print(f"  {folder} -> {column}")
    for note in filled.scaled:
        print(f"  {note}")
    if filled.not_in_canvas:
        print(f"  no Canvas column for: {', '.join(filled.not_in_canvas)} (use --column "
              "FOLDER=COLUMN)")
    if filled.no_grade:
        print(f"  no grade here for {len(filled.no_grade)} Canvas student(s), cells kept: "
              f"{', '.join(filled.no_grade)}")
    if filled.unmatched:
        print(f"  graded but not found in the Canvas file ({len(filled.unmatched)}): "
              f"{', '.join(filled.unmatched)}")
    return 0


def cmd_import(args) -> int:
    from grader.instructor.importer import import_zip
    zip_path = Path(args.zip)
    if not zip_path.is_file():
        raise UsageError(f"no such file {zip_path}")
    try:
        from grader.instructor.canvas import read_ids, record_ids
        report = import_zip(zip_path, Path(args.into), _load(args).assignments,
                            known=read_ids(Path(args.into)))
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot import {zip_path.name}: {exc}") from None
    record_ids(Path(args.into), report.canvas_ids)
    from grader.instructor.semester import record_lms
    record_lms(Path(args.into), report.submitted, report.canvas_files)
    print(f"placed {len(report.placed)} files for {len(report.students)} students in {args.into}")
    for line in report.renamed:
        print(f"  not merged: {line}")
    for line in report.replaced:
        print(f"  replaced: {line}")
    for name in report.left_out:
        print(f"  left out (an import is read, never followed): {name}")
    for name in report.unmatched:
        print(f"  not matched to any contract name: {name}")
    return 0


def cmd_gradescope(args) -> int:
    from grader.instructor.bundle import build
    secret, real = _secret(args)
    if not real:
        raise UsageError(f"no hidden-case secret: a Gradescope bundle must not grade with the "
                         f"development secret, which ships with the grader; make one with "
                         f"`{MAKE_SECRET}` (or pass --secret-file, or set ${SECRET_ENV})")
    _validate_first(args, _load(args))
    print(f"wrote {build(Path(args.out), _load(args), secret)}")
    return 0


def cmd_secret(args) -> int:
    from grader.course.cases import new_secret
    from grader.report.student import write_atomic
    path = Path(args.out)
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists already (a new secret changes every hidden case: "
                         "pass --force to replace it)")
    write_atomic(path, new_secret() + "\n")
    path.chmod(0o600)
    print(f"wrote a new hidden-case secret to {path} (keep it out of version control)")
    return 0


def cmd_gradescope_run(args) -> int:
    from grader.instructor.bundle import EXPECTED, run
    from grader.report.student import gradescope
    root = Path(args.root)
    from grader.instructor.bundle import bundle_secret
    try:
        secret = bundle_secret(ROOT)
    except SecretError as exc:
        raise UsageError(str(exc)) from None
    # One fork server: Gradescope's container has little memory (768 MB by default), and one
    # student's code runs in a second or two.
    args.workers = 1
    session = open_session(args, secret, include_hidden=True, students=root / "submission")
    store = _expected_store(session, args, secret, ROOT / EXPECTED)
    try:
        payload = run(root, session.course, lambda folder: gradescope(session.grade(folder)))
    finally:
        session.pool.close()
    store.save_from(session.expected, session.diagnoser)
    print(payload.get("output", ""))
    return 0


COMMANDS = {"grade": cmd_grade, "check": cmd_check, "release": cmd_release,
            "assign": cmd_assign, "batch": cmd_batch, "export": cmd_export,
            "import": cmd_import, "gradescope": cmd_gradescope, "similarity": cmd_similarity,
            "gradescope-run": cmd_gradescope_run, "secret": cmd_secret}


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
    v.add_argument("--workers", type=int, default=2)
    _add_course(v)


def _validate_first(args, course, device: str = "cpu") -> list[str]:
    """Validate ``course`` before a command hands it out or grades with it (remembered once
    passed: see ``validate_once``), hidden cases with the command's secret. Refuses a course
    that fails, one line per problem; returns the warnings for the command's reports (with
    ``--no-validate``)."""
    from grader.instructor.validate import NO_VALIDATE, validate_once
    if getattr(args, "no_validate", False):
        print(f"warning: {NO_VALIDATE}", file=sys.stderr)
        return [NO_VALIDATE]
    try:
        secret, _ = load_secret(getattr(args, "secret_file", None), ROOT)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the hidden-case secret: {exc}") from None
    checked = validate_once(course, secret, device)
    if not checked.ok:
        n = len(checked.problems)
        raise UsageError(f"the course is not valid ({n} problem{'s' if n > 1 else ''}; "
                         f"`python -m grader validate` checks it again; --no-validate skips "
                         "this in an emergency):\n" + "\n".join(checked.problems))
    return []


def cmd_validate(args) -> int:
    from grader.course.cases import secret_id
    from grader.instructor.validate import validate_once
    course = _load(args)
    secret, real = load_secret(args.secret_file, ROOT)
    device = resolve_device(args.device)
    checked = validate_once(course, secret, device, again=True)
    for line in checked.problems:
        print(line)
    n = checked.checked
    what = (f"{n.get('checks', 0)} checks, {n.get('cases', 0)} cases, {n.get('mistakes', 0)} "
            f"catalogued mistakes, on {device}, with secret {secret_id(secret)}"
            + ("" if real else " (the development secret: no real one is set)"))
    if checked.problems:
        print(f"the course in {course.root} is not valid: {len(checked.problems)} problem(s) "
              f"({what}; {checked.seconds:.1f} s)")
        return 2
    print(f"the course in {course.root} is valid ({what}; {checked.seconds:.1f} s)")
    return 0


COMMANDS["validate"] = cmd_validate


def _test_name(course, latest: dict, student: str, test: str) -> str:
    """``FOLDER/NAME`` of a test the student's grade has (a bare contract name is found)."""
    if test not in latest:
        try:
            assignment, check = course.find(test)
            test = f"{assignment.folder}/{check.name}"
        except KeyError:
            pass
    if test not in latest:
        raise UsageError(f"{student} has no test {test!r} (theirs: {', '.join(latest)})")
    return test


def cmd_override(args) -> int:
    from grader.instructor import semester
    course = _load(args)
    extensions = _extensions(args, course)
    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(f"no overrides file {path}")
        try:
            rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UsageError(f"{path}: {exc}") from None
        missing = {"student", "test", "score", "reason"} - set(rows[0] if rows else {})
        if missing:
            raise UsageError(f"{path}: needs the columns student, test, score, reason "
                             f"(missing: {', '.join(sorted(missing))})")
        wanted = [(f"{path}: line {i + 2}", r["student"], r["test"], r["score"], r["reason"])
                  for i, r in enumerate(rows)]
    else:
        if not args.student or not args.test:
            raise UsageError("override STUDENT TEST --score X --reason WHY (or --file CSV)")
        if (args.score is None) == (not args.clear):
            raise UsageError("give --score X, or --clear to withdraw the override in force")
        wanted = [("", args.student, args.test, "" if args.clear else args.score, args.reason)]
    gradebook = _open_gradebook(args)
    try:
        latest = dict(gradebook.latest())
        checked = []
        for where, student, test, score, reason in wanted:  # all checked before any is kept
            at = f"{where}: " if where else ""
            if student not in latest:
                raise UsageError(f"{at}no student {student!r} in the gradebook")
            tests = {t["name"]: t for t in latest[student]["tests"]}
            try:
                test = _test_name(course, tests, student, test)
            except UsageError as exc:
                raise UsageError(f"{at}{exc}") from None
            if not (reason or "").strip():
                raise UsageError(f"{at}give the reason (--reason): the student's report "
                                 "shows it")
            value = None
            if str(score).strip() != "":
                try:
                    value = float(score)
                except ValueError:
                    raise UsageError(f"{at}score {score!r} is not a number") from None
                top = tests[test]["max_score"]
                if not 0 <= value <= top:
                    raise UsageError(f"{at}score {value:g} is outside 0 to {top:g} for {test}")
            checked.append((student, test, value, reason.strip()))
        for student, test, value, reason in checked:
            o = semester.add_override(gradebook, student, test, value, reason)
            print(f"{student}: {o.line()}")
        finals = semester.final_latest(gradebook, course, extensions)
    finally:
        gradebook.close()
    touched = {c[0] for c in checked}
    semester.refresh(Path(args.results), [(n, p) for n, p in finals if n in touched])
    page = Path(args.results) / "summary.html"
    if page.is_file():  # the class summary a batch wrote: its final scores follow
        from grader.instructor import summary
        from grader.report.student import write_atomic
        write_atomic(page, summary.html_page([p for _, p in finals]))
    for name, payload in finals:
        if name in touched:
            grade = payload["extra_data"]["grade"]
            print(f"{name}: the grader's {grade['raw_score']:g}, final {payload['score']:g} "
                  f"(results.json and report.html updated)")
    return 0


def cmd_history(args) -> int:
    from grader.instructor import semester
    gradebook = _open_gradebook(args)
    try:
        lines = semester.history(gradebook, args.student)
    finally:
        gradebook.close()
    if not lines:
        raise UsageError(f"no grade or override of {args.student!r} in the gradebook")
    print(f"{args.student}: {len(lines)} event(s), oldest first")
    for line in lines:
        print(f"  {line}")
    return 0


def cmd_feedback(args) -> int:
    from grader.instructor import semester
    course = _load(args)
    extensions = _extensions(args, course)
    gradebook = _open_gradebook(args)
    try:
        finals = semester.final_latest(gradebook, course, extensions)
    finally:
        gradebook.close()
    out = Path(args.out) if args.out else Path(args.results) / "feedback"
    canvas = semester.lms_record(Path(args.submissions)).get("canvas_files") or {}
    done = semester.write_feedback(finals, Path(args.results), out, canvas, as_zip=args.zip)
    kind = "zip" if args.zip else "folder"
    print(f"wrote one {kind} per student for {len(done.folders)} student(s) in {out} "
          f"({done.seconds:.1f} s)")
    if done.canvas_zip:
        print(f"  {done.canvas_zip}: {len(done.canvas)} student(s), for Canvas's "
              "\"Re-Upload Submissions\" (each file becomes a comment on their submission)")
    if done.not_in_canvas and canvas:
        shown = ", ".join(done.not_in_canvas[:10])
        more = len(done.not_in_canvas) - 10
        print(f"  not in the Canvas zip (no Canvas file name recorded by `import`): {shown}"
              + (f" and {more} more" if more > 0 else ""))
    if done.missing_report:
        print(f"  no report.html in {args.results} for: {', '.join(done.missing_report)} "
              "(a page made from results.json instead)")
    return 0


COMMANDS.update({"override": cmd_override, "history": cmd_history, "feedback": cmd_feedback})


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
