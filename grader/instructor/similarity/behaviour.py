"""Behavioural similarity: students whose code returns the same wrong numbers.

Every wrong output the judge sees is recorded in the gradebook as a signature (its numbers to
nine significant digits, ``compare.signature``). On hidden cases the inputs are fresh random
draws no student has seen, so two independent wrong implementations practically never agree to
1e-9: students who do share their code, or share a mistake. Which of the two it is, the class
tells: a wrong output the catalogue names, or that many students return, is a common mistake (a
teaching point); one that only two students return is evidence worth a look.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

COMMON_SHARE = 0.15
"""A wrong output (or a passage of code) found in at least this share of the class, and in
four students or more, is common: a mistake or an idiom many make, whatever the catalogue
says; a ring of three who share code still stands out."""


@dataclass(frozen=True)
class SharedOutput:
    """One wrong output that several students returned on the same case."""

    test: str
    case: str
    hidden: bool
    students: tuple[str, ...]
    diagnosis: str
    """The catalogued mistake it was diagnosed as, when the grader named one."""
    common: bool
    """Explained by a named mistake or returned by much of the class: not a pair signal."""

    @property
    def weight(self) -> float:
        """What it adds to a pair's score: rare outputs count most, common ones nothing."""
        return 0.0 if self.common else 1.0 / (len(self.students) - 1)


@dataclass
class PairBehaviour:
    shared: list[SharedOutput] = field(default_factory=list)
    both_wrong: int = 0
    """Cases on which both students were wrong (the most they could share)."""

    @property
    def score(self) -> float:
        return sum(s.weight for s in self.shared)

    @property
    def rare(self) -> int:
        return sum(not s.common for s in self.shared)


def common_threshold(class_size: int) -> int:
    return max(4, math.ceil(COMMON_SHARE * class_size))


def shared_outputs(rows, class_size: int, catalogued: frozenset = frozenset()
                   ) -> tuple[list[SharedOutput], dict]:
    """From the gradebook's ``wrong_outputs`` rows: every wrong output shared by two or more
    students (hidden cases only when the class has any), and per pair of students, what they
    share and on how many cases both were wrong. A shared output is common when the course's
    catalogue names its mistake (``catalogued``: known to be made independently) or when many
    students return it; a generic finding ("one component wrong") describes the numbers, not
    a mistake known to be common, and does not make it common by itself."""
    rows = list(rows)
    if any(hidden for _, _, _, hidden, _, _ in rows):
        rows = [r for r in rows if r[3]]
    groups: dict[tuple, set[str]] = defaultdict(set)
    named: dict[tuple, str] = {}
    wrong_on: dict[tuple[str, str], set[str]] = defaultdict(set)
    for student, test, case, hidden, sig, diagnosis in rows:
        groups[(test, case, hidden, sig)].add(student)
        wrong_on[(test, case)].add(student)
        if diagnosis:
            named[(test, case, hidden, sig)] = diagnosis
    threshold = common_threshold(class_size)
    shared = []
    for key, who in groups.items():
        if len(who) < 2:
            continue
        test, case, hidden, _ = key
        diagnosis = named.get(key, "")
        shared.append(SharedOutput(test, case, hidden, tuple(sorted(who)), diagnosis,
                                   common=diagnosis in catalogued or len(who) >= threshold))
    shared.sort(key=lambda s: (-len(s.students), s.test, s.case))
    pairs: dict[tuple[str, str], PairBehaviour] = defaultdict(PairBehaviour)
    for who in wrong_on.values():
        for a, b in combinations(sorted(who), 2):
            pairs[(a, b)].both_wrong += 1
    for s in shared:
        for a, b in combinations(s.students, 2):
            pairs[(a, b)].shared.append(s)
    return shared, dict(pairs)


@dataclass(frozen=True)
class CommonMistake:
    """Students returning the same wrong output on several cases of one test."""

    test: str
    diagnosis: str
    students: tuple[str, ...]
    cases: int


def common_mistakes(shared: list[SharedOutput]) -> list[CommonMistake]:
    """The common shared outputs, one line per test and group of students."""
    grouped: dict[tuple, list[SharedOutput]] = defaultdict(list)
    for s in shared:
        if s.common:
            grouped[(s.test, s.students)].append(s)
    out = [CommonMistake(test, next((s.diagnosis for s in items if s.diagnosis), ""), who,
                         len(items)) for (test, who), items in grouped.items()]
    return sorted(out, key=lambda m: (-len(m.students), m.test))
