"""Behavioural similarity: students whose code returns the same wrong numbers.

Every wrong output the judge sees is recorded in the gradebook as a signature (its numbers to
nine significant digits, ``compare.signature``). On hidden cases the inputs are fresh random
draws no student has seen, so two independent wrong implementations practically never agree to
1e-9: students who do share their code, or share a mistake. Which of the two it is, the class
and the code tell:

- a wrong output much of the class returns (``common_threshold``: 15% of the class and never
  fewer than three students) is a common mistake, a teaching point, never a pair signal;
- one that only the two return, and the catalogue does not name, is evidence on its own;
- one the catalogue names, or that a few others return too, is a mistake students make on
  their own: it counts only as far as the two students' code also matches (``corroboration``).
  A catalogued mistake two students alone return *and* whose code matches is evidence (a copied
  wrong solution), not a teaching point; three students who made the same mistake each in
  their own code stay below every pair that shares code.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

COMMON_SHARE = 0.15
"""A wrong output (or a passage of code) found in at least this share of the class is common:
a mistake or an idiom many make, whatever the catalogue says."""
COMMON_AT_LEAST = 3
"""...and in this many students at least: what only two students share is never common,
whatever the size of the section (in a section of 8 or 12, 15% would be one or two)."""
CORROBORATION = 0.25
"""The share of the two students' own code in shared regions at which a mistake others make
too (catalogued, or returned by a few more) counts in full for the pair; below it, in
proportion, and not at all when their code shares nothing."""


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
    """Returned by much of the class, or a catalogued mistake three or more return: a
    teaching point, not a pair signal."""
    catalogued: bool = False
    """Its diagnosis is a mistake of the course's catalogue (known to be made independently)."""

    @property
    def alone(self) -> bool:
        """Only the two return it, and the catalogue does not name it: evidence by itself."""
        return len(self.students) == 2 and not self.catalogued

    def weight(self, code: float = 0.0) -> float:
        """What it adds to the score of a pair whose code similarity is ``code``: an output
        only the two return counts 1; a catalogued one, or one a few others return too,
        counts 1/(k-1) as far as their code matches (``corroboration``); common ones, 0."""
        if self.common:
            return 0.0
        if self.alone:
            return 1.0
        return corroboration(code) / (len(self.students) - 1)


def corroboration(code: float) -> float:
    """How far a pair's shared code backs a shared mistake others make too: 0 to 1."""
    return min(1.0, max(0.0, code) / CORROBORATION)


@dataclass
class PairBehaviour:
    shared: list[SharedOutput] = field(default_factory=list)
    both_wrong: int = 0
    """Cases on which both students were wrong (the most they could share)."""

    def score(self, code: float = 0.0) -> float:
        """The pair's behavioural evidence, given how much of their code matches."""
        return sum(s.weight(code) for s in self.shared)

    @property
    def rare(self) -> int:
        return sum(not s.common for s in self.shared)


def common_threshold(class_size: int) -> int:
    """How many students make a wrong output or a passage of code common: 15% of the class,
    and never fewer than three (8 students: 3; 12: 3; 30: 5; 300: 45)."""
    return max(COMMON_AT_LEAST, math.ceil(COMMON_SHARE * class_size))


def shared_outputs(rows, class_size: int, catalogued: frozenset = frozenset()
                   ) -> tuple[list[SharedOutput], dict]:
    """From the gradebook's ``wrong_outputs`` rows: every wrong output shared by two or more
    students (hidden cases only when the class has any), and per pair of students, what they
    share and on how many cases both were wrong. A shared output is common when many students
    return it (``common_threshold``), or when the course's catalogue names its mistake
    (``catalogued``: known to be made independently) and three or more return it; two alone
    with a catalogued mistake are judged by their code (``SharedOutput.weight``). A generic
    finding ("one component wrong") describes the numbers, not a mistake known to be common,
    and does not make it common by itself."""
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
        known = bool(diagnosis) and diagnosis in catalogued
        shared.append(SharedOutput(test, case, hidden, tuple(sorted(who)), diagnosis,
                                   common=len(who) >= threshold or (known and len(who) > 2),
                                   catalogued=known))
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
    independent: bool = False
    """Not common in the class, but the students who return it share no code: a mistake
    they made each on their own (not catalogued yet)."""


def common_mistakes(shared: list[SharedOutput], independent=()) -> list[CommonMistake]:
    """The common shared outputs, one line per test and group of students; ``independent``:
    shared outputs of three or more students whose code matches nowhere."""
    grouped: dict[tuple, list[SharedOutput]] = defaultdict(list)
    alone = {id(s) for s in independent}
    for s in shared:
        if s.common or id(s) in alone:
            grouped[(s.test, s.students)].append(s)
    out = [CommonMistake(test, next((s.diagnosis for s in items if s.diagnosis), ""), who,
                         len(items), independent=not any(s.common for s in items))
           for (test, who), items in grouped.items()]
    return sorted(out, key=lambda m: (-len(m.students), m.test))
