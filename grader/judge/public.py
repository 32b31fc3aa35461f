"""Public expected values: shipped to students so they can check themselves without the
reference. Hidden cases are never written here.
"""
from __future__ import annotations

import json
from pathlib import Path

from grader.worker import wire
from grader.course.cases import build_cases
from grader.course.loader import STUDENT_COPY_MARK as PUBLIC_FILE  # beside course.toml in a student's copy
from grader.judge.expected import Expected, ReferenceError
from grader.course.spec import Assignment, Case, Check


def build_public(course, device: str = "cpu") -> dict:
    """Expected outputs of every public case, from the reference (run by the instructor)."""
    expected = Expected()
    table: dict = {}
    for a in course:
        for check in a.checks:
            for case in build_cases(a, check, secret="", include_hidden=False):
                value = expected.get(a, check, case, device)
                table.setdefault(a.folder, {}).setdefault(check.name, {})[case.id] = {
                    "seed": case.seed, "expected": wire.to_jsonable(value)}
    return table


class PublicExpected:
    """Same interface as ``reference.Expected``, answered from the shipped table."""

    def __init__(self, path: Path):
        self.table = json.loads(path.read_text()) if path.is_file() else {}
        self.seconds: dict = {}

    def time_of(self, assignment: Assignment, check: Check, case: Case, device: str) -> float:
        """The reference never runs in a student's copy: no time is known."""
        return 0.0

    def get(self, assignment: Assignment, check: Check, case: Case, device: str) -> dict:
        try:
            entry = self.table[assignment.folder][check.name][case.id]
        except KeyError:
            raise ReferenceError(f"no public expected value for {check.name}/{case.id}; "
                                 "is this bundle complete?") from None
        if entry["seed"] != case.seed:
            raise ReferenceError(f"the public cases of {check.name} changed since this bundle "
                                 "was made")
        return wire.from_jsonable(entry["expected"])
