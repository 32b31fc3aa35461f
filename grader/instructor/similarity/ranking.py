"""Pairs of students ranked by both signals, with the evidence for each."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...submission import choose, read_folder, source_text
from .behaviour import (CommonMistake, PairBehaviour, SharedOutput, common_mistakes,
                        common_threshold, shared_outputs)
from .code import CodeIndex, FileMatch, code_similarity, given_code


@dataclass
class Pair:
    a: str
    b: str
    behaviour: PairBehaviour
    code: float
    """Share of their own code in shared regions, 0 to 1."""
    matches: list[FileMatch] = field(default_factory=list)
    score: float = 0.0
    """Both signals together, 0 to 1: the mean of code and behaviour (relative to the class's
    strongest behavioural pair)."""

    def evidence(self) -> str:
        parts = []
        rare = [s for s in self.behaviour.shared if not s.common]
        if rare:
            alone = sum(len(s.students) == 2 for s in rare)
            tests = sorted({s.test for s in rare})
            parts.append(f"the same wrong output on {len(rare)} of the {self.behaviour.both_wrong}"
                         f" cases where both are wrong ({alone} returned by no one else; "
                         f"{', '.join(tests)})")
        common = [s for s in self.behaviour.shared if s.common]
        if common:
            names = sorted({s.diagnosis or "an unnamed mistake" for s in common})
            most = max(len(s.students) for s in common)
            parts.append(f"{len(common)} wrong outputs that many share: a common mistake "
                         f"({'; '.join(names)}; up to {most} students)")
        if self.code >= 0.005:
            parts.append(f"{self.code:.0%} of their own code in shared regions ("
                         + ", ".join(f"{m.folder} {max(m.share_a, m.share_b):.0%}"
                                     for m in self.matches) + ")")
        return "; ".join(parts) or "nothing shared"


@dataclass
class Similarity:
    students: list[str]
    pairs: list[Pair]
    shared: list[SharedOutput]
    common: list[CommonMistake]
    index: CodeIndex


def rank(course, wrong_rows, students: list[str], submissions: Path,
         boilerplate: list[Path] = ()) -> Similarity:
    """Every pair with anything in common, most similar first."""
    catalogued = frozenset(m.name for found in course.mistakes.values() for m in found)
    shared, behaviour = shared_outputs(wrong_rows, len(students), catalogued)
    index = CodeIndex(given_code(course, list(boilerplate)))
    for name in students:
        if not (submissions / name).is_dir():
            continue
        snapshot = read_folder(submissions / name)  # read, never followed
        for a in course.assignments:
            rel = choose(snapshot, a)[0]
            if rel is not None:
                index.add(name, a.folder, source_text(snapshot.files[rel][0],
                                                      rel.endswith(".ipynb")))
    index.drop_common(common_threshold(len(students)))
    keys = {k for k, v in behaviour.items() if v.shared} | index.candidates()
    pairs = []
    for a, b in sorted(keys):
        matches = index.compare(a, b)
        pairs.append(Pair(a, b, behaviour.get((a, b), PairBehaviour()),
                          code_similarity(matches, index, a, b), matches))
    strongest = max((p.behaviour.score for p in pairs), default=0.0)
    for p in pairs:
        p.score = ((p.behaviour.score / strongest if strongest else 0.0) + p.code) / 2
    pairs = [p for p in pairs if p.score > 0 or p.behaviour.shared]
    pairs.sort(key=lambda p: (-p.score, -p.behaviour.score, p.a, p.b))
    return Similarity(students, pairs, shared, common_mistakes(shared), index)
