"""Checks are data: what an assignment grades, with which inputs, probes and rules.

A course writes its checks with these forms (``<course>/<folder>/checks.py``); the engine
reads them and knows no exercise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Union

import numpy as np

InputMaker = Callable[[np.random.Generator], dict]

KINDS = ("value", "gradient", "trajectory", "fit", "structure", "exact")

PUBLIC_SHARE = 1 / 3
"""The default share of a check's points its public cases carry (hidden cases: the rest).
Public expected values ship with the students' copy (self-check needs them), so a file that
looks them up earns at most this share. A course declares another one per check
(``Check(public_share=...)``), per assignment (``PUBLIC_SHARE = ...`` in its ``checks.py``)
or for the whole course (``public_share = ...`` in ``course.toml``)."""


def valid_share(value, where: str) -> float:
    """A public share, checked: a number from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{where} must be a number from 0 to 1, not {value!r}")
    return float(value)


def valid_tolerance(tol) -> bool:
    """A kind's name, or a pair ``(rtol, atol)`` of finite numbers >= 0."""
    import math
    if isinstance(tol, str):
        return tol in KINDS
    return isinstance(tol, (tuple, list)) and len(tol) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
        for v in tol)


@dataclass(frozen=True)
class Report:
    """One quantity a probe reports: how a student reads its name, and what it means when
    it alone is wrong."""

    label: str
    """Shown where the quantity differs, e.g. ``len(dataset)``."""
    exact: bool = False
    """Compared exactly (counts, orders, flags) rather than within the check's tolerance."""
    hint: str = ""
    """Said when the reference reports True and the student's code False (a property)."""


@dataclass(frozen=True)
class Probe:
    """Trusted code that calls a contract name and describes what it did as plain data.

    The same probe runs on the student's module (in a confined worker) and on the reference
    (in the grader). The engine has generic ones (``grader.course.probes``); a course declares the
    ones only it needs in ``<folder>/probes.py`` with ``grader.course.probes.probe``.
    """

    name: str
    fn: Callable[..., dict] = field(compare=False, repr=False)
    reports: dict = field(default_factory=dict, compare=False, repr=False)
    """key of the probe's output -> Report."""
    module: str = ""
    """Where a course probe lives, as ``<folder>.probes`` inside its course ('' = engine)."""
    derive: Callable[[dict, dict], dict] | None = field(default=None, compare=False, repr=False)
    """``derive(output, inputs) -> dict``: trusted, run only in the grader on what the probe
    returned (the student's and the reference's alike) before they are compared. A probe
    describes; every property that earns points (true/false facts, sizes, orders) is
    computed here, never in the student's process, where it could be forged."""

    def label(self, key: str) -> str:
        report = self.reports.get(key)
        return report.label if report else key

    def exact(self, key: str) -> bool:
        report = self.reports.get(key)
        return bool(report and report.exact)


@dataclass(frozen=True)
class Picture:
    """A picture a check asks for in the report (public cases only). ``kind`` is one the
    engine draws: ``curves`` (each column of the result against the step), ``contours`` (the
    path of two parameters over the contours of ``loss``, and the loss along it) or ``fit``
    (the data and the curve of ``model`` at the final parameters)."""

    kind: str
    loss: Callable | None = None
    """``loss(row, inputs) -> float`` for ``contours``."""
    model: Callable | None = None
    """``model(row, x) -> y`` for ``fit``."""
    data: Callable | None = None
    """``data(inputs) -> (x, y)`` (float arrays) for ``fit``; ``start(inputs)`` below."""
    start: Callable | None = None
    """``start(inputs) -> row``: the starting point of a path, for ``contours``."""
    ylabel: str = "value"
    axes: tuple[str, str] = ("parameter 0", "parameter 1")
    """The names of the two parameters of a ``contours`` picture."""

    def __post_init__(self):
        needs = {"curves": (), "contours": ("loss", "start"), "fit": ("model", "data")}
        if self.kind not in needs:
            raise ValueError(f"unknown picture {self.kind!r} (known: {', '.join(needs)})")
        missing = [k for k in needs[self.kind] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.kind!r} picture needs {', '.join(missing)}")


@dataclass(frozen=True)
class CaseSpec:
    """One way to make inputs for a check."""

    id: str
    """Short name shown to students, e.g. ``notes`` or ``random-2``."""
    make: InputMaker
    """Builds the plain inputs from a seeded generator (trusted code, grader side)."""
    hidden: bool = False
    """Hidden cases draw from the instructor's secret; their inputs are never shown."""


@dataclass(frozen=True)
class FitGoal:
    """How a final fit is judged: the final loss against the reference's, within a margin."""

    loss: Callable[[np.ndarray, dict], float]
    """Loss of one parameter row on the case inputs (trusted code)."""
    rel_margin: float = 0.01
    """Allowed relative excess of the student's final loss over the reference's."""


@dataclass(frozen=True)
class Check:
    """One contract name: how its cases are made, probed, compared and scored."""

    name: str
    points: float
    probe: Union[str, Probe]
    """An engine probe by name (``call``, ``descent``, ``train``, ``module_structure``,
    ``dataset``), or a course's ``Probe``."""
    cases: tuple[CaseSpec, ...]
    kind: str = "value"
    """value, gradient, trajectory, fit, structure or exact: selects the tolerances."""
    timeout: float = 10.0
    """Seconds one case may run in the worker."""
    fit: FitGoal | None = None
    strict_dtype: bool = True
    """False where the contract fixes values but not the dtype they come back in."""
    strict_container: bool = True
    """False where the contract fixes the numbers but not whether they come back as a NumPy
    array or a torch tensor (a trajectory it does not call a tensor): either is accepted,
    with a note."""
    pictures: tuple[Picture, ...] = ()
    """What the HTML report draws for this check's public cases."""
    shares: dict = field(default_factory=dict)
    """Partial credit by quantity: {key of the probe's output: weight}. A case whose every
    wrong quantity has a share earns the weights of the right ones (normalised); a wrong
    quantity without a share, or a crash, earns nothing. Empty: all or nothing."""
    public_share: float | None = None
    """The share of the check's points on its public cases (0 to 1; the hidden cases carry
    the rest). None: the assignment's ``PUBLIC_SHARE``, the course's, or ``PUBLIC_SHARE``."""
    strict_type: bool = False
    """True where the contract says a Python ``int`` or ``float``: every number the reference
    returns as one must come back as exactly that type (a count as an ``int``, a ratio as
    a ``float``), not as the other, a NumPy scalar or a one-element array or tensor. False:
    any number of the right value passes."""
    tolerances: dict = field(default_factory=dict)
    """A tolerance per quantity: {key of the probe's output: a kind (``"value"``,
    ``"gradient"``, ``"trajectory"``, ``"fit"``, ``"structure"``, ``"exact"``) or a pair
    ``(rtol, atol)``, used as given on every device}. The quantities not named are compared
    with ``kind``'s tolerance (or exactly, where the probe's ``Report`` says ``exact``)."""

    @property
    def probe_name(self) -> str:
        return self.probe.name if isinstance(self.probe, Probe) else self.probe

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if self.points <= 0 or not self.cases:
            raise ValueError(f"{self.name}: a check needs points and at least one case")
        if any(not isinstance(w, (int, float)) or w <= 0 for w in self.shares.values()):
            raise ValueError(f"{self.name}: shares must be positive weights")
        if self.public_share is not None:
            valid_share(self.public_share, f"{self.name}: public_share")
        if not isinstance(self.tolerances, dict):
            raise ValueError(f"{self.name}: tolerances must be a dict {{quantity: kind or "
                             "(rtol, atol)}")
        for key, tol in self.tolerances.items():
            if not valid_tolerance(tol):
                raise ValueError(f"{self.name}: tolerances[{key!r}] must be one of "
                                 f"{', '.join(KINDS)} or a pair (rtol, atol) of numbers >= 0, "
                                 f"not {tol!r}")


@dataclass(frozen=True)
class Assignment:
    """One folder of the course and the module students write in it."""

    folder: str
    module: str
    title: str
    points: float
    checks: tuple[Check, ...] = field(default_factory=tuple)
    course_root: Path | None = field(default=None, compare=False)
    """The course folder it was loaded from (its reference, probes and catalogue live there)."""

    @property
    def reference_path(self) -> Path:
        return self.course_root / self.folder / f"{self.module}.py"

    def __post_init__(self):
        total = sum(c.points for c in self.checks)
        if abs(total - self.points) > 1e-9:
            raise ValueError(f"{self.folder}: checks give {total} points, not {self.points}")

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Case:
    """A case made concrete: its seed and its inputs."""

    id: str
    hidden: bool
    seed: int
    inputs: dict


def random_cases(make: InputMaker, notes: InputMaker | None = None, n_public: int = 2,
                 n_hidden: int = 2) -> tuple[CaseSpec, ...]:
    """``notes`` (the course notes' data, if any), ``random-1..n`` and ``hidden-1..n``."""
    specs = [CaseSpec("notes", notes)] if notes else []
    specs += [CaseSpec(f"random-{i + 1}", make) for i in range(n_public)]
    specs += [CaseSpec(f"hidden-{i + 1}", make, hidden=True) for i in range(n_hidden)]
    return tuple(specs)


@dataclass(frozen=True)
class Mistake:
    """One catalogued mistake of a course (its ``mistakes.py``): how to make it from the
    reference, and what to tell a student who made it (``judge.diagnose`` matches it)."""

    folder: str
    target: str
    """The contract name the mistake is made in."""
    name: str
    hint: str
    replace: tuple[tuple[str, str], ...] = ()
    """Textual changes to the reference that make the mistake (output matching)."""
    error: str = ""
    """A regular expression for the error message the mistake raises (error matching)."""
    also: tuple[str, ...] = ()
    """Other names whose outputs carry the mistake (a loop that calls the wrong gradient)."""
