"""Pairs of students ranked by both signals, with the evidence for each."""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from grader.worker.submission import choose, read_folder, source_text
from grader.instructor.similarity.behaviour import (CommonMistake, PairBehaviour, SharedOutput,
                                                    common_mistakes, common_threshold,
                                                    corroboration, shared_outputs)
from grader.instructor.similarity.code import CodeIndex, FileMatch, code_similarity, given_code


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
    behaviour_part: float = 0.0
    """What behaviour adds to ``score`` (the rest is code's)."""

    @property
    def carried_by(self) -> str:
        """Which signal carried the pair: ``code``, ``behaviour``, ``code and behaviour``
        (each at least a quarter of the score), or ``nothing`` (shared mistakes only)."""
        code = self.score - self.behaviour_part
        if self.score <= 0:
            return "nothing"
        if self.behaviour_part < self.score / 4:
            return "code"
        if code < self.score / 4:
            return "behaviour"
        return "code and behaviour"

    def evidence(self) -> str:
        parts = []
        if self.score > 0:
            code = self.score - self.behaviour_part
            parts.append(f"carried by {self.carried_by} (code {code:.2f} + behaviour "
                         f"{self.behaviour_part:.2f})")
        rare = [s for s in self.behaviour.shared if not s.common]
        if rare:
            alone = sum(len(s.students) == 2 for s in rare)
            backed = [s for s in rare if not s.alone]
            tests = sorted({s.test for s in rare})
            line = (f"the same wrong output on {len(rare)} of the {self.behaviour.both_wrong}"
                    f" cases where both are wrong ({alone} returned by no one else; "
                    f"{', '.join(tests)})")
            if backed and corroboration(self.code) == 0:  # a mistake made on their own
                names = sorted({s.diagnosis or "an unnamed mistake" for s in backed})
                most = max(len(s.students) for s in backed)
                line = (f"{len(backed)} wrong outputs of a mistake made on their own, a common mistake "
                        f"({'; '.join(names)}; {most} students, no code in common)")
            elif backed:
                named = sorted({s.diagnosis for s in backed if s.catalogued})
                what = (f"the catalogued {'; '.join(named)}" if named else
                        "a mistake others make too")
                line += (f"; {len(backed)} of them {what}, which counts as far as their code "
                         f"matches ({corroboration(self.code):.0%})")
            parts.append(line)
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
    strongest = max((p.behaviour.score(p.code) for p in pairs), default=0.0)
    for p in pairs:
        b = p.behaviour.score(p.code)
        p.behaviour_part = (b / strongest if strongest else 0.0) / 2
        p.score = p.behaviour_part + p.code / 2
    pairs = [p for p in pairs if p.score > 0 or p.behaviour.shared]
    pairs.sort(key=lambda p: (-p.score, -p.behaviour.score(p.code), p.a, p.b))
    # A mistake others make too, returned by students whose code barely matches: a mistake
    # they made each on their own, listed with the common ones (a pair whose code matches
    # enough for it to count fully is evidence, not a teaching point)
    coded = {(p.a, p.b) for p in pairs if corroboration(p.code) >= 0.5}
    independent = [s for s in shared if not s.common and not s.alone and not any(
        pair in coded for pair in combinations(s.students, 2))]
    return Similarity(students, pairs, shared, common_mistakes(shared, independent), index)
