"""The course's catalogue of mistakes, matched in trusted code (the grader), never in the
student's process.

Each entry of ``<course>/<folder>/mistakes.py`` is a small wrong implementation (a textual
change to the reference) or the signature of an error, with the hint a TA gives. A failing
output is compared with each catalogued mistake's output on the same inputs, through the same
probe; a match shows its hint. The same machinery runs the reference itself on varied inputs
(``variants``): a match there names a cause no catalogue lists.
"""
from __future__ import annotations

import itertools
import re
import threading
import types
import warnings
from pathlib import Path

import numpy as np

from grader.worker import wire
from grader.judge.compare import compare_for, tolerance_for
from grader.course.probes import derived, described_array, resolve, run_probe
from grader.course.spec import Assignment, Case, Check, Mistake
from grader.judge.diagnose.cause import Diagnosis
from grader.judge.diagnose.variants import input_variants

VARIANT_REFERENCE_SECONDS = 1.0
"""Variants are tried only on cases where the reference takes at most this long."""


def diagnosis(mistake: Mistake, name: str) -> Diagnosis:
    """What a catalogued mistake says on ``name``: its own hint, or on another name that
    carries it, where it comes from (to be checked: ``verdict.attribute``)."""
    if name == mistake.target:
        return Diagnosis(mistake.name, mistake.hint)
    return Diagnosis(mistake.name, f"this comes from `{mistake.target}`: {mistake.hint}",
                     mistake.target)


class Diagnoser:
    """Matches failures against each assignment's catalogue (from its course); mistake
    outputs are cached per case."""

    def __init__(self):
        self._modules: dict[tuple, types.ModuleType | None] = {}
        self._outputs: dict[tuple, dict | None] = {}
        self._lock = threading.Lock()

    @staticmethod
    def catalogue(assignment: Assignment) -> tuple[Mistake, ...]:
        if assignment.course_root is None:
            return ()
        from grader.course.loader import load_course
        return load_course(assignment.course_root).mistakes.get(assignment.folder, ())

    def candidates(self, assignment: Assignment, name: str) -> list[Mistake]:
        return [m for m in self.catalogue(assignment)
                if m.target == name or name in m.also]

    def from_error(self, assignment: Assignment, check: Check, error: dict) -> Diagnosis | None:
        text = f"{error.get('type', '')}: {error.get('message', '')}"
        for m in self.candidates(assignment, check.name):
            if m.error and re.search(m.error, text):
                return diagnosis(m, check.name)
        return None

    def from_output(self, assignment: Assignment, check: Check, case: Case, actual: dict,
                    device: str, expected: dict | None = None) -> Diagnosis | None:
        """The catalogued mistake whose output on ``case`` is the student's. One that gives
        the reference's output here (``expected``, as the judge has it) explains nothing on
        this case: the student's output then differs from it for another reason."""
        for m in self.candidates(assignment, check.name):
            if not m.replace:
                continue
            out = self._output(assignment, check, case, m, device)
            if out is None or not self._same(check, actual, out, device) or \
                    (expected is not None and self._same(check, out, expected, device)):
                continue
            return diagnosis(m, check.name)
        return None

    @staticmethod
    def _same(check: Check, a: dict, b: dict, device: str) -> bool:
        """Whether two outputs are alike as the check judges them (its dtype, container,
        exact-type and per-quantity rules): a witness is held to the verdict's own terms."""
        return compare_for(check, a, b, device, equal_nan=True, reveal=False).passed

    def from_variants(self, assignment: Assignment, check: Check, case: Case, actual: dict,
                      device: str, reference_seconds: float = 0.0) -> Diagnosis | None:
        """The reference on varied inputs (``variants``): a match names the cause. Not tried
        where the reference itself takes over ``VARIANT_REFERENCE_SECONDS`` on the case (a
        dozen re-runs of a long fit would cost more than the hint is worth); the rule
        depends on the case alone, so every student with the same output gets the same hint."""
        for variant in _variants(case, reference_seconds):
            out = self._output(assignment, check, case, None, device, variant)
            if out is None:
                continue
            if self._same(check, actual, out, device):
                return Diagnosis(variant.name, variant.hint)
            if variant.scale != 1.0 and _scaled(actual, out, variant.scale, check.kind, device):
                return Diagnosis(variant.name, variant.hint + "; the values you record are "
                                 "sums as well (each is that many times the mean)")
        return None

    def warm(self, assignment: Assignment, check: Check, case: Case, device: str,
             reference_seconds: float = 0.0) -> None:
        """Compute every output a failure of this case could be compared with (the
        catalogue's mistakes, the reference on each variant), e.g. for a bundle."""
        for m in self.candidates(assignment, check.name):
            if m.replace:
                self._output(assignment, check, case, m, device)
        for variant in _variants(case, reference_seconds):
            self._output(assignment, check, case, None, device, variant)

    def export(self, start: int = 0) -> list[list]:
        """The outputs computed so far as plain data: [folder, mistake target, mistake name,
        check, case id, seed, device, variant, JSON or None]; from the ``start``-th one on
        (they are kept in the order they were computed: a cluster's worker sends the driver
        only what it computed since it last sent)."""
        with self._lock:
            return [[k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8],
                     None if v is None else wire.dumps(v).decode()]
                    for k, v in itertools.islice(self._outputs.items(), start, None)]

    def computed(self) -> int:
        """How many outputs it holds (``export``'s ``start`` for what comes after them)."""
        with self._lock:
            return len(self._outputs)

    def preload(self, rows: list, course_root: Path) -> None:
        """Take outputs ``export`` gave, for the course now at ``course_root``."""
        with self._lock:
            for folder, target, name, check, case_id, seed, device, variant, text in rows:
                key = (str(course_root), folder, target, name, check, case_id, seed, device,
                       variant)
                self._outputs[key] = None if text is None else wire.loads(text)

    def _output(self, assignment, check, case, mistake, device, variant=None) -> dict | None:
        """The probe's output for a catalogued mistake (or the reference, ``mistake=None``),
        on the case's inputs or on a variant of them; None where it fails."""
        key = (str(assignment.course_root), assignment.folder,
               mistake.target if mistake else "", mistake.name if mistake else "",
               check.name, case.id, case.seed, device, variant.name if variant else "")
        with self._lock:
            if key not in self._outputs:
                module = self._module(assignment, mistake)
                inputs = variant.inputs if variant else case.inputs
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")  # a wrong loop may well overflow
                        raw = run_probe(module, resolve(check.probe), check.name,
                                        inputs, device, case.seed) if module else None
                    # Derived like the student's output it is compared with (judge.py).
                    self._outputs[key] = derived(resolve(check.probe), wire.loads(
                        wire.dumps(raw)), inputs) if raw else None
                except Exception:  # a mistake that crashes on this case cannot match it
                    self._outputs[key] = None
            return self._outputs[key]

    def _module(self, assignment: Assignment, mistake: Mistake | None):
        """The reference with a mistake's textual changes made (none: the reference)."""
        key = (str(assignment.course_root), assignment.folder, mistake)
        if key not in self._modules:
            from grader.course.loader import strip_markers
            source = strip_markers(assignment.reference_path.read_text())
            for old, new in (mistake.replace if mistake else ()):
                if old not in source:
                    self._modules[key] = None
                    return None
                source = source.replace(old, new)
            module = types.ModuleType(f"_mistake_{assignment.module}")
            module.__file__ = f"<mistake: {mistake.name}>" if mistake else "<reference>"
            exec(compile(source, module.__file__, "exec"), module.__dict__)
            self._modules[key] = module
        return self._modules[key]


def _variants(case: Case, reference_seconds: float) -> list:
    """The variations tried on a case: none where the reference takes over
    ``VARIANT_REFERENCE_SECONDS`` on it, or where its inputs have a shape none knows."""
    if reference_seconds > VARIANT_REFERENCE_SECONDS:
        return []
    try:
        return input_variants(case.inputs, case.hidden)
    except Exception:
        return []


def _scaled(actual: dict, out: dict, scale: float, kind: str, device: str) -> bool:
    """The student's result is ``scale`` times the output (a summed, recorded loss)."""
    a, v = described_array(actual.get("result")), described_array(out.get("result"))
    if a is None or v is None or a.shape != v.shape:
        return False
    tol = tolerance_for(kind, "float32", device)  # sums of float32 losses round differently
    with np.errstate(all="ignore"):  # a diverging path overflows: simply no match
        return bool(np.all(np.abs(a - scale * v) <=
                           tol.atol * scale + tol.rtol * np.abs(scale * v)))
