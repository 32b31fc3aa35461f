"""Expected values: the same probes run on the reference modules, in the grader (trusted)."""
from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

from . import wire
from .probes import resolve, run_probe
from .spec import Assignment, Case, Check


class ReferenceError(RuntimeError):
    """The reference failed on a case: a grader bug, never charged to the student."""


class Expected:
    """Computes and caches the reference's probe outputs per (assignment, check, case, device)."""

    def __init__(self):
        self._modules: dict[Path, object] = {}
        self._cache: dict[tuple, dict] = {}
        self.seconds: dict[tuple, float] = {}
        """How long the reference took per case: the base of adaptive time limits."""
        self._lock = threading.Lock()

    def module(self, assignment: Assignment):
        path = assignment.reference_path
        if path not in self._modules:
            name = f"_reference_{abs(hash(str(path)))}_{assignment.module}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            self._modules[path] = module
        return self._modules[path]

    def export(self) -> list[tuple]:
        """Every value computed so far as plain data, for another trusted process (a cluster
        worker) that grades the same course: (folder, check, case id, seed, device, JSON,
        seconds)."""
        with self._lock:
            return [(k[1], k[2], k[3], k[4], k[5], wire.dumps(v), self.seconds.get(k, 0.0))
                    for k, v in self._cache.items()]

    def preload(self, rows: list[tuple], course_root: Path) -> None:
        """Take values ``export`` gave, for the course now at ``course_root``."""
        with self._lock:
            for folder, check, case_id, seed, device, text, seconds in rows:
                key = (str(course_root), folder, check, case_id, seed, device)
                self._cache[key] = wire.loads(text)
                self.seconds[key] = seconds

    @staticmethod
    def key(assignment: Assignment, check: Check, case: Case, device: str) -> tuple:
        return (str(assignment.course_root), assignment.folder, check.name, case.id, case.seed,
                device)

    def time_of(self, assignment: Assignment, check: Check, case: Case, device: str) -> float:
        """How long the reference took on the case (0 when it has not run here)."""
        return self.seconds.get(self.key(assignment, check, case, device), 0.0)

    def get(self, assignment: Assignment, check: Check, case: Case, device: str) -> dict:
        key = self.key(assignment, check, case, device)
        with self._lock:
            if key not in self._cache:
                try:
                    module = self.module(assignment)
                    started = time.perf_counter()
                    raw = run_probe(module, resolve(check.probe), check.name, case.inputs,
                                    device, case.seed)
                    self.seconds[key] = time.perf_counter() - started
                    # The same plain-data round trip as a worker's output.
                    self._cache[key] = wire.loads(wire.dumps(raw))
                except Exception as exc:
                    raise ReferenceError(f"the reference failed on {check.name}/{case.id}: "
                                         f"{type(exc).__name__}: {exc}") from exc
            return self._cache[key]
