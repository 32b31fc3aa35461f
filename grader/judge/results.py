"""Results as dataclasses: per case, per check, per assignment, per student; scores derived."""
from __future__ import annotations

from dataclasses import dataclass, field

from grader.course.spec import PUBLIC_SHARE

STATUSES = ("passed", "partial", "wrong", "error", "grader_error", "course_error")
NOT_GRADED = frozenset({"grader_error", "course_error"})
"""Statuses of a case that was not graded: it earns nothing, costs nothing the student did,
is listed for the instructor, and a later run grades it again."""


@dataclass
class CaseResult:
    """The verdict on one case of one check."""

    id: str
    hidden: bool
    seed: int
    status: str
    """passed, partial (a near miss that earns part), wrong, error (the student's code failed:
    crash, timeout, missing name, bad type), grader_error (the grader's machinery failed) or
    course_error (the course's own code failed). The last two are *not graded*: 0 points,
    never charged to the student and never credited either."""
    fraction: float
    """Share of the case's points earned, 0 to 1."""
    message: str = ""
    first_step: int | None = None
    """For trajectories: the first row that leaves the reference."""
    seconds: float | None = None
    hint: str = ""
    """What the mistake probably is, in a TA's words (never a hidden value)."""
    diagnosis: str = ""
    """The catalogued mistake's name, when one matched (for class statistics)."""
    cause: bool = False
    """The hint states a cause its witness reproduced (False: an observation only, or none)."""
    blames: str = ""
    """The other contract name the hint says the mistake is in (checked before it is said)."""
    error_kind: str = ""
    """For an error: missing, not_implemented, memory, exit, timeout or error."""
    line: int | None = field(default=None, repr=False, compare=False)
    """A hidden case's error: the line of the graded file it was raised at (its code is read
    by the grader from that file, never taken from the student's process)."""
    fallback: object = field(default=None, repr=False, compare=False)
    """The generic finding (a ``diagnose.Diagnosis`` or None), said instead when a catalogued
    hint is withdrawn (it blames a name that passes, or other cases contradict it)."""
    signature: str = field(default="", repr=False, compare=False)
    """A wrong output's digest (``compare.signature``): instructor side only, for finding
    students whose code computes the same wrong numbers; never in a student's report."""
    evidence: dict | None = field(default=None, repr=False, compare=False)
    """Public trajectory and fit cases only: what the report's pictures are drawn from."""


@dataclass
class CheckResult:
    """All cases of one contract name."""

    assignment: str
    name: str
    max_score: float
    cases: list[CaseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    public_share: float = PUBLIC_SHARE
    """The share of the points on public cases, split equally between them; the hidden cases
    split the rest (when only one kind ran, it carries all the points)."""

    @property
    def test_name(self) -> str:
        return f"{self.assignment}/{self.name}"

    def weight(self, case: "CaseResult") -> float:
        """The share of the check's points a case carries."""
        hidden = sum(c.hidden for c in self.cases)
        public = len(self.cases) - hidden
        if not hidden or not public:
            return 1.0 / len(self.cases)
        return (1.0 - self.public_share) / hidden if case.hidden else self.public_share / public

    @property
    def score(self) -> float:
        """A case earns its fraction of its weight (``weight``)."""
        if not self.cases:
            return 0.0
        return round(self.max_score * sum(c.fraction * self.weight(c) for c in self.cases), 4)

    @property
    def passed(self) -> bool:
        return all(c.status == "passed" for c in self.cases)



@dataclass
class AssignmentResult:
    folder: str
    module: str
    source: str | None
    """The file that was graded (relative to the student's folder), None when missing."""
    checks: list[CheckResult] = field(default_factory=list)
    note: str = ""
    output: str = ""
    """What the student's code printed (capped)."""

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)


@dataclass
class StudentResult:
    student: str
    device: str
    grader_version: str
    secret_id: str
    assignments: list[AssignmentResult] = field(default_factory=list)
    public_only: bool = False
    seconds: float = 0.0
    cpu: float = 0.0
    """CPU seconds the student's forks used (benchmarks compare it with wall time)."""
    warnings: list[str] = field(default_factory=list)
    submission: dict = field(default_factory=dict)
    """As collected (``Submission.record``): the file graded per assignment and why, and
    what was left out of the folder."""

    @property
    def score(self) -> float:
        return round(sum(a.score for a in self.assignments), 4)

    @property
    def max_score(self) -> float:
        return sum(a.max_score for a in self.assignments)

    def checks(self):
        for a in self.assignments:
            yield from a.checks

    @property
    def grader_errors(self) -> int:
        """Cases not graded (the grader's machinery or the course's code failed; they earn
        nothing): a batch grades such a student again."""
        return sum(c.status in NOT_GRADED for ch in self.checks() for c in ch.cases)
