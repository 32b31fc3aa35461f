"""Checks are data: what an assignment grades, with which inputs, probes and rules."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

InputMaker = Callable[[np.random.Generator], dict]

KINDS = ("value", "gradient", "trajectory", "fit", "structure", "exact")


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
    probe: str
    cases: tuple[CaseSpec, ...]
    kind: str = "value"
    """value, gradient, trajectory, fit, structure or exact: selects the tolerances."""
    timeout: float = 10.0
    """Seconds one case may run in the worker."""
    fit: FitGoal | None = None
    strict_dtype: bool = True
    """False where the contract fixes values but not the dtype they come back in."""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if self.points <= 0 or not self.cases:
            raise ValueError(f"{self.name}: a check needs points and at least one case")


@dataclass(frozen=True)
class Assignment:
    """One folder of the course and the module students write in it."""

    folder: str
    module: str
    title: str
    points: float
    checks: tuple[Check, ...] = field(default_factory=tuple)

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
