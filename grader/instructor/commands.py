"""The instructor's commands (``python -m grader batch``, ``export``, ``validate``, ...):
what each does with its options. ``cli`` builds the parser and dispatches here; a student's
copy of the grader has no ``instructor`` package, so these are never imported there."""
from __future__ import annotations

import csv
import os
import sys
import tempfile
from pathlib import Path

from grader.course.cases import MAKE_SECRET, SECRET_ENV, SecretError, load_secret
from grader.course.loader import default_root
from grader.options import (ROOT, UsageError, course_of, expected_store, extensions_of,
                            gradebook_path, open_session, secret_of, stubs_folder)
from grader.worker.device import cluster_device, resolve_device



def cmd_release(args) -> int:
    from grader.instructor.release import build_release
    target = Path(args.out)
    secret, real = secret_of(args)
    validate_first(args, course_of(args))
    course = course_of(args)
    stubs = stubs_folder(args, args.assignments, "release", "--assignments")
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
    course = course_of(args)
    out = stubs_folder(args, args.out, "assign", "--out")
    validate_first(args, course)
    for path in write_assignments(course, out):
        print(f"wrote {path}")
    return 0


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
    extensions = extensions_of(args, course_of(args))
    if args.dry_run:
        return _dry_run(args, students)
    unchecked = validate_first(args, course_of(args),
                                "cpu" if args.cluster else resolve_device(args.device))
    try:
        # Every folder the batch writes must take a new file: a folder made read-only whose
        # files are still writable (their owner's) opens the old lock and gradebook fine,
        # and SQLite fails only when it makes its journal, student by student.
        place = results
        for place in dict.fromkeys([results, gradebook_path(args).parent]):
            place.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=place, prefix=".writable-")
            os.close(fd)
            os.unlink(probe)
        lock = WriterLock(gradebook_path(args), wait=args.wait)
    except GradebookBusy as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write results in {place}: {exc.strerror or exc}") from None
    signals = StopSignals().install()
    client = None
    cluster_errors: tuple = ()
    if args.cluster:
        from grader.instructor.cluster.driver import ClusterError
        cluster_errors = (ClusterError,)
    try:
        with lock:
            secret, real = secret_of(args)
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
            gradebook = Gradebook(gradebook_path(args))
            from grader.instructor.canvas import read_ids
            named = {p.name for p in students}
            gradebook.record_lms_ids({k: v for k, v in read_ids(folder).items() if k in named})
            store = expected_store(session, args, secret, results / ".expected")
            from grader.instructor import semester
            try:
                before = semester.test_scores(gradebook.latest())
                outcome = run_batch(session, students, gradebook, results, force=args.force,
                                    command=" ".join(sys.argv), parallel=session.pool.size + 1,
                                    signals=signals, runner=runner, pictures=args.pictures,
                                    lms=semester.lms_record(folder))
                raw = gradebook.latest()
                finals = semester.final_latest(gradebook, course_of(args), extensions, raw)
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
    for name, why in outcome.unread:
        print(f"  not graded: {name}: {why}; the rest of the class was graded")
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


def _dry_run(args, students) -> int:
    """``batch --dry-run``: who would be graded and why; nothing is written."""
    from grader.course.cases import secret_id
    from grader.course.fingerprint import grader_version
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.semester import why_regraded
    secret, _ = secret_of(args)
    device = cluster_device(args.device) if args.cluster else resolve_device(args.device)
    course = course_of(args)
    path = gradebook_path(args)
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
    from grader.instructor.semester import NOT_GRADED
    unread = [(n, why[0]) for n, why in plan if why and why[0].startswith(NOT_GRADED)]
    todo = [(n, why) for n, why in plan if why and not why[0].startswith(NOT_GRADED)]
    print(f"dry run: {len(todo)} of {len(plan)} student(s) would be graded, "
          f"{len(plan) - len(todo) - len(unread)} skipped as unchanged"
          + (f", {len(unread)} cannot be graded" if unread else "") + "; nothing was written")
    for name, why in todo:
        print(f"  {name}: {'; '.join(why)}")
    for name, why in unread:
        print(f"  {name}: {why}")
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


def _similarity(args, submissions: Path, boilerplate: list[str] = (), top: int = 20) -> None:
    from grader.instructor.similarity.ranking import rank
    from grader.instructor.similarity.report import csv_text, html_page
    from grader.report.student import write_atomic
    for f in boilerplate:
        if not Path(f).is_file():
            raise UsageError(f"no boilerplate file {f}")
    gradebook = open_gradebook(args)
    try:
        students = [name for name, _ in gradebook.latest()]
        rows = gradebook.wrong_outputs()
    finally:
        gradebook.close()
    sim = rank(course_of(args), rows, students, submissions, [Path(f) for f in boilerplate])
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
    course = course_of(args)
    extensions = extensions_of(args, course)
    gradebook = open_gradebook(args)
    try:  # the final grades: overrides and late penalties applied
        latest, ids = final_latest(gradebook, course, extensions), gradebook.lms_ids()
        warn_outstanding(gradebook)
    finally:
        gradebook.close()
    if args.canvas_gradebook:
        return _export_canvas(args, latest, ids)
    csv_path = Path(args.csv) if args.csv else Path(args.results) / "grades.csv"
    write_exports(latest, [a.folder for a in course_of(args)], Path(args.results), csv_path)
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
    course = course_of(args)
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
        report = import_zip(zip_path, Path(args.into), course_of(args).assignments,
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
    secret, real = secret_of(args)
    if not real:
        raise UsageError(f"no hidden-case secret: a Gradescope bundle must not grade with the "
                         f"development secret, which ships with the grader; make one with "
                         f"`{MAKE_SECRET}` (or pass --secret-file, or set ${SECRET_ENV})")
    validate_first(args, course_of(args))
    print(f"wrote {build(Path(args.out), course_of(args), secret)}")
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
    store = expected_store(session, args, secret, ROOT / EXPECTED)
    try:
        payload = run(root, session.course, lambda folder: gradescope(session.grade(folder)))
    finally:
        session.pool.close()
    store.save_from(session.expected, session.diagnoser)
    print(payload.get("output", ""))
    return 0


def cmd_validate(args) -> int:
    from grader.course.cases import secret_id
    from grader.instructor.validate import validate_once
    course = course_of(args)
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
    course = course_of(args)
    extensions = extensions_of(args, course)
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
    gradebook = open_gradebook(args)
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
    gradebook = open_gradebook(args)
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
    course = course_of(args)
    extensions = extensions_of(args, course)
    gradebook = open_gradebook(args)
    try:
        finals = semester.final_latest(gradebook, course, extensions)
        warn_outstanding(gradebook)
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


def warn_outstanding(gradebook) -> None:
    """What an export about to hand grades out must say when a class folder's last batch
    did not grade everyone it set out to (stopped, killed, or still running): who is left
    out, and whose row holds an older grade (``Gradebook.outstanding``). Written to stderr
    (names that are not printable text as escapes); the export goes on with what is saved."""
    from datetime import datetime
    for run, left in gradebook.outstanding():
        when = datetime.fromtimestamp(run["started"]).strftime("%Y-%m-%d %H:%M")
        how = "stopped" if run["finished"] is not None else "has not finished (still " \
            "running, or killed)"
        print(f"warning: the last batch of {_printable(run['folder'])} (run {run['id']}, "
              f"started {when}) {how} before grading {len(left)} student(s) it set out to "
              "grade: run it again before handing these grades out", file=sys.stderr)
        for older, what in ((True, "an older grade is in this export for"),
                            (False, "no grade, so not in this export")):
            names = [_printable(name) for name, had in left if had is older]
            if names:
                more = f" and {len(names) - 10} more" if len(names) > 10 else ""
                print(f"  {what}: {', '.join(names[:10])}{more}", file=sys.stderr)


def _printable(name: str) -> str:
    """A name as a terminal may be given it: as is, or escaped where it holds a control
    character (a newline forging a line, an escape sequence erasing one)."""
    return name if name.isprintable() else ascii(name)


def open_gradebook(args):
    from grader.instructor.gradebook import Gradebook
    path = gradebook_path(args)
    if not path.is_file():
        raise UsageError(f"no gradebook at {path} (run `make grade-all` first)")
    return Gradebook(path)


def validate_first(args, course, device: str = "cpu") -> list[str]:
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
