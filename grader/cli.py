"""``python -m grader``: a thin command line over the library."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cases import load_secret
from .course import COURSE, assignment
from .device import DeviceError, resolve_device
from .worker import sandbox

ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """A mistake in how the grader was called: one line, exit code 2."""


def _add_common(p: argparse.ArgumentParser) -> None:
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
    g.add_argument("--secret-file", help="file holding the hidden-case secret")
    g.add_argument("--public-only", action="store_true", help="skip hidden cases")
    _add_common(g)
    sub.add_parser("assign", help="regenerate the student stubs in assignments/ from reference/")
    return parser


def _course(names: list[str] | None):
    if not names:
        return COURSE
    try:
        return tuple(assignment(n) for n in names)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def _student_dir(student: str, submissions: str) -> Path:
    path = Path(student)
    if not path.is_dir():
        path = Path(submissions) / student
    if not path.is_dir():
        raise UsageError(f"no student folder {student!r} (looked in {submissions})")
    return path


def open_session(args, secret: str, include_hidden: bool):
    from .grade import Session
    from .worker.pool import WorkerPool
    device = resolve_device(args.device)
    course = _course(args.assignment)
    warnings = []
    missing = sandbox.missing_features(sandbox.probe_features())
    if args.no_confine:
        warnings.append("confinement is off (--no-confine): student code runs unconfined")
    elif missing:
        if args.strict_sandbox:
            raise UsageError("this kernel lacks " + "; ".join(missing) + " (--strict-sandbox)")
        line = "this kernel lacks " + "; ".join(missing) + ": grading goes on without it"
        print(f"warning: {line}", file=sys.stderr)
        warnings.append(line)
    pool = WorkerPool(size=max(1, min(args.workers, len(course))))
    return Session(pool, course, device=device, secret=secret, include_hidden=include_hidden,
                   confine=not args.no_confine, warnings=warnings)


def cmd_grade(args) -> int:
    from .report import terminal, write_results
    student_dir = _student_dir(args.student, args.submissions)
    secret, real = load_secret(args.secret_file, ROOT)
    session = open_session(args, secret, include_hidden=not args.public_only)
    if not real and not args.public_only:
        session.warnings.append("no hidden-case secret set ($GRADER_SECRET or .grader-secret): "
                                "hidden cases use a development seed")
    try:
        result = session.grade(student_dir, student_dir.name)
    finally:
        session.pool.close()
    print(terminal(result, verbose=args.verbose))
    path = write_results(result, Path(args.results))
    print(f"results written to {path}")
    return 0


def cmd_assign(args) -> int:
    from .assign import write_assignments
    for path in write_assignments(ROOT / "reference", ROOT / "assignments", COURSE):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


COMMANDS = {"grade": cmd_grade, "assign": cmd_assign}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, DeviceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
