"""Code similarity: winnowed token fingerprints (the MOSS algorithm), by ``copydetect``.

Code is tokenised first (names become one token, comments and layout vanish), so renaming and
reformatting hide nothing. What every student was given or shown is subtracted before
comparing: the starter stubs and notebooks, code blocks of the course's ``lesson.md``, files in
an assignment's ``notes/`` folder, and any file passed as boilerplate.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.worker.submission import notebook_code, source_code

NOISE = 25
"""Matches shorter than this many tokens are ignored (copydetect's default)."""
GUARANTEE = 30
"""Matches at least this long are always found (copydetect's default)."""
FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)


def _fingerprint(code: str, name: str, boilerplate=None, win_size: int | None = None):
    from copydetect import CodeFingerprint
    return CodeFingerprint(name, NOISE, win_size or GUARANTEE - NOISE + 1,
                           boilerplate=boilerplate, language="python", fp=io.StringIO(code))


def boilerplate_hashes(texts: list[str]) -> np.ndarray:
    """Every k-gram hash of what students were given (window 1: nothing of it is skipped)."""
    hashes: set[int] = set()
    for i, text in enumerate(texts):
        if text.strip():
            hashes |= _fingerprint(text, f"given{i}.py", win_size=1).hashes
    return np.array(sorted(hashes), dtype=np.int64)


def given_code(course, extra: list[Path]) -> dict[str, list[str]]:
    """Per assignment folder, the code every student saw: stub, starter notebook, notes."""
    from grader.course.stubs import stub_files
    stubs = stub_files(course.assignments)
    given: dict[str, list[str]] = {}
    for a in course.assignments:
        texts = [stubs[f"{a.folder}/{a.module}.py"],
                 notebook_code(stubs[f"{a.folder}/{a.module}.ipynb"])]
        folder = a.course_root / a.folder
        lesson = folder / "lesson.md"
        if lesson.is_file():
            texts += FENCE.findall(lesson.read_text())
        notes = folder / "notes"
        if notes.is_dir():
            texts += [source_code(p) for p in sorted(notes.rglob("*"))
                      if p.suffix in (".py", ".ipynb")]
        texts += [source_code(p) for p in extra]
        given[a.folder] = texts
    return given


@dataclass
class FileMatch:
    """The overlap of two students' files of one assignment."""

    folder: str
    tokens: int
    """Tokens of the first file inside a shared region."""
    share_a: float
    share_b: float
    """The share of each file's own (non-given) tokens inside regions the two share and
    few others have."""
    slices_a: np.ndarray
    slices_b: np.ndarray


class CodeIndex:
    """Fingerprints of every student's file of every assignment, given code subtracted."""

    def __init__(self, given: dict[str, list[str]]):
        self.boilerplate = {folder: boilerplate_hashes(texts) for folder, texts in given.items()}
        self.prints: dict[tuple[str, str], object] = {}
        self.folders: dict[str, list[str]] = {}
        """Per student, the assignments they submitted code for (in the order added)."""
        self.own_tokens: dict[tuple[str, str], float] = {}
        """Tokens of each file not given to everyone (before class-common passages are
        dropped): what a share of shared code is a share of."""

    def add(self, student: str, folder: str, code: str) -> None:
        if code.strip():
            fp = _fingerprint(code, f"{student}/{folder}.py", self.boilerplate.get(folder))
            self.prints[(student, folder)] = fp
            self.folders.setdefault(student, []).append(folder)
            self.own_tokens[(student, folder)] = float(fp.token_coverage)

    def code(self, student: str, folder: str) -> str:
        fp = self.prints.get((student, folder))
        return fp.raw_code if fp is not None else ""

    def drop_common(self, threshold: int) -> int:
        """Forget passages found in ``threshold`` or more students' files of an assignment
        (MOSS's ``-m``): an idiom much of the class writes is not a sign that two students
        shared code. Returns how many fingerprints were dropped."""
        from copydetect.utils import get_token_coverage
        common = {key for key, who in self._owners().items() if len(who) >= threshold}
        for (_, folder), fp in self.prints.items():
            drop = {h for h in fp.hashes if (folder, h) in common}
            if drop:
                fp.hashes = fp.hashes - drop
                fp.hash_idx = {h: i for h, i in fp.hash_idx.items() if h not in drop}
                fp.token_coverage = get_token_coverage(fp.hash_idx, fp.k, len(fp.filtered_code))
        return len(common)

    def candidates(self) -> set[tuple[str, str]]:
        """Pairs sharing at least one fingerprint in some assignment (all others share
        nothing and need no comparing)."""
        pairs = set()
        for who in self._owners().values():
            if len(who) > 1:
                who = sorted(who)
                pairs.update((a, b) for i, a in enumerate(who) for b in who[i + 1:])
        return pairs

    def _owners(self) -> dict[tuple[str, int], set[str]]:
        """(assignment, fingerprint) -> the students whose file of it has that fingerprint."""
        owners: dict[tuple[str, int], set[str]] = {}
        for (student, folder), fp in self.prints.items():
            for h in fp.hashes:
                owners.setdefault((folder, h), set()).add(student)
        return owners

    def shared_folders(self, a: str, b: str) -> list[str]:
        """The assignments both students submitted code for."""
        return sorted(f for f in self.folders.get(a, ()) if (b, f) in self.prints)

    def compare(self, a: str, b: str) -> list[FileMatch]:
        from copydetect.detector import compare_files
        out = []
        for folder in self.shared_folders(a, b):
            fa, fb = self.prints[(a, folder)], self.prints[(b, folder)]
            tokens, (share_a, share_b), (sa, sb) = compare_files(fa, fb)
            if tokens:
                own_a, own_b = self.own_tokens[(a, folder)], self.own_tokens[(b, folder)]
                out.append(FileMatch(folder, int(tokens),
                                     float(share_a * fa.token_coverage / own_a) if own_a else 0.0,
                                     float(share_b * fb.token_coverage / own_b) if own_b else 0.0,
                                     np.asarray(sa), np.asarray(sb)))
        return out


def code_similarity(matches: list[FileMatch], index: CodeIndex, a: str, b: str) -> float:
    """The share of the two students' own code (not given, over the assignments both
    submitted) that lies in regions the two share and few others have."""
    total = sum(index.own_tokens[(a, f)] + index.own_tokens[(b, f)]
                for f in index.shared_folders(a, b))
    shared = sum(m.share_a * index.own_tokens[(a, m.folder)] +
                 m.share_b * index.own_tokens[(b, m.folder)] for m in matches)
    return float(shared / total) if total else 0.0


def highlighted(code: str, slices: np.ndarray) -> str:
    """The file as HTML with the shared regions in ``<mark>``."""
    import html
    from copydetect.utils import highlight_overlap
    if slices.size == 0:
        return html.escape(code)
    text, _ = highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)
    return text
